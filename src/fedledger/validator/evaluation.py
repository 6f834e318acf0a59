"""Assessing a model for a task on this organisation's holdout: champion, fetch, score.

`EvaluationService.assess` is the one sequence behind both the Evaluate RPC and the voter.
Faults are sorted here, once:
- the model's (too large, malformed, wrong signature, a URI that is not one): a REJECT report
  with an `error_code` (the voter votes it, the RPC answers with ModelRejectedError);
- ours (store unreachable, holdout unusable, sandbox broken, a schema this package encodes
  differently from the chaincode): an exception to retry on;
- the store's (an object missing, or whose bytes do not hash to the proposal's SHA-256): ours
  too, as ModelBytesUnavailableError. The hash on the ledger is what was proposed; bytes that do
  not match it are not the model, and whoever can write to the store must not be able to veto
  a model by damaging them. Retried until the deadline; then the proposal expires, and the
  proposer can repair the object (`put`) and propose again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Protocol

import structlog

from fedledger.evaluate.cancel import Cancellation
from fedledger.evaluate.errors import EvaluationCancelledError, EvaluatorError
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.policy import Decision
from fedledger.evaluate.policy import Task as EvaluationTask
from fedledger.evaluate.report import EvaluationReport, evaluator_version
from fedledger.registry import ChaincodeRefusalError, Policy, RefusalCode, Registry
from fedledger.registry import Task as LedgerTask
from fedledger.registry.evaluation import SchemaHashMismatchError, evaluation_task
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
    ModelBytesUnavailableError,
    ModelRejectedError,
    NotFoundError,
    NotReadyError,
    UnavailableError,
)
from fedledger.validator.holdouts import Holdouts
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.slots import Slots

log = structlog.get_logger("fedledger.validator")
# The error code of an assessment cancelled because its proposal was decided meanwhile.
CANCELLED = "cancelled"

# What each store refusal means for the model (all of them are the proposer's doing).
_STORE_FAULTS: dict[type[StoreError], str] = {InvalidUriError: "invalid_uri"}
# The store's faults, not the model's: the bytes are not (or no longer) what was proposed.
_BYTES_UNAVAILABLE = (HashMismatchError, ObjectNotFoundError)


class ModelEvaluator(Protocol):
    """What the service needs of `fedledger.evaluate.engine.Evaluator` (a fake in unit tests)."""

    def evaluate(
        self,
        model_bytes: bytes,
        task: EvaluationTask,
        holdout: Holdout,
        *,
        champion_score: float | None = None,
        cancel: Cancellation | None = None,
    ) -> EvaluationReport: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ModelReference:
    """A model in the store: its URI and the SHA-256 its bytes must have."""

    uri: str
    sha256: str
    size_bytes: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A model to assess for a task: a proposal's (by reference, under the proposal's policy,
    its proposer holding at most its share of the slots) or one sent to Evaluate (by reference
    or inline, under the task's current policy)."""

    task_id: str
    model: ModelReference | bytes
    policy: Policy | None = None
    proposer: str | None = None


@dataclass(frozen=True)
class Assessment:
    """A report and the context it was made in."""

    report: EvaluationReport
    champion_score: float | None
    holdout_rows: int

    @property
    def model_fault(self) -> bool:
        """The model could not be scored at all (the report says why in `error_code`)."""
        return self.report.error_code is not None


class EvaluationService:
    def __init__(
        self,
        organization: str,
        registry: Registry,
        store: ModelStore,
        holdouts: Holdouts,
        evaluator: ModelEvaluator,
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
        self.slots = Slots(limits.max_concurrent_evaluations, limits.max_evaluations_per_proposer)

    def assess(
        self, candidate: Candidate, *, wait: float | None, cancel: Cancellation | None = None
    ) -> Assessment:
        """The candidate's report on our holdout, against our score of the task's champion.

        The model's faults are in the report; so is a cancellation through `cancel` (error code
        `cancelled`, the report's reason says why and after how long). Ours raise NotFoundError
        (task not served or not on the ledger), NotReadyError (holdout, schema),
        UnavailableError (store, evaluator), LimitExceededError (no slot within `wait` seconds)
        or FabricError (the ledger)."""
        started = time.perf_counter()
        try:
            return self._assess(candidate, wait, cancel)
        except EvaluationCancelledError as cancelled:
            self.metrics.cancelled.labels(task=candidate.task_id).inc()
            seconds = time.perf_counter() - started
            message = f"evaluation cancelled: {cancelled.reason} after {seconds:.1f} s"
            report = _cancelled_report(candidate, message, seconds)
            return Assessment(report, None, 0)

    def _assess(
        self, candidate: Candidate, wait: float | None, cancel: Cancellation | None
    ) -> Assessment:
        task = self.ledger_task(candidate.task_id)
        policy = candidate.policy or task.policy
        rules = self._rules(task, policy)
        holdout = self._holdout(task)
        champion_score = self.champion_score(task.id)
        try:
            if isinstance(candidate.model, ModelReference):
                model = self.fetch(task, policy, candidate.model)
            else:
                model = candidate.model
            report = self.score(
                rules,
                holdout,
                model,
                champion_score,
                wait=wait,
                owner=candidate.proposer,
                cancel=cancel,
            )
        except ModelRejectedError as rejected:
            report = rejected.report
        return Assessment(report, champion_score, holdout.rows)

    def ledger_task(self, task_id: str) -> LedgerTask:
        """The task as the ledger has it; raises NotFoundError when this validator does not serve
        it or the ledger has no such task.
        """
        self.holdouts.require_served(task_id)
        try:
            return self.registry.get_task(task_id)
        except ChaincodeRefusalError as refusal:
            if refusal.code is RefusalCode.TASK_NOT_FOUND:
                raise NotFoundError(refusal.message) from refusal
            raise

    def champion_score(self, task_id: str) -> float | None:
        champion = self.registry.find_champion(task_id)
        return None if champion is None else champion.scores.get(self.organization)

    def fetch(self, task: LedgerTask, policy: Policy, reference: ModelReference) -> bytes:
        """The verified bytes; ModelRejectedError when the store's answer is the model's fault.

        UnavailableError when the store cannot answer now; ModelBytesUnavailableError (one) when
        the object is missing or its bytes are not the model's.
        """
        # The store stops reading at limits.maxModelBytes; the task's own limit is checked here
        # (and again by the evaluator's static checks).
        limit = min(policy.max_model_bytes, self.limits.max_model_bytes)
        started = time.perf_counter()
        try:
            data = self.store.get(reference.uri, reference.sha256)
        except StoreUnavailableError as error:
            self.metrics.errors.labels(kind="store_unavailable").inc()
            raise UnavailableError(f"the model store is unavailable: {error}") from error
        except _BYTES_UNAVAILABLE as error:
            self.metrics.errors.labels(kind="model_bytes_unavailable").inc()
            raise ModelBytesUnavailableError.of(error, reference.sha256) from error
        except ModelTooLargeError as error:
            if reference.size_bytes is not None and reference.size_bytes <= limit:
                # The object is larger than the proposal says the model is: not the model.
                self.metrics.errors.labels(kind="model_bytes_unavailable").inc()
                raise ModelBytesUnavailableError.of(error, reference.sha256) from error
            raise ModelRejectedError(
                _fault_report(task, reference.sha256, "too_large", str(error), started)
            ) from error
        except tuple(_STORE_FAULTS) as error:
            code = _STORE_FAULTS[type(error)]
            raise ModelRejectedError(
                _fault_report(task, reference.sha256, code, str(error), started)
            ) from error
        except StoreError as error:
            self.metrics.errors.labels(kind="store").inc()
            raise UnavailableError(
                f"the model store refused to serve {reference.uri}: {error}"
            ) from error
        if len(data) > limit:
            message = f"model is {len(data)} bytes, over the limit of {limit} bytes"
            raise ModelRejectedError(
                _fault_report(task, reference.sha256, "too_large", message, started)
            )
        return data

    def score(
        self,
        rules: EvaluationTask,
        holdout: Holdout,
        model: bytes,
        champion_score: float | None,
        *,
        wait: float | None,
        owner: str | None = None,
        cancel: Cancellation | None = None,
    ) -> EvaluationReport:
        """Evaluate under a slot (`owner`'s share of them). Raises UnavailableError,
        LimitExceededError, EvaluationCancelledError."""
        with self.slots.hold(wait, owner, cancel):
            started = time.perf_counter()
            try:
                report = self.evaluator.evaluate(
                    model, rules, holdout, champion_score=champion_score, cancel=cancel
                )
            except EvaluatorError as error:
                self.metrics.errors.labels(kind="evaluator").inc()
                raise UnavailableError(f"the evaluator failed: {error}") from error
            finally:
                self.metrics.evaluation_seconds.labels(task=rules.task_id).observe(
                    time.perf_counter() - started
                )
        outcome = report.error_code or report.decision.value
        self.metrics.evaluations.labels(task=rules.task_id, outcome=outcome).inc()
        return report

    def _rules(self, task: LedgerTask, policy: Policy) -> EvaluationTask:
        try:
            return evaluation_task(task, policy)
        except SchemaHashMismatchError as error:
            self.metrics.errors.labels(kind="schema").inc()
            raise NotReadyError(str(error)) from error

    def _holdout(self, task: LedgerTask) -> Holdout:
        try:
            return self.holdouts.get(task)
        except NotReadyError:
            self.metrics.errors.labels(kind="holdout").inc()
            raise


def _cancelled_report(candidate: Candidate, message: str, seconds: float) -> EvaluationReport:
    sha256 = (
        candidate.model.sha256
        if isinstance(candidate.model, ModelReference)
        else hashlib.sha256(candidate.model).hexdigest()
    )
    return EvaluationReport(
        model_sha256=sha256,
        task_id=candidate.task_id,
        decision=Decision.REJECT,
        reasons=(message,),
        metric="",  # nothing was measured
        score=None,
        metrics={},
        rows=0,
        duration_seconds=seconds,
        evaluator_version=evaluator_version(),
        error_code=CANCELLED,
    )


def _fault_report(
    task: LedgerTask, sha256: str, code: str, message: str, started: float
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


__all__ = [
    "Assessment",
    "Candidate",
    "EvaluationService",
    "ModelEvaluator",
    "ModelReference",
    "Slots",
    "evaluation_task",
]
