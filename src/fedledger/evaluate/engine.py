"""The evaluation engine: static checks, sandboxed inference, output checks, metrics, decision."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fedledger.evaluate.errors import InvalidOutputError
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.limits import SandboxLimits
from fedledger.evaluate.metrics import classification_metrics, regression_metrics
from fedledger.evaluate.policy import Decision, Task
from fedledger.evaluate.report import EvaluationReport, evaluator_version
from fedledger.evaluate.runner import SandboxProcess
from fedledger.evaluate.static import check_model
from fedledger.models import ModelError

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
        """`keep_spare` keeps one idle sandbox process started ahead of the next evaluation
        (each process still serves one evaluation only); call close() when done."""
        self.limits = limits or SandboxLimits()
        self.sandbox_command = sandbox_command
        self.version = evaluator_version()
        self.keep_spare = keep_spare
        self._spare: SandboxProcess | None = None

    def close(self) -> None:
        if self._spare is not None:
            self._spare.kill()
            self._spare = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _sandbox(self) -> SandboxProcess:
        sandbox = self._spare or SandboxProcess(self.limits, self.sandbox_command)
        self._spare = SandboxProcess(self.limits, self.sandbox_command) if self.keep_spare else None
        return sandbox

    def evaluate(
        self,
        model_bytes: bytes,
        task: Task,
        holdout: Holdout | str | Path,
        *,
        champion_score: float | None = None,
    ) -> EvaluationReport:
        started = time.perf_counter()
        model_sha256 = hashlib.sha256(model_bytes).hexdigest()
        timings: dict[str, float] = {}
        data = holdout if isinstance(holdout, Holdout) else Holdout.load(holdout, task.schema)
        try:
            metrics = self._score(model_bytes, task, data, timings)
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
        if score is None:
            decision, reasons = (
                Decision.REJECT,
                [f"{task.policy.metric} is undefined on this holdout"],
            )
        else:
            decision, reasons = task.policy.decide(score, champion_score)
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
        self, model_bytes: bytes, task: Task, holdout: Holdout, timings: dict[str, float]
    ) -> dict[str, float]:
        t0 = time.perf_counter()
        sandbox = self._sandbox()
        workdir = Path(tempfile.mkdtemp(prefix="fedledger-eval-"))
        try:
            checked = check_model(model_bytes, task, self.limits)
            model_path = workdir / "model.onnx"
            model_path.write_bytes(model_bytes)
            inputs = holdout.input_files(checked.input_dtypes)
            t1 = time.perf_counter()
            timings["static_seconds"] = t1 - t0
            result = sandbox.run(model_path, inputs, checked.outputs, workdir)
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
            sandbox.kill()
            shutil.rmtree(workdir, ignore_errors=True)


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
