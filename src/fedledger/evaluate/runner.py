"""The parent side of a one-shot sandbox process, and what every sandbox's end means."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fedledger.evaluate import sandbox
from fedledger.evaluate.errors import (
    EvaluatorError,
    InferenceFailedError,
    ResourceLimitError,
    SandboxStarvedError,
)
from fedledger.evaluate.limits import Budget, SandboxLimits
from fedledger.evaluate.reasons import public_text

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def default_command() -> list[str]:
    # -I: no PYTHONPATH, no user site, no script directory on sys.path.
    return [sys.executable, "-I", str(Path(sandbox.__file__).resolve())]


@dataclass(frozen=True)
class SandboxResult:
    outputs: tuple[Path, ...]
    session_seconds: float
    run_seconds: float


def request_line(
    limits: SandboxLimits,
    budget: Budget,
    model: Path,
    inputs: dict[str, Path],
    outputs: Sequence[str],
    workdir: Path,
) -> str:
    request = {
        "model": str(model),
        "inputs": {name: str(path) for name, path in inputs.items()},
        "outputs": list(outputs),
        "workdir": str(workdir),
        "memory_bytes": limits.memory_bytes,
        "cpu_seconds": budget.cpu_seconds,
        "threads": limits.threads,
    }
    return json.dumps(request) + "\n"


class Sandbox(Protocol):
    """One sandbox process serving exactly one evaluation."""

    def run(
        self,
        model: Path,
        inputs: dict[str, Path],
        outputs: Sequence[str],
        workdir: Path,
        budget: Budget,
    ) -> SandboxResult: ...

    def terminate(self) -> None:
        """Kill the process from any thread; `run` then returns or raises at once."""

    def kill(self) -> None: ...


def cpu_seconds_of(pid: int) -> float | None:
    """The CPU time (user + system) a live process has used, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def starved(budget: Budget, cpu_used: float | None) -> SandboxStarvedError:
    """The error for a sandbox ended by its wall backstop before it used its CPU budget."""
    used = "?" if cpu_used is None else f"{cpu_used:.1f}"
    return SandboxStarvedError(
        f"the sandbox used {used} s of its {budget.cpu_seconds} s CPU budget within the "
        f"{budget.wall_seconds:g} s wall-clock backstop: this machine is too busy to give it "
        "the CPU; the evaluation is retried"
    )


class SandboxProcess:
    """One process started for one evaluation, from `sandbox_command` (one-shot protocol).
    Start it early: it imports onnxruntime while we check."""

    def __init__(self, limits: SandboxLimits, command: Sequence[str] | None = None) -> None:
        self.limits = limits
        try:
            self.process = subprocess.Popen(
                list(command or default_command()),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise EvaluatorError(f"cannot start the sandbox process: {exc}") from exc

    def run(
        self,
        model: Path,
        inputs: dict[str, Path],
        outputs: Sequence[str],
        workdir: Path,
        budget: Budget,
    ) -> SandboxResult:
        """Run one inference in the sandbox process. Raises SandboxStarvedError past the wall-
        clock backstop (the process is killed), or what `interpret` raises.
        """
        line = request_line(self.limits, budget, model, inputs, outputs, workdir)
        try:
            stdout, stderr = self.process.communicate(line, timeout=budget.wall_seconds)
        except subprocess.TimeoutExpired:
            used = cpu_seconds_of(self.process.pid)
            self.kill()
            raise starved(budget, used) from None
        return interpret(self.process.returncode, stdout, stderr, self.limits, budget)

    def terminate(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def interpret(
    code: int, stdout: str, stderr: str, limits: SandboxLimits, budget: Budget
) -> SandboxResult:
    """A sandbox process's exit code (negative: killed by that signal) and its last JSON line.

    Raises InferenceFailedError when the process died or onnxruntime failed,
    ResourceLimitError when it used its CPU budget or hit the memory limit.
    """
    if code < 0:
        sig = signal.Signals(-code)
        # SIGXCPU comes only from RLIMIT_CPU; SIGKILL from its hard limit or the OOM killer.
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            raise ResourceLimitError(budget.over_cpu())
        raise InferenceFailedError(f"sandbox process died with {sig.name}{_tail(stderr)}")
    lines = stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        raise InferenceFailedError(
            f"sandbox process exited with status {code} without a result{_tail(stderr)}"
        )
    if not result.get("ok"):
        if result.get("kind") == "memory":
            raise ResourceLimitError(
                f"model needs more memory than the {limits.memory_bytes} byte limit: "
                f"{public_text(str(result.get('error')))}"
            )
        raise InferenceFailedError(f"onnxruntime failed: {public_text(str(result.get('error')))}")
    return SandboxResult(
        outputs=tuple(Path(p) for p in result["outputs"]),
        session_seconds=float(result["session_seconds"]),
        run_seconds=float(result["run_seconds"]),
    )


def _tail(stderr: str) -> str:
    text = public_text(stderr.strip()[-500:])
    return f": {text}" if text else ""
