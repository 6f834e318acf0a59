"""Evaluating a model for a task on this organisation's holdout: fetch, verify, score, decide.

Shared by the Evaluate RPC and the watcher. Faults are sorted here, once:
- the model's (bytes not matching the hash, too large, malformed, wrong signature): a REJECT
  report with an `error_code` (the watcher votes it, the RPC answers INVALID_ARGUMENT);
- ours (store unreachable, holdout unusable, sandbox broken): an exception to retry on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog

from fedledger.evaluate.engine import Evaluator
from fedledger.evaluate.errors import EvaluatorError
from fedledger.evaluate.policy import Decision
from fedledger.evaluate.report import EvaluationReport, evaluator_version
from fedledger.registry import Policy, Registry
from fedledger.registry import Task as LedgerTask
from fedledger.registry.evaluation import evaluation_task
from fedledger.store.base import ModelStore
from fedledger.store.errors import (
    HashMismatchError,
    InvalidUriError,
    ModelTooLargeError,
    ObjectNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from fedledger.validator.config import Limits
from fedledger.validator.errors import (
    LimitExceededError,
    NotReadyError,
    UnavailableError,
)
from fedledger.validator.holdouts import Holdouts
from fedledger.validator.metrics import ValidatorMetrics

log = structlog.get_logger("fedledger.validator")

# What each store refusal means for the model (all of them are the proposer's doing).
_STORE_FAULTS: dict[type[StoreError], str] = {
    HashMismatchError: "hash_mismatch",
    ModelTooLargeError: "too_large",
    InvalidUriError: "invalid_uri",
    ObjectNotFoundError: "not_found",
}


@dataclass(frozen=True)
class Assessment:
    """A report and the context it was made in."""

    report: EvaluationReport
    champion_score: float | None


class Slots:
    """At most `size` evaluations at once; a caller waits at most `wait` seconds for a slot."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._semaphore = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.running = 0

    @contextmanager
    def hold(self, wait: float | None) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=wait):
            raise LimitExceededError(
                f"all {self.size} evaluation slot(s) of this validator are busy; retry later"
            )
        with self._lock:
            self.running += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._semaphore.release()


class EvaluationService:
    def __init__(
        self,
        organization: str,
        registry: Registry,
        store: ModelStore,
        holdouts: Holdouts,
        evaluator: Evaluator,
        limits: Limits,
        metrics: ValidatorMetrics,
    ) -> None:
        self.organization = organization
        self.registry = registry
        self.store = store
        self.holdouts = holdouts
        self.evaluator = evaluator
        self.limits = limits
        self.metrics = metrics
        self.slots = Slots(limits.max_concurrent_evaluations)

    def champion_score(self, task_id: str) -> float | None:
        champion = self.registry.find_champion(task_id)
        return None if champion is None else champion.scores.get(self.organization)

    def fetch(
        self, task: LedgerTask, policy: Policy, uri: str, sha256: str
    ) -> bytes | EvaluationReport:
        """The verified bytes, or a REJECT report when the store's answer is the model's fault."""
        # The store stops reading at limits.maxModelBytes; the task's own limit is checked here
        # (and again by the evaluator's static checks).
        limit = min(policy.max_model_bytes, self.limits.max_model_bytes)
        started = time.perf_counter()
        try:
            data = self.store.get(uri, sha256)
        except StoreUnavailableError as error:
            self.metrics.errors.labels(kind="store_unavailable").inc()
            raise UnavailableError(f"the model store is unavailable: {error}") from error
        except tuple(_STORE_FAULTS) as error:
            code = _STORE_FAULTS[type(error)]
            return self._fault_report(task, sha256, code, str(error), started)
        except StoreError as error:
            self.metrics.errors.labels(kind="store").inc()
            raise UnavailableError(f"the model store refused to serve {uri}: {error}") from error
        if len(data) > limit:
            message = f"model is {len(data)} bytes, over the limit of {limit} bytes"
            return self._fault_report(task, sha256, "too_large", message, started)
        return data

    def _fault_report(
        self, task: LedgerTask, sha256: str, code: str, message: str, started: float
    ) -> EvaluationReport:
        return EvaluationReport(
            model_sha256=sha256,
            task_id=task.id,
            decision=Decision.REJECT,
            reasons=(f"{code}: {message}",),
            metric=task.metric,
            score=None,
            metrics={},
            rows=0,
            duration_seconds=time.perf_counter() - started,
            evaluator_version=evaluator_version(),
            error_code=code,
        )

    def score(
        self,
        task: LedgerTask,
        policy: Policy,
        model: bytes,
        champion_score: float | None,
        *,
        wait: float | None,
    ) -> EvaluationReport:
        """Evaluate under a slot. Raises NotReadyError, UnavailableError, LimitExceededError."""
        holdout = self.holdouts.get(task)
        with self.slots.hold(wait):
            started = time.perf_counter()
            try:
                report = self.evaluator.evaluate(
                    model, evaluation_task(task, policy), holdout, champion_score=champion_score
                )
            except EvaluatorError as error:
                self.metrics.errors.labels(kind="evaluator").inc()
                raise UnavailableError(f"the evaluator failed: {error}") from error
            finally:
                self.metrics.evaluation_seconds.labels(task=task.id).observe(
                    time.perf_counter() - started
                )
        outcome = report.error_code or report.decision.value
        self.metrics.evaluations.labels(task=task.id, outcome=outcome).inc()
        return report

    def ledger_task(self, task_id: str) -> LedgerTask:
        self.holdouts.require_served(task_id)
        return self.registry.get_task(task_id)

    def require_holdout(self, task: LedgerTask) -> None:
        try:
            self.holdouts.get(task)
        except NotReadyError:
            self.metrics.errors.labels(kind="holdout").inc()
            raise
