"""The parent side of the fork server: one zygote process per Evaluator, one child per model.

The zygote (`python -I sandbox.py --zygote FD`, see sandbox.py) pays for the numpy and
onnxruntime imports once; each evaluation then costs a fork. Every model still runs in a fresh
process of its own, under its own rlimits, and its crash, memory or CPU-limit kill ends that
child only. Sockets, all AF_UNIX socket pairs made here:
- control (SOCK_SEQPACKET): commands to the zygote, "fork" carrying the two sockets below;
- request (SOCK_STREAM): one JSON line to the child, its JSON result back; the zygote closes
  its copy at once, so the child is the only other end;
- status (SOCK_SEQPACKET): from the zygote only, the child's pid then its wait status. What
  the model's process says about itself is read from the request socket; how it ended comes
  from the zygote, which the model cannot reach.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from fedledger.evaluate import sandbox
from fedledger.evaluate.errors import EvaluatorError
from fedledger.evaluate.limits import Budget, SandboxLimits
from fedledger.evaluate.runner import (
    SandboxResult,
    cpu_seconds_of,
    interpret,
    request_line,
    starved,
)

START_SECONDS = 60.0  # imports on a loaded machine; not part of any evaluation's wall clock
ANSWER_SECONDS = 10.0  # the zygote answers a fork or a kill at once: it does nothing else
EXIT_GRACE_SECONDS = 2.0  # from closing its socket to being reported as exited
# One OpenBLAS/OpenMP thread and no onnxruntime telemetry keep the zygote single-threaded
# (onnxruntime 1.32's telemetry starts a thread and opens a SQLite file at import), so a fork
# copies no lock held by another thread. The zygote refuses to serve if it has more threads.
# glibc.malloc.hugetlb=1: malloc asks for transparent huge pages, so a new child fills its
# fresh heap with ~1,300 page faults instead of ~15,000 (LogisticRegression on 100k rows:
# 20 ms less, the cost of a new process's memory that a warm one has already touched).
SANDBOX_ENVIRONMENT = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "ORT_DISABLE_TELEMETRY": "1",
    "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
}
# Everything else in the caller's environment (credentials included) stays out of the sandbox.
KEPT_ENVIRONMENT = ("PATH", "LD_LIBRARY_PATH", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE")


class ZygoteGoneError(EvaluatorError):
    """The zygote process ended: start a new one."""


def zygote_environment() -> dict[str, str]:
    kept = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
    return {**kept, **SANDBOX_ENVIRONMENT}


class Zygote:
    """A started zygote; `fork()` waits until it has imported onnxruntime."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Closed by _stop with the process (a file, not a pipe: nobody reads it until it fails).
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        command = [
            sys.executable,
            "-I",  # no PYTHONPATH, no user site, no script directory on sys.path
            str(Path(sandbox.__file__).resolve()),
            "--zygote",
            str(theirs.fileno()),
        ]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._log,
                pass_fds=(theirs.fileno(),),
                env=zygote_environment(),
                start_new_session=True,  # its own process group: killpg ends it and its children
            )
        except OSError as exc:
            ours.close()
            self._log.close()
            raise EvaluatorError(f"cannot start the sandbox zygote: {exc}") from exc
        finally:
            theirs.close()
        self._control = ours
        self._control.settimeout(ANSWER_SECONDS)
        self._ready = False
        # The ready message comes once: evaluations starting together must not all wait for it.
        self._ready_lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _stop, self.process, ours, self._log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        """Without reaping it (WNOWAIT): until close() reaps it, its pid, and so its process
        group id, cannot be reused, and killpg in close() reaches its orphaned children."""
        if self.process.returncode is not None:
            return False
        try:
            ended = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return ended is None

    def _ended_within(self, seconds: float) -> bool:
        """A zygote that closed its socket is exiting; give the exit a moment to show."""
        deadline = time.monotonic() + seconds
        while self.alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._finalizer()

    def fork(self, limits: SandboxLimits) -> ForkedSandbox:
        """A new child waiting for its request. ZygoteGoneError if the zygote has ended."""
        self._wait_ready()
        request, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            socket.send_fds(
                self._control, [b'{"op": "fork"}'], [child_end.fileno(), zygote_end.fileno()]
            )
            status.settimeout(ANSWER_SECONDS)
            answer = _message(status.recv(sandbox.MAX_MESSAGE))
        except OSError as exc:
            request.close()
            status.close()
            raise ZygoteGoneError(f"the sandbox zygote did not fork: {exc}") from None
        finally:
            child_end.close()
            zygote_end.close()
        if "pid" not in answer:
            request.close()
            status.close()
            raise ZygoteGoneError(f"the sandbox zygote (pid {self.pid}) ended{self._stderr()}")
        return ForkedSandbox(self, ForkedProcess(int(answer["pid"]), status), request, limits)

    def kill_child(self, pid: int) -> None:
        # If the zygote is gone, sending fails and the child's status socket says so.
        with contextlib.suppress(OSError):
            self._control.send(json.dumps({"op": "kill", "pid": pid}).encode())

    def _wait_ready(self) -> None:
        with self._ready_lock:
            self._wait_ready_once()

    def _wait_ready_once(self) -> None:
        if self._ready:
            return
        self._control.settimeout(START_SECONDS)
        try:
            answer = _message(self._control.recv(sandbox.MAX_MESSAGE))
        except OSError:
            answer = {}
        self._control.settimeout(ANSWER_SECONDS)
        if not answer.get("ready"):
            stderr = self._stderr()
            ended = self._ended_within(EXIT_GRACE_SECONDS)
            self.close()
            if ended:
                raise EvaluatorError(
                    f"the sandbox zygote exited with status {self.process.returncode} before "
                    f"it was ready{stderr}"
                )
            raise EvaluatorError(
                f"the sandbox zygote did not start within {START_SECONDS:g} s{stderr}"
            )
        if answer.get("threads") != 1:
            self.close()
            raise EvaluatorError(
                f"the sandbox zygote runs {answer.get('threads')} threads after importing "
                "numpy and onnxruntime, and forking it could deadlock a child: find what "
                "starts a thread at import (see SANDBOX_ENVIRONMENT in evaluate/zygote.py)"
            )
        self._ready = True

    def _stderr(self) -> str:
        try:
            self._log.seek(0)
            text = self._log.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        return f": {text[-500:]}" if text else ""


def _stop(process: subprocess.Popen[bytes], control: socket.socket, log: IO[bytes]) -> None:
    if process.returncode is None:
        # Not yet reaped, so its process group id still names it and its children only.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    control.close()
    log.close()


def _message(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data) if data else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class ForkedProcess:
    """A zygote's child as the evaluator sees it: its pid and, once reaped, its exit code
    (negative: the signal that killed it), as subprocess.Popen reports them."""

    def __init__(self, pid: int, status: socket.socket) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._status = status

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(TimeoutError):
                self.wait(0)
        return self.returncode

    def wait(self, timeout: float) -> int:
        """TimeoutError if still running after `timeout`; ZygoteGoneError if its zygote ended
        (the child may live on)."""
        if self.returncode is not None:
            return self.returncode
        self._status.settimeout(timeout)
        try:
            data = self._status.recv(sandbox.MAX_MESSAGE)
        except TimeoutError:
            raise
        except BlockingIOError:  # timeout 0 makes the socket non-blocking
            raise TimeoutError from None
        except OSError as exc:
            raise ZygoteGoneError(f"lost the sandbox zygote: {exc}") from None
        answer = _message(data)
        if "status" not in answer:
            raise ZygoteGoneError("the sandbox zygote ended before its child")
        self.returncode = os.waitstatus_to_exitcode(int(answer["status"]))
        return self.returncode

    def close(self) -> None:
        self._status.close()


class ForkedSandbox:
    """One forked child for one evaluation."""

    def __init__(
        self,
        zygote: Zygote,
        process: ForkedProcess,
        request: socket.socket,
        limits: SandboxLimits,
    ) -> None:
        self.zygote = zygote
        self.process = process
        self.limits = limits
        self._request = request

    def run(
        self,
        model: Path,
        inputs: dict[str, Path],
        outputs: Sequence[str],
        workdir: Path,
        budget: Budget,
    ) -> SandboxResult:
        """Run one inference in the forked child. Raises SandboxStarvedError past the wall-
        clock backstop, EvaluatorError when the child's status cannot be read, or what
        `interpret` raises.
        """
        line = request_line(self.limits, budget, model, inputs, outputs, workdir)
        with contextlib.suppress(OSError):  # the child is already gone: its status says how
            self._request.sendall(line.encode())
        started = time.monotonic()
        try:
            code = self.process.wait(budget.wall_seconds)
        except TimeoutError:
            used = cpu_seconds_of(self.process.pid)
            self.kill()
            raise starved(budget, used) from None
        except ZygoteGoneError:
            self.zygote.close()  # takes the orphaned child with it (same process group)
            raise EvaluatorError(
                f"the sandbox zygote (pid {self.zygote.pid}) ended during the evaluation, "
                f"after {time.monotonic() - started:.3g} s; the next evaluation starts a new one"
            ) from None
        return interpret(code, self._answer(), _log_tail(workdir), self.limits, budget)

    def terminate(self) -> None:
        # Only asks the zygote (which alone may signal it before reaping it): the thread in
        # run() then receives the child's status and returns.
        if self.process.returncode is None:
            self.zygote.kill_child(self.process.pid)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.zygote.kill_child(self.process.pid)
            try:
                self.process.wait(ANSWER_SECONDS)
            except (TimeoutError, ZygoteGoneError):
                self.zygote.close()  # a zygote that cannot kill its child is of no more use
        self._request.close()
        self.process.close()

    def _answer(self) -> str:
        """The child's result: it wrote it before exiting, so it is all there, or never."""
        self._request.setblocking(False)
        chunks = []
        try:
            while chunk := self._request.recv(sandbox.MAX_MESSAGE):
                chunks.append(chunk)
        except OSError:  # BlockingIOError: nothing more was written
            pass
        return b"".join(chunks).decode(errors="replace")


def _log_tail(workdir: Path) -> str:
    try:
        with (workdir / sandbox.LOG_NAME).open("rb") as log:
            log.seek(max(0, os.fstat(log.fileno()).st_size - 2000))
            return log.read().decode(errors="replace")
    except OSError:
        return ""
