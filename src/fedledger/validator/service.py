"""The validator process: parts built by `build_validator`, served over gRPC and watched.

`build_validator(config)` (validator/factory.py) composes the parts; `ValidatorService.start()`
loads the holdouts, serves gRPC (mutual TLS, health, reflection), metrics, and starts the
watcher and the announcer (which tells the ledger the tasks served); `stop()` shuts down in
the reverse order, letting calls in flight finish within a grace period. The bound addresses
are written to `<stateDir>/endpoint.json` for `fedledger validator status` and tests.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Protocol

import structlog

from fedledger import __version__
from fedledger.fabric import FabricError
from fedledger.validator.announcer import Announcer
from fedledger.validator.api import validator_pb2
from fedledger.validator.config import Limits, ValidatorConfig
from fedledger.validator.endpoint import remove_endpoint, write_endpoint
from fedledger.validator.errors import (
    InvalidRequestError,
    LimitExceededError,
    ModelRejectedError,
    StartError,
    UnavailableError,
)
from fedledger.validator.evaluation import Assessment, Candidate, EvaluationService, ModelReference
from fedledger.validator.holdouts import HoldoutState
from fedledger.validator.metrics import MetricsServer, ValidatorMetrics
from fedledger.validator.reports import ReportBook, VoteRecord, check_proposal_id
from fedledger.validator.server import RunningServer, listen_on, serve_metrics, start_server
from fedledger.validator.servicer import ValidatorServicer
from fedledger.validator.watcher import Watcher

log = structlog.get_logger("fedledger.validator")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Closeable(Protocol):
    def close(self) -> None: ...


@dataclass
class Status:
    organization: str
    tasks: list[HoldoutState]
    last_block: int
    votes_cast: int
    pending: int
    evaluations_running: int
    version: str


@dataclass
class ValidatorParts:
    """What `build_validator` composes; the service starts, serves and finally closes them."""

    gateway: Closeable
    evaluation: EvaluationService
    reports: ReportBook
    watcher: Watcher
    announcer: Announcer | None = None


class ValidatorService:
    def __init__(self, config: ValidatorConfig, parts: ValidatorParts) -> None:
        self.config = config
        self.parts = parts
        self.address = ""
        self._server: RunningServer | None = None
        self._metrics_server: MetricsServer | None = None

    @property
    def evaluation(self) -> EvaluationService:
        return self.parts.evaluation

    @property
    def metrics(self) -> ValidatorMetrics:
        return self.parts.evaluation.metrics

    # Domain calls behind the servicer

    def evaluate(
        self, task_id: str, *, reference: tuple[str, str] | None, inline: bytes | None
    ) -> Assessment:
        """An Evaluate request's assessment; the model's faults raise ModelRejectedError.

        UnavailableError when the ledger cannot answer.
        """
        candidate = requested_candidate(task_id, reference, inline, self.config.limits)
        try:
            assessment = self.evaluation.assess(
                candidate, wait=self.config.limits.slot_wait_seconds
            )
        except FabricError as error:
            raise UnavailableError(f"the ledger is unavailable: {error}") from error
        if assessment.model_fault:
            raise ModelRejectedError(assessment.report)
        return assessment

    def report(self, proposal_id: str) -> VoteRecord:
        return self.parts.reports.get(check_proposal_id(proposal_id))

    def status(self) -> Status:
        watcher = self.parts.watcher
        return Status(
            organization=self.config.organization,
            tasks=self.evaluation.holdouts.states(),
            last_block=watcher.last_block,
            votes_cast=self.parts.reports.count(),
            pending=watcher.pending,
            evaluations_running=self.evaluation.slots.running,
            version=__version__,
        )

    # Life cycle

    def start(self) -> None:
        """Serve gRPC (and metrics) and start voting.

        Raises StartError, naming the field, when an address cannot be listened on.
        """
        holdouts = self.evaluation.holdouts
        try:
            holdouts.preload()
        except FabricError as error:
            log.warning("holdouts not loaded yet: the ledger is unavailable", error=str(error))
        for state in holdouts.states():
            log.info("holdout", task_id=state.task_id, rows=state.rows, error=state.error)
        self._server = start_server(self.config, ValidatorServicer(self))
        self.address = self._server.address
        if self.config.metrics_address is not None:
            self._metrics_server = serve_metrics(self.metrics, self.config.metrics_address)
        self.parts.watcher.start()
        if self.parts.announcer is not None:
            self.parts.announcer.start()
        write_endpoint(
            self.config.state_dir,
            {
                "address": self.address,
                "metrics": self._metrics_server.address if self._metrics_server else None,
                "pid": os.getpid(),
            },
        )
        log.info(
            "validator started",
            address=self.address,
            metrics=self._metrics_server.address if self._metrics_server else None,
        )

    def stop(self, grace: float = 10.0) -> None:
        """Stop taking calls, let calls and votes in flight finish within `grace`, release all."""
        log.info("validator stopping", grace_seconds=grace)
        if self._server is not None:
            self._server.health.enter_graceful_shutdown()
        if self.parts.announcer is not None:
            self.parts.announcer.stop(timeout=grace)
        self.parts.watcher.stop(timeout=grace)
        if self._server is not None:
            self._server.server.stop(grace).wait()
        if self._metrics_server is not None:
            self._metrics_server.stop()
        self.evaluation.holdouts.close()
        self.evaluation.evaluator.close()
        self.parts.gateway.close()
        remove_endpoint(self.config.state_dir)
        log.info("validator stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server terminates (after stop()); True if it did within timeout."""
        if self._server is None:
            return True
        return bool(self._server.server.wait_for_termination(timeout))


def requested_candidate(
    task_id: str, reference: tuple[str, str] | None, inline: bytes | None, limits: Limits
) -> Candidate:
    """The model an Evaluate request names, checked against this validator's limits.

    Raises InvalidRequestError for a malformed SHA-256 or a request naming no model or both
    ways, LimitExceededError for an inline model over the limit.
    """
    if reference is not None and inline is None:
        if not _SHA256.fullmatch(reference[1]):
            raise InvalidRequestError(
                f"reference.sha256 must be 64 lowercase hex characters, got {reference[1]!r}"
            )
        return Candidate(task_id, ModelReference(*reference))
    if inline is None or reference is not None:
        raise InvalidRequestError("give the model either by reference (uri, sha256) or inline")
    if len(inline) > limits.max_inline_model_bytes:
        raise LimitExceededError(
            f"the inline model is {len(inline)} bytes, over this validator's limit of "
            f"{limits.max_inline_model_bytes}; put it in the store and pass its uri and sha256"
        )
    return Candidate(task_id, inline)


__all__ = [
    "StartError",
    "Status",
    "ValidatorParts",
    "ValidatorService",
    "listen_on",
    "serve_metrics",
    "validator_pb2",
]
