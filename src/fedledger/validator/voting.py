"""One organisation's vote on one proposal: check, fetch, verify, evaluate, vote, exactly once.

Before evaluating, and again through the chaincode itself when voting, the ledger is asked
whether this organisation already voted, so a restarted validator never votes twice; a proposal
still PENDING without our vote is always voted on again, so none is lost. Faults of the model
become REJECT votes saying why; faults of ours (store, peer, sandbox, holdout) are retried with
backoff until the proposal's deadline. A retry never evaluates again: the assessment is kept
until its vote is committed, and the same vote is resubmitted.

A model whose bytes the store cannot give (missing, damaged, unreadable: never the model's
fault) is retried too; after `retry.modelBytesAttempts` such attempts in a row, or when the
deadline passes before the next one, the voter records an `unavailable` report on the ledger,
once per proposal, which counts for nothing and names the fault. It goes on retrying until the
deadline: bytes that come right (the proposer put the model again) get a real vote, which
replaces the report; so does a reopened proposal (ProposalSubmitted again, after it expired
with the report's reason), which the watcher hands over again.

A vote writes only its own key, so votes do not collide; the chaincode counts them in a
separate Decide transaction, which the decider submits (validator/deciding.py): after our vote
commits, the voter hands the proposal to it.

A proposal decided before we voted (the quorum or a veto was faster, or we were down) is still
voted on when we are in its electorate: the chaincode records the late vote, deciding nothing,
so the ledger holds every member's evaluation of every proposal. On the task's champion any
member votes late (one that joined since included): its score becomes the champion score our
veto on its successors is measured against. A late vote has no deadline.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from fedledger.evaluate.cancel import Cancellation
from fedledger.evaluate.reasons import public_reason
from fedledger.evaluate.report import EvaluationReport, evaluator_version
from fedledger.fabric import Backoff, FabricError
from fedledger.registry import (
    ChaincodeRefusalError,
    Decision,
    Proposal,
    RecordError,
    RefusalCode,
)
from fedledger.validator.config import RetryConfig
from fedledger.validator.deciding import is_read_conflict
from fedledger.validator.errors import (
    LimitExceededError,
    ModelBytesUnavailableError,
    NotReadyError,
    UnavailableError,
)
from fedledger.validator.evaluation import (
    CANCELLED,
    Assessment,
    Candidate,
    EvaluationService,
    ModelReference,
)
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.reports import ReportBook, VoteRecord

log = structlog.get_logger("fedledger.validator")

# A vote to approve or reject must carry a score on the task's metric (chaincode/src/votes.ts),
# even for a model that could not be scored: it gets the metric's worst value, which the
# chaincode's veto treats as the regression it is.
WORST_SCORE = {
    "roc_auc": 0.0,
    "accuracy": 0.0,
    "f1": 0.0,
    "r2": -1e12,
    "log_loss": 1e12,
    "rmse": 1e12,
    "mae": 1e12,
}
MAX_REASON = 256
MAX_METRICS = 32
_METRIC_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")

Clock = Callable[[], datetime]
Logger = structlog.typing.FilteringBoundLogger
# Faults of ours, retried with backoff until the proposal's deadline.
_OUR_FAULTS = (UnavailableError, NotReadyError, LimitExceededError, FabricError)
# A late vote (on a decided proposal) only records an evaluation: a fault of ours there is retried
# a few times, not for ever, since nothing waits for it.
_LATE_ATTEMPTS = 5


class Outcome(StrEnum):
    """What `Voter.vote_on` did with a proposal (its value is what the logs say)."""

    VOTED = "voted"
    ALREADY_VOTED = "already_voted"
    NOT_IN_ELECTORATE = "not_in_electorate"
    EXPIRED = "expired"
    CLOSED = "closed"
    REFUSED = "refused"
    GAVE_UP = "gave_up"
    UNREADABLE = "unreadable"
    STOPPED = "stopped"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Ballot:
    decision: Decision
    metrics: dict[str, float]
    holdout_rows: int
    reason: str


def ballot_for(report: EvaluationReport, metric: str, holdout_rows: int) -> Ballot:
    """The vote a report makes, in the form the chaincode accepts."""
    if report.error_code == CANCELLED:  # no verdict: the proposal was decided meanwhile
        return Ballot("abstain", {}, max(holdout_rows, 1), _reason(report.reasons[0]))
    if report.error_code is not None:
        return Ballot(
            "reject",
            {metric: WORST_SCORE[metric]},
            max(holdout_rows, 1),
            _reason(f"not scored, {'; '.join(report.reasons)}"),
        )
    if report.score is None:
        return Ballot("abstain", {}, report.rows, _reason("; ".join(report.reasons)))
    others = {
        name: value
        for name, value in sorted(report.metrics.items())
        if name != metric and _METRIC_NAME.fullmatch(name) and math.isfinite(value)
    }
    metrics = {metric: report.score, **dict(list(others.items())[: MAX_METRICS - 1])}
    return Ballot(report.decision.value, metrics, report.rows, _reason("; ".join(report.reasons)))


def _reason(text: str) -> str:
    return public_reason(text, MAX_REASON)


def _nothing_after_vote(proposal_id: str) -> None:
    """The default `Voter.after_vote`: a voter without a decider (unit tests)."""


@dataclass
class Voter:
    service: EvaluationService
    reports: ReportBook
    metrics: ValidatorMetrics
    retry: RetryConfig
    clock: Clock = utc_now
    # Called with the proposal id once our vote on a PENDING proposal is on the ledger.
    after_vote: Callable[[str], None] = _nothing_after_vote
    _deadlines: dict[str, datetime] = field(default_factory=dict)
    _late: set[str] = field(default_factory=set)
    _assessments: dict[str, Assessment] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)

    @property
    def organization(self) -> str:
        return self.service.organization

    def vote_on(
        self, proposal_id: str, stop: threading.Event, cancel: Cancellation | None = None
    ) -> Outcome:
        """Vote once on the proposal, retrying our own faults; returns what happened. A
        cancelled evaluation (`cancel`: the proposal was decided) is cast as an abstention."""
        bound = log.bind(proposal_id=proposal_id)
        seen = time.perf_counter()
        try:
            return self._vote_until_done(proposal_id, stop, bound, seen, cancel)
        finally:
            self._assessments.pop(proposal_id, None)
            self._late.discard(proposal_id)
            self._reported.discard(proposal_id)

    def _vote_until_done(
        self,
        proposal_id: str,
        stop: threading.Event,
        bound: Logger,
        seen: float,
        cancel: Cancellation | None,
    ) -> Outcome:
        delays = Backoff(self.retry.initial_seconds, self.retry.max_seconds).delays()
        attempts = bytes_faults = 0
        fault: Exception | None = None
        while not stop.is_set():
            try:
                outcome = self._attempt(proposal_id, bound, cancel)
            except _OUR_FAULTS as error:
                attempts, fault = attempts + 1, error
                if isinstance(error, ModelBytesUnavailableError):
                    bytes_faults += 1
                    if bytes_faults >= self.retry.model_bytes_attempts:
                        self._report_unavailable(proposal_id, error, bound)
                else:
                    bytes_faults = 0
                wait = self._after_fault(proposal_id, error, attempts, next(delays), bound)
                if isinstance(wait, Outcome):
                    return wait
                stop.wait(wait)
                continue
            except RecordError as error:
                self.metrics.errors.labels(kind="record").inc()
                bound.error(
                    "no vote: the ledger's records are not what this version reads",
                    error=str(error),
                )
                return Outcome.UNREADABLE
            if outcome is Outcome.VOTED:
                self.metrics.proposal_to_vote_seconds.observe(time.perf_counter() - seen)
            if outcome is Outcome.EXPIRED and fault is not None:
                # The last retry began past the deadline: we gave up on that fault.
                self._give_up(proposal_id, fault, bound)
            return outcome
        return Outcome.STOPPED

    def _after_fault(
        self, proposal_id: str, error: Exception, attempts: int, backoff: float, bound: Logger
    ) -> Outcome | float:
        """What a fault of ours leads to: the seconds to wait before the next attempt, or
        GAVE_UP. A late vote (the proposal is decided, nothing waits for it) is given up after
        a few attempts; an open proposal's when its deadline passes first."""
        if proposal_id in self._late and attempts >= _LATE_ATTEMPTS:
            self.metrics.errors.labels(kind="gave_up").inc()
            bound.error("no late vote", error=str(error), attempts=attempts)
            return Outcome.GAVE_UP
        # A read conflict means the ledger moved on meanwhile: resubmit at once.
        delay = 0.0 if is_read_conflict(error) else backoff
        return delay if self._postpone(proposal_id, error, delay, bound) else Outcome.GAVE_UP

    def _give_up(self, proposal_id: str, error: Exception, bound: Logger) -> None:
        deadline = self._deadlines.get(proposal_id)
        if isinstance(error, ModelBytesUnavailableError) and (
            deadline is not None and self.clock() < deadline
        ):
            self._report_unavailable(proposal_id, error, bound)
        self.metrics.errors.labels(kind="gave_up").inc()
        self.reports.note_no_vote(proposal_id, str(error))
        bound.error(
            "no vote: the deadline passes before the next attempt",
            error=str(error),
            deadline=deadline.isoformat() if deadline else None,
        )

    def _postpone(self, proposal_id: str, error: Exception, delay: float, bound: Logger) -> bool:
        """Log a fault of ours to be retried in `delay` seconds; False when the proposal's
        deadline passes before then (the vote is given up)."""
        deadline = self._deadlines.get(proposal_id)
        if deadline is not None and self.clock().timestamp() + delay >= deadline.timestamp():
            self._give_up(proposal_id, error, bound)
            return False
        kind = "ledger" if isinstance(error, FabricError) else type(error).__name__
        if is_read_conflict(error):
            kind = "read_conflict"
            self.metrics.conflicts.labels(path="vote").inc()
        elif isinstance(error, FabricError):
            self.metrics.errors.labels(kind="ledger").inc()
        bound.warning("vote postponed", kind=kind, error=str(error), retry_in=delay)
        return True

    def _attempt(
        self, proposal_id: str, bound: Logger, cancel: Cancellation | None = None
    ) -> Outcome:
        proposal = self._proposal(proposal_id)
        skip = self._skip_reason(proposal)
        if skip is not None:
            bound.info("not voting", why=skip.value, status=proposal.status)
            return skip
        earlier = self.service.registry.vote_of(proposal_id, self.organization)
        if earlier is not None and earlier.decision == "unavailable":
            # Our report counts for nothing; a real vote replaces it once the bytes are right.
            bound.info("trying again after our unavailable report", reason=earlier.reason)
        elif earlier is not None:
            bound.info(
                "already voted", decision=earlier.decision, transaction_id=earlier.transaction_id
            )
            if proposal.pending:
                self.after_vote(proposal_id)
            return Outcome.ALREADY_VOTED
        return self._cast(proposal, self._assess(proposal, bound, cancel), bound)

    def _assess(self, proposal: Proposal, bound: Logger, cancel: Cancellation | None) -> Assessment:
        """The proposal's assessment: evaluated once, kept until our vote on it is committed."""
        kept = self._assessments.get(proposal.id)
        if kept is not None:
            bound.info("resubmitting the vote of the kept evaluation")
            return kept
        bound.info(
            "evaluating",
            task_id=proposal.task_id,
            model_sha256=proposal.model_sha256,
            uri=proposal.uri,
        )
        model = ModelReference(proposal.uri, proposal.model_sha256, proposal.size_bytes)
        assessment = self.service.assess(
            Candidate(proposal.task_id, model, proposal.policy, proposal.proposer),
            wait=None,
            cancel=cancel,
        )
        self._assessments[proposal.id] = assessment
        return assessment

    def _proposal(self, proposal_id: str) -> Proposal:
        """The proposal as the ledger has it now; its deadline is remembered while PENDING."""
        proposal = self.service.registry.get_proposal(proposal_id)
        if proposal.pending:
            self._deadlines[proposal_id] = proposal.deadline
            self._late.discard(proposal_id)
        else:
            self._deadlines.pop(proposal_id, None)
            self._late.add(proposal_id)
        return proposal

    def _cast(self, proposal: Proposal, assessment: Assessment, bound: Logger) -> Outcome:
        report = assessment.report
        ballot = ballot_for(report, proposal.metric, assessment.holdout_rows)
        try:
            result = self.service.registry.cast_vote(
                proposal.id,
                decision=ballot.decision,
                metrics=ballot.metrics,
                holdout_rows=ballot.holdout_rows,
                evaluator_version=report.evaluator_version[:64],
                reason=ballot.reason,
            )
        except ChaincodeRefusalError as refusal:
            return self._refused(refusal, bound)
        vote = result.vote
        self.reports.save(
            VoteRecord(
                proposal_id=proposal.id,
                report=report,
                decision=vote.decision,
                reason=vote.reason,
                transaction_id=vote.transaction_id,
                voted_at=vote.cast_at.isoformat(),
                champion_score=assessment.champion_score,
            )
        )
        self.metrics.votes.labels(decision=vote.decision).inc()
        bound.info(
            "voted",
            decision=vote.decision,
            score=vote.score,
            reason=vote.reason,
            transaction_id=vote.transaction_id,
            proposal_status=result.proposal.status,
            late=result.late,
        )
        if result.proposal.pending:
            self.after_vote(proposal.id)
        return Outcome.VOTED

    def _report_unavailable(
        self, proposal_id: str, error: ModelBytesUnavailableError, bound: Logger
    ) -> None:
        """Record on the ledger, once per proposal, that we cannot get its model's bytes: an
        `unavailable` report, which counts for nothing and names the fault (never the URI, a
        local path of ours). A decided proposal gets none; a refusal or a ledger fault is
        logged, and a ledger fault lets the next fault try again."""
        if proposal_id in self._late or proposal_id in self._reported:
            return
        self._reported.add(proposal_id)
        try:
            result = self.service.registry.cast_vote(
                proposal_id,
                decision="unavailable",
                metrics={},
                holdout_rows=0,
                evaluator_version=evaluator_version()[:64],
                reason=_reason(error.report_reason),
            )
        except ChaincodeRefusalError as refusal:
            bound.warning("unavailable report refused", code=refusal.code.value)
            return
        except FabricError as failure:
            self._reported.discard(proposal_id)
            self.metrics.errors.labels(kind="ledger").inc()
            bound.warning("unavailable report not recorded yet", error=str(failure))
            return
        self.metrics.votes.labels(decision="unavailable").inc()
        bound.warning(
            "reported the model's bytes unavailable",
            fault=error.fault,
            transaction_id=result.vote.transaction_id,
        )

    def _refused(self, refusal: ChaincodeRefusalError, bound: Logger) -> Outcome:
        if refusal.code is RefusalCode.ALREADY_VOTED:
            bound.info("already voted", detail=refusal.message)
            return Outcome.ALREADY_VOTED
        if refusal.code is RefusalCode.NOT_PENDING:  # decided while we evaluated
            bound.info("not voting", why=Outcome.CLOSED.value, detail=refusal.message)
            return Outcome.CLOSED
        self.metrics.errors.labels(kind="vote_refused").inc()
        bound.error("vote refused", reason=refusal.message, transaction_id=refusal.transaction_id)
        return Outcome.REFUSED

    def _skip_reason(self, proposal: Proposal) -> Outcome | None:
        if proposal.pending:
            if self.organization not in proposal.electorate:
                return Outcome.NOT_IN_ELECTORATE
            return Outcome.EXPIRED if self.clock() >= proposal.deadline else None
        if self.organization in proposal.electorate:
            return None  # a late vote records our evaluation of it
        if proposal.status == "ACCEPTED":
            champion = self.service.registry.find_champion(proposal.task_id)
            if champion is not None and champion.proposal_id == proposal.id:
                return None  # a late vote on the champion records our champion score
        return Outcome.CLOSED
