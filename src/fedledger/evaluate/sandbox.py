"""The sandbox process: run one model on prepared inputs under resource limits.

Started as `python -I <this file>` so that it imports nothing from the working directory or
from fedledger, only the standard library, numpy and onnxruntime. It imports those first
(their start-up overlaps the parent's static checks), then reads one JSON request from stdin,
applies RLIMIT_AS and RLIMIT_CPU, loads the model, runs it and writes each output to
`<workdir>/output-<i>.npy`. The last line of stdout is a JSON result.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

_MEMORY_WORDS = ("bad_alloc", "failed to allocate", "out of memory", "memoryerror")


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # The soft limit sends SIGXCPU; the hard limit one second later sends SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run(request: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(request["workdir"])
    _limit(int(request["memory_bytes"]), int(request["cpu_seconds"]))
    started = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(request["threads"])
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    session = ort.InferenceSession(
        request["model"], sess_options=options, providers=["CPUExecutionProvider"]
    )
    loaded = time.perf_counter()
    feeds = {name: np.load(path, allow_pickle=False) for name, path in request["inputs"].items()}
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


def main() -> int:
    request = json.loads(sys.stdin.readline())
    try:
        result = _run(request)
    except MemoryError:
        result = {"ok": False, "kind": "memory", "error": "MemoryError"}
    except Exception as exc:  # anything the model makes onnxruntime raise is a model fault
        text = f"{type(exc).__name__}: {exc}"
        kind = "memory" if any(w in text.lower() for w in _MEMORY_WORDS) else "runtime"
        result = {"ok": False, "kind": kind, "error": text[:2000]}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
