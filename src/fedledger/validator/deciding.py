"""The decider: submits Decide once the recorded votes decide a proposal.

Votes are counted by the chaincode's Decide transaction, never by the votes themselves
(chaincode/src/decisions.ts), so that every member's vote commits in the same block. The decider
is asked to consider a proposal whenever a decision may be due: after this organisation's vote
commits, and on every other member's VoteCast event. It first simulates Decide on its gateway
peer (`Registry.preview_decision`: nothing is ordered) and submits only when the votes decide.

Every validator sees the same votes at the same moment, so they take turns: the first voter in
MSP-id order submits at once, the k-th waits k times the stagger and submits only if the proposal is
still undecided. A Decide that still races another is harmless: one commits, the other is
invalidated by Fabric (counted as a decide read conflict) or refused as NOT_PENDING. At the
deadline the expirer settles what is left (validator/expiry.py).

A chaincode before 0.2 has no Decide (its deciding vote settled the proposal): the preview's
refusal then carries no code, and the decider does nothing.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

import structlog

from fedledger.fabric import Backoff, CommitError, FabricError
from fedledger.registry import ChaincodeRefusalError, Proposal, RecordError, RefusalCode, Registry
from fedledger.validator.metrics import ValidatorMetrics

log = structlog.get_logger("fedledger.validator")

READ_CONFLICTS = frozenset({"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"})
# The votes of one block reach a validator as a burst of events (and its own commit): waiting
# this long before the first look lets the whole burst make one preview, not one per vote.
_GATHER_SECONDS = 0.05
# A few rounds are plenty: each failed round means another member's transaction moved the
# proposal on, and the next VoteCast or the deadline asks again.
_MAX_ROUNDS = 5


class Decision(StrEnum):
    """What `Decider.settle` did (its value is what the logs say)."""

    DECIDED = "decided"
    UNDECIDED = "undecided"
    SETTLED_ELSEWHERE = "settled_elsewhere"
    UNSUPPORTED = "unsupported"
    REFUSED = "refused"
    GAVE_UP = "gave_up"
    STOPPED = "stopped"


def is_read_conflict(error: BaseException) -> bool:
    """Whether Fabric invalidated the transaction because what it read changed meanwhile."""
    return isinstance(error, CommitError) and error.code_name in READ_CONFLICTS


class Decider:
    def __init__(
        self,
        registry: Registry,
        organization: str,
        metrics: ValidatorMetrics,
        stagger_seconds: float,
        backoff: Backoff,
    ) -> None:
        self.registry = registry
        self.organization = organization
        self._metrics = metrics
        self._stagger = stagger_seconds
        self._backoff = backoff
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="fedledger-decide")
        self._lock = threading.Lock()
        self._active: set[str] = set()
        self._again: set[str] = set()
        self._stop = threading.Event()
        self._warned_unsupported = False

    def consider(self, proposal_id: str) -> None:
        """Settle the proposal in the background if its votes decide it (a request arriving
        while the proposal is being considered makes it considered once more after)."""
        with self._lock:
            if self._stop.is_set():
                return
            if proposal_id in self._active:
                self._again.add(proposal_id)
                return
            self._active.add(proposal_id)
        self._pool.submit(self._consider, proposal_id)

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _consider(self, proposal_id: str) -> None:
        self._stop.wait(_GATHER_SECONDS)
        with self._lock:
            self._again.discard(proposal_id)  # what arrived meanwhile is in the first look
        while True:
            try:
                self.settle(proposal_id)
            except Exception as error:
                # A bug here must not end the decider: the deadline still settles the proposal.
                self._metrics.errors.labels(kind="decider").inc()
                log.exception("decider failed", proposal_id=proposal_id, error=str(error))
            with self._lock:
                if proposal_id not in self._again or self._stop.is_set():
                    self._active.discard(proposal_id)
                    self._again.discard(proposal_id)
                    return
                self._again.discard(proposal_id)

    def settle(self, proposal_id: str) -> Decision:
        """Submit Decide when the proposal's recorded votes decide it, taking our turn."""
        bound = log.bind(proposal_id=proposal_id)
        delays = self._backoff.delays()
        waited = False
        for _ in range(_MAX_ROUNDS):
            if self._stop.is_set():
                return Decision.STOPPED
            try:
                preview = self.registry.preview_decision(proposal_id)
                turn = self._turn(preview)
                if turn > 0 and not waited:
                    waited = True
                    self._stop.wait(turn * self._stagger)
                    continue
                decided = self.registry.decide(proposal_id)
            except ChaincodeRefusalError as refusal:
                return self._refused(refusal, bound)
            except RecordError as error:
                self._metrics.errors.labels(kind="record").inc()
                bound.error("no decision: unreadable proposal", error=str(error))
                return Decision.REFUSED
            except FabricError as error:
                self._retrying(error, next(delays), bound)
                continue
            self._metrics.decisions.labels(status=decided.status).inc()
            bound.info("decided", status=decided.status, reason=decided.status_reason)
            return Decision.DECIDED
        bound.warning("no decision yet: other members' transactions kept moving the proposal on")
        return Decision.GAVE_UP

    def _turn(self, preview: Proposal) -> int:
        """0 for the first voter in MSP-id order, k for the k-th; a non-voter goes last."""
        voters = sorted(preview.tally.votes)
        return voters.index(self.organization) if self.organization in voters else len(voters)

    def _retrying(self, error: FabricError, delay: float, bound: structlog.BoundLogger) -> None:
        if is_read_conflict(error):
            self._metrics.conflicts.labels(path="decide").inc()
            bound.info("decision raced another member's transaction", error=str(error))
            return
        self._metrics.errors.labels(kind="ledger").inc()
        bound.warning("decision postponed", error=str(error), retry_in=delay)
        self._stop.wait(delay)

    def _refused(self, refusal: ChaincodeRefusalError, bound: structlog.BoundLogger) -> Decision:
        if refusal.code is RefusalCode.UNDECIDED:
            bound.debug("votes decide nothing yet")
            return Decision.UNDECIDED
        if refusal.code is RefusalCode.NOT_PENDING:
            bound.debug("proposal already settled")
            return Decision.SETTLED_ELSEWHERE
        if refusal.code is RefusalCode.UNKNOWN:
            if not self._warned_unsupported:
                self._warned_unsupported = True
                bound.warning(
                    "the chaincode has no Decide (before 0.2): its deciding vote settles",
                    detail=refusal.message,
                )
            return Decision.UNSUPPORTED
        self._metrics.errors.labels(kind="decide_refused").inc()
        bound.error("decision refused", reason=refusal.message)
        return Decision.REFUSED
