"""The gRPC servicer: requests in, domain calls, responses out; domain errors become status
codes here and nowhere else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import grpc

from fedledger.evaluate.report import EvaluationReport
from fedledger.validator.api import validator_pb2, validator_pb2_grpc
from fedledger.validator.errors import (
    InvalidRequestError,
    LimitExceededError,
    ModelRejectedError,
    NotFoundError,
    NotReadyError,
    UnavailableError,
    ValidatorError,
)
from fedledger.validator.evaluation import Assessment
from fedledger.validator.holdouts import HoldoutState
from fedledger.validator.reports import VoteRecord

_CODES: dict[type[ValidatorError], grpc.StatusCode] = {
    InvalidRequestError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    NotReadyError: grpc.StatusCode.FAILED_PRECONDITION,
    LimitExceededError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    UnavailableError: grpc.StatusCode.UNAVAILABLE,
}
# Model faults that are limits rather than defects.
_LIMIT_FAULTS = frozenset({"too_large", "resource_limit", "unbounded_loop"})


class ValidatorCore(Protocol):
    """What the servicer delegates to (ValidatorService in service.py)."""

    def evaluate(
        self, task_id: str, *, reference: tuple[str, str] | None, inline: bytes | None
    ) -> Assessment: ...

    def report(self, proposal_id: str) -> VoteRecord: ...

    def status(self) -> StatusView: ...


class StatusView(Protocol):
    organization: str
    tasks: list[HoldoutState]
    last_block: int
    votes_cast: int
    pending: int
    evaluations_running: int
    version: str


def status_code(error: ValidatorError) -> grpc.StatusCode:
    if isinstance(error, ModelRejectedError):
        if error.report.error_code in _LIMIT_FAULTS:
            return grpc.StatusCode.RESOURCE_EXHAUSTED
        return grpc.StatusCode.INVALID_ARGUMENT
    for kind, code in _CODES.items():
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


@contextmanager
def domain_errors(context: grpc.ServicerContext) -> Iterator[None]:
    try:
        yield
    except ValidatorError as error:
        context.abort(status_code(error), str(error))


def report_message(report: EvaluationReport, champion_score: float | None) -> Any:
    message = validator_pb2.EvaluationReport(
        model_sha256=report.model_sha256,
        task_id=report.task_id,
        decision=report.decision.value,
        reasons=list(report.reasons),
        metric=report.metric,
        metrics=report.metrics,
        holdout_rows=report.rows,
        duration_seconds=report.duration_seconds,
        evaluator_version=report.evaluator_version,
        error_code=report.error_code or "",
    )
    if report.score is not None:
        message.score = report.score
    if champion_score is not None:
        message.champion_score = champion_score
    return message


class ValidatorServicer(validator_pb2_grpc.ValidatorServicer):
    def __init__(self, core: ValidatorCore) -> None:
        self.core = core

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        source = request.WhichOneof("model")
        with domain_errors(context):
            assessment = self.core.evaluate(
                request.task_id,
                reference=(request.reference.uri, request.reference.sha256)
                if source == "reference"
                else None,
                inline=bytes(request.inline) if source == "inline" else None,
            )
        return validator_pb2.EvaluateResponse(
            report=report_message(assessment.report, assessment.champion_score)
        )

    def GetReport(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        with domain_errors(context):
            record = self.core.report(request.proposal_id)
        return validator_pb2.GetReportResponse(
            proposal_id=record.proposal_id,
            report=report_message(record.report, record.champion_score),
            vote_decision=record.decision,
            vote_reason=record.reason,
            transaction_id=record.transaction_id,
            voted_at=record.voted_at,
        )

    def Status(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        with domain_errors(context):
            view = self.core.status()
        return validator_pb2.StatusResponse(
            organization=view.organization,
            tasks=[
                validator_pb2.TaskStatus(
                    task_id=t.task_id, holdout=str(t.path), holdout_rows=t.rows, error=t.error
                )
                for t in view.tasks
            ],
            last_block=view.last_block,
            votes_cast=view.votes_cast,
            pending=view.pending,
            evaluations_running=view.evaluations_running,
            version=view.version,
        )
