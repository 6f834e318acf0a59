"""The evaluation engine: static checks, sandboxed inference, output checks, metrics, decision."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fedledger.evaluate.cancel import Cancellation
from fedledger.evaluate.errors import EvaluatorError, InvalidOutputError
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.limits import Budget, SandboxLimits
from fedledger.evaluate.metrics import classification_metrics, regression_metrics
from fedledger.evaluate.policy import Decision, Task
from fedledger.evaluate.report import EvaluationReport, evaluator_version
from fedledger.evaluate.runner import Sandbox, SandboxProcess, SandboxResult
from fedledger.evaluate.static import check_model
from fedledger.evaluate.zygote import ForkedSandbox, Zygote, ZygoteGoneError
from fedledger.models.errors import ModelError

_PROBABILITY_TOLERANCE = 1e-4


class Evaluator:
    """Scores model bytes on a holdout. Model faults become REJECT reports; a broken holdout
    or sandbox raises (HoldoutError, EvaluatorError) because the validator should not vote."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        sandbox_command: Sequence[str] | None = None,
        keep_spare: bool = False,
    ) -> None:
        """Models run in children forked from one zygote process, started at the first
        evaluation and again whenever it has ended. `sandbox_command` instead starts that
        command for every evaluation (one JSON request on stdin, the result on stdout).
        `keep_spare` keeps one idle sandbox process started ahead of the next evaluation
        (each process still serves one evaluation only). Call close() when done."""
        self.limits = limits or SandboxLimits()
        self.sandbox_command = sandbox_command
        self.version = evaluator_version()
        self.keep_spare = keep_spare
        self._spare: SandboxProcess | ForkedSandbox | None = None
        self._zygote: Zygote | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._spare is not None:
                self._spare.kill()
                self._spare = None
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _one_shot_sandbox(self) -> SandboxProcess:
        with self._lock:
            spare = self._spare if isinstance(self._spare, SandboxProcess) else None
            sandbox = spare or SandboxProcess(self.limits, self.sandbox_command)
            self._spare = (
                SandboxProcess(self.limits, self.sandbox_command) if self.keep_spare else None
            )
            return sandbox

    def _start_zygote(self) -> Zygote:
        """The running zygote, or a new one (its imports overlap the static checks)."""
        with self._lock:
            if self._zygote is None or not self._zygote.alive():
                if self._zygote is not None:
                    self._zygote.close()
                self._zygote = Zygote()
            return self._zygote

    def _forked_sandbox(self) -> ForkedSandbox:
        with self._lock:
            spare, self._spare = self._spare, None
        if isinstance(spare, ForkedSandbox):
            if spare.zygote.alive() and spare.process.poll() is None:
                return spare
            spare.kill()
        try:
            return self._start_zygote().fork(self.limits)
        except ZygoteGoneError:
            # It ended since the last evaluation (killed, OOM): one new zygote, one retry.
            return self._start_zygote().fork(self.limits)

    def _refill_spare(self) -> None:
        try:
            spare = self._forked_sandbox()
        except EvaluatorError:
            return  # the next evaluation starts the sandbox itself and reports the failure
        with self._lock:
            if self._spare is None:
                self._spare = spare
                return
        spare.kill()  # another thread's evaluation refilled it first

    def evaluate(
        self,
        model_bytes: bytes,
        task: Task,
        holdout: Holdout | str | Path,
        *,
        champion_score: float | None = None,
        cancel: Cancellation | None = None,
    ) -> EvaluationReport:
        """The model's report on the holdout: its faults (static, in the sandbox, in its
        outputs) are a REJECT report saying why.

        Raises HoldoutError for a holdout that does not match the task, EvaluatorError when the
        sandbox cannot run or is starved of CPU, EvaluationCancelledError when `cancel` is
        cancelled (the sandbox is killed at once).
        """
        started = time.perf_counter()
        cancel = cancel or Cancellation()
        model_sha256 = hashlib.sha256(model_bytes).hexdigest()
        timings: dict[str, float] = {}
        data = holdout if isinstance(holdout, Holdout) else Holdout.load(holdout, task.schema)
        try:
            metrics = self._score(model_bytes, task, data, timings, cancel)
        except ModelError as exc:
            return EvaluationReport(
                model_sha256=model_sha256,
                task_id=task.task_id,
                decision=Decision.REJECT,
                reasons=(f"{exc.code}: {exc}",),
                metric=task.policy.metric,
                score=None,
                metrics={},
                rows=data.rows,
                duration_seconds=time.perf_counter() - started,
                evaluator_version=self.version,
                error_code=exc.code,
                timings=timings,
            )
        finally:
            if data is not holdout:
                data.close()
        score = metrics.get(task.policy.metric)
        decision, reasons = (
            task.policy.decide(score, champion_score)
            if score is not None
            else (Decision.REJECT, [f"{task.policy.metric} is undefined on this holdout"])
        )
        return EvaluationReport(
            model_sha256=model_sha256,
            task_id=task.task_id,
            decision=decision,
            reasons=tuple(reasons),
            metric=task.policy.metric,
            score=score,
            metrics=metrics,
            rows=data.rows,
            duration_seconds=time.perf_counter() - started,
            evaluator_version=self.version,
            timings=timings,
        )

    def _score(
        self,
        model_bytes: bytes,
        task: Task,
        holdout: Holdout,
        timings: dict[str, float],
        cancel: Cancellation,
    ) -> dict[str, float]:
        t0 = time.perf_counter()
        cancel.check(0.0)
        sandbox: Sandbox | None = None
        if self.sandbox_command is not None:
            sandbox = self._one_shot_sandbox()
        else:
            self._start_zygote()
        workdir = Path(tempfile.mkdtemp(prefix="fedledger-eval-"))
        try:
            checked = check_model(model_bytes, task, self.limits)
            model_path = workdir / "model.onnx"
            model_path.write_bytes(model_bytes)
            inputs = holdout.input_files(checked.input_dtypes)
            t1 = time.perf_counter()
            timings["static_seconds"] = t1 - t0
            if sandbox is None:
                sandbox = self._forked_sandbox()
            budget = self.limits.budget(holdout.rows, len(inputs), len(model_bytes))
            timings["cpu_budget_seconds"] = budget.cpu_seconds
            result = _run_cancellable(
                sandbox, cancel, t0, model_path, inputs, checked.outputs, workdir, budget
            )
            t2 = time.perf_counter()
            timings["sandbox_seconds"] = t2 - t1
            timings["session_seconds"] = result.session_seconds
            timings["run_seconds"] = result.run_seconds
            outputs = [
                _load_output(p, name)
                for p, name in zip(result.outputs, checked.outputs, strict=True)
            ]
            metrics = _metrics(task, holdout, outputs)
            timings["metrics_seconds"] = time.perf_counter() - t2
            return metrics
        finally:
            if sandbox is not None:
                sandbox.kill()
            shutil.rmtree(workdir, ignore_errors=True)
            if self.keep_spare and self.sandbox_command is None:
                self._refill_spare()


def _run_cancellable(
    sandbox: Sandbox,
    cancel: Cancellation,
    started: float,
    model: Path,
    inputs: dict[str, Path],
    outputs: Sequence[str],
    workdir: Path,
    budget: Budget,
) -> SandboxResult:
    """The sandbox's result; a cancellation kills it and wins over whatever its end says."""
    cancel.check(time.perf_counter() - started)
    forget = cancel.on_cancel(sandbox.terminate)
    try:
        result = sandbox.run(model, inputs, outputs, workdir, budget)
    except (ModelError, EvaluatorError):
        cancel.check(time.perf_counter() - started)
        raise
    finally:
        forget()
    cancel.check(time.perf_counter() - started)
    return result


def _load_output(path: Path, name: str) -> npt.NDArray[np.generic]:
    try:
        array: npt.NDArray[np.generic] = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidOutputError(f"output {name!r} is unreadable: {exc}") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise InvalidOutputError(f"output {name!r} has dtype {array.dtype}, not numbers")
    return array


def _metrics(
    task: Task, holdout: Holdout, outputs: list[npt.NDArray[np.generic]]
) -> dict[str, float]:
    rows = holdout.rows
    if task.schema.target.is_classification:
        label, proba = outputs
        classes = len(task.schema.target.classes)
        label = label.reshape(-1)
        _expect_shape(label, (rows,), "label")
        _expect_shape(proba, (rows, classes), "probabilities")
        p = proba.astype(np.float64)
        _expect_finite(p, "probabilities")
        if p.min() < -_PROBABILITY_TOLERANCE or p.max() > 1 + _PROBABILITY_TOLERANCE:
            raise InvalidOutputError(
                f"probabilities range over [{p.min():.6g}, {p.max():.6g}], outside [0, 1]"
            )
        sums = p.sum(axis=1)
        worst = float(np.abs(sums - 1).max())
        if worst > _PROBABILITY_TOLERANCE:
            raise InvalidOutputError(f"probabilities of a row sum to 1 ± {worst:.3g}, not to 1")
        if label.min() < 0 or label.max() >= classes:
            raise InvalidOutputError(f"labels range over [{label.min()}, {label.max()}]")
        return classification_metrics(
            holdout.y.astype(np.int64), label.astype(np.int64), np.clip(p, 0.0, 1.0)
        )
    [prediction] = outputs
    prediction = prediction.reshape(-1)
    _expect_shape(prediction, (rows,), "prediction")
    _expect_finite(prediction.astype(np.float64), "prediction")
    return regression_metrics(holdout.y.astype(np.float64), prediction.astype(np.float64))


def _expect_shape(array: npt.NDArray[np.generic], shape: tuple[int, ...], name: str) -> None:
    if array.shape != shape:
        raise InvalidOutputError(f"{name} has shape {list(array.shape)}; expected {list(shape)}")


def _expect_finite(array: npt.NDArray[np.floating], name: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        raise InvalidOutputError(f"{name} holds {int(bad.sum())} NaN or infinite value(s)")
