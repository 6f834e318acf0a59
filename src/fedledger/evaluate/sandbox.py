"""The sandbox: run one model on prepared inputs, in a process of its own, under resource limits.

Runs as `python -I <this file>`, so it imports nothing from the working directory or from
fedledger: only the standard library, numpy and onnxruntime. Two modes:

- `--zygote FD`: a fork server. It imports numpy and onnxruntime once, warms onnxruntime up on
  a one-node model of its own (a one-thread session, dropped before any fork), checks that it
  is still single-threaded (ORT_DISABLE_TELEMETRY=1 and one OpenBLAS thread, set by the
  parent, keep it so), then serves commands on the Unix socket FD. `fork`, with two sockets
  passed along, forks one child per evaluation: the child keeps only the request socket, waits
  for its request (one JSON line), answers with the JSON result and exits; the zygote keeps the
  status socket, answers the child's pid and, when it reaps the child, its wait status. `kill`
  kills one of its children by pid (not yet reaped by the zygote, so not reused). On end of
  file on FD (the evaluator closed or died) it kills its children and exits. No model it is
  sent ever runs in the zygote itself.
- no argument: one-shot, one JSON request on stdin and the JSON result as the last line of
  stdout (for `Evaluator(sandbox_command=...)`).

A request is applied the same way in both: RLIMIT_AS, RLIMIT_CPU and no core dumps first, then
the session, the run, and each output written to `<workdir>/output-<i>.npy`.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

_MEMORY_WORDS = ("bad_alloc", "failed to allocate", "out of memory", "memoryerror")
# y = Identity(x), x and y float[1], opset 17, IR 8 (tests rebuild it with onnx.helper).
WARM_UP_MODEL = (
    b'\x08\x08::\n\x10\n\x01x\x12\x01y"\x08Identity\x12\x04warmZ\x0f\n\x01x\x12\n\n'
    b"\x08\x08\x01\x12\x04\n\x02\x08\x01b\x0f\n\x01y\x12\n\n\x08\x08\x01\x12\x04\n\x02"
    b"\x08\x01B\x04\n\x00\x10\x11"
)
MAX_MESSAGE = 1 << 16
LOG_NAME = "sandbox.log"


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # The soft limit sends SIGXCPU; the hard limit one second later sends SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _session(model: str | bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _run(request: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(request["workdir"])
    _limit(int(request["memory_bytes"]), int(request["cpu_seconds"]))
    started = time.perf_counter()
    session = _session(request["model"], int(request["threads"]))
    loaded = time.perf_counter()
    # Mapped, not read: the holdout's pages come from the page cache, no copy, no fresh memory.
    feeds = {
        name: np.load(path, mmap_mode="r", allow_pickle=False)
        for name, path in request["inputs"].items()
    }
    outputs = session.run(list(request["outputs"]), feeds)
    ran = time.perf_counter()
    paths = []
    for i, value in enumerate(outputs):
        path = workdir / f"output-{i}.npy"
        np.save(path, np.asarray(value), allow_pickle=False)
        paths.append(str(path))
    return {
        "ok": True,
        "outputs": paths,
        "session_seconds": loaded - started,
        "run_seconds": ran - loaded,
    }


def _result(request: dict[str, Any]) -> dict[str, Any]:
    try:
        return _run(request)
    except MemoryError:
        return {"ok": False, "kind": "memory", "error": "MemoryError"}
    except Exception as exc:  # anything the model makes onnxruntime raise is a model fault
        text = f"{type(exc).__name__}: {exc}"
        kind = "memory" if any(w in text.lower() for w in _MEMORY_WORDS) else "runtime"
        return {"ok": False, "kind": kind, "error": text[:2000]}


def one_shot() -> int:
    request = json.loads(sys.stdin.readline())
    sys.stdout.write(json.dumps(_result(request)) + "\n")
    sys.stdout.flush()
    return 0


# --- fork server ----------------------------------------------------------------------------


def _child(channel: socket.socket) -> None:
    """In the forked child: wait for the request, answer on the same socket, never return."""
    status = 70
    try:
        line = channel.makefile("rb").readline()
        if line:
            request = json.loads(line)
            log = os.open(
                Path(request["workdir"]) / LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
            )
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
            channel.sendall(json.dumps(_result(request)).encode())
        status = 0
    finally:
        os._exit(status)


def _fork(channel: socket.socket) -> int:
    pid = os.fork()
    if pid == 0:
        # Keep stdin/stdout/stderr and the request socket; drop the zygote's sockets, its
        # selector and every other child's status socket.
        keep = channel.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        _child(channel)
    return pid


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    # Failing means the evaluator gave up on this child (timeout, close): nobody to tell.
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def _warm_up() -> None:
    """One session on a one-node model, run once and dropped: onnxruntime's process-wide
    set-up (kernel registries, allocators: ~6 ms) is then done here once, not in every child.
    With one intra-op thread it starts no thread, and serve() checks that after it."""
    session = _session(WARM_UP_MODEL, 1)
    session.run(None, {"x": np.zeros(1, dtype=np.float32)})


def serve(control: socket.socket) -> int:
    _warm_up()
    threads = len(list(Path("/proc/self/task").iterdir()))
    _send(control, {"ready": True, "pid": os.getpid(), "threads": threads})
    if threads != 1:
        return 3  # forking a multi-threaded process could deadlock the child: refuse
    children: dict[int, tuple[int, socket.socket]] = {}  # pid -> (pidfd, status socket)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, None)
    try:
        while True:
            for key, _ in selector.select():
                if key.data is None:
                    if not _command(control, children, selector):
                        return 0
                else:
                    _reap(key.data, children, selector)
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)


def _command(
    control: socket.socket,
    children: dict[int, tuple[int, socket.socket]],
    selector: selectors.BaseSelector,
) -> bool:
    data, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 2)
    if not data:
        return False
    command = json.loads(data)
    if command["op"] == "fork":
        channel, status = (socket.socket(fileno=fd) for fd in fds)
        pid = _fork(channel)
        channel.close()
        pidfd = os.pidfd_open(pid)
        children[pid] = (pidfd, status)
        selector.register(pidfd, selectors.EVENT_READ, pid)
        _send(status, {"pid": pid})
    elif command["op"] == "kill" and int(command["pid"]) in children:
        os.kill(int(command["pid"]), signal.SIGKILL)
    return True


def _reap(
    pid: int, children: dict[int, tuple[int, socket.socket]], selector: selectors.BaseSelector
) -> None:
    pidfd, status = children.pop(pid)
    selector.unregister(pidfd)
    os.close(pidfd)
    _, wait_status = os.waitpid(pid, 0)
    _send(status, {"pid": pid, "status": wait_status})
    status.close()


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--zygote"]:
        return serve(socket.socket(fileno=int(argv[2])))
    return one_shot()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
