"""The watcher: registry events in, one vote task per relevant proposal out.

It follows the chaincode's events from its checkpoint (a file in the state folder) and hands
every ProposalSubmitted for a task this organisation serves, and in whose electorate it is, to a
pool of voters. Before following events, and after every interruption, it reconciles: every
PENDING proposal of a served task is handed over too, and each served task's champion (so a
validator that was down when a proposal was accepted still scores it with a late vote). So the
checkpoint saves replaying history,
and correctness never depends on it: a proposal whose event was checkpointed just before a
crash is still PENDING without our vote, and is found again. Every other member's VoteCast
on a served task goes to the decider (validator/deciding.py), which submits Decide when the
votes decide. Beside it runs the expirer (validator/expiry.py), which settles the served tasks'
proposals once their deadline passes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import structlog

from fedledger.evaluate.cancel import Cancellation
from fedledger.fabric import Backoff, ChaincodeEvent, FabricError, FileCheckpointer
from fedledger.registry import (
    ProposalDecided,
    ProposalSubmitted,
    RecordError,
    Registry,
    VoteCast,
    parse_event,
)
from fedledger.validator.deciding import Decider
from fedledger.validator.expiry import Expirer
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.voting import Outcome, Voter

log = structlog.get_logger("fedledger.validator")

# Events from block `start`, or from after the checkpoint when `start` is None.
EventSource = Callable[[int | None], Iterable[ChaincodeEvent]]


class Watcher:
    def __init__(
        self,
        voter: Voter,
        registry: Registry,
        tasks: list[str],
        events: EventSource,
        height: Callable[[], int],
        checkpointer: FileCheckpointer,
        metrics: ValidatorMetrics,
        workers: int,
        backoff: Backoff,
        expirer: Expirer | None = None,
        decider: Decider | None = None,
    ) -> None:
        self.voter = voter
        self.registry = registry
        self.tasks = set(tasks)
        self._events = events
        self._height = height
        self.checkpointer = checkpointer
        self.metrics = metrics
        self._backoff = backoff
        self.expirer = expirer
        self.decider = decider
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="fedledger-vote")
        self._pending: dict[str, Future[Outcome]] = {}
        self._cancels: dict[str, Cancellation] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stream: Iterable[ChaincodeEvent] | None = None
        self._thread = threading.Thread(target=self._run, name="fedledger-watcher", daemon=True)

    @property
    def organization(self) -> str:
        return self.voter.organization

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    @property
    def last_block(self) -> int:
        """The last block whose events were processed (0 before any)."""
        checkpoint = self.checkpointer.checkpoint
        if checkpoint is None:
            return 0
        # A checkpoint after a whole block points at the next one (FileCheckpointer).
        return checkpoint.block_number if checkpoint.transaction_id else checkpoint.block_number - 1

    def start(self) -> None:
        self._thread.start()
        if self.expirer is not None:
            self.expirer.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self.expirer is not None:
            self.expirer.stop(timeout)
        if self.decider is not None:
            self.decider.stop()
        stream = self._stream
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        delays = self._backoff.delays()
        while not self._stop.is_set():
            try:
                # Without a checkpoint the events start at the height read before reconciling:
                # a proposal committed while reconciling is then in the stream, not lost
                # between the two (the stream would otherwise start at the next commit).
                start = None if self.checkpointer.checkpoint is not None else self._height()
                self.reconcile()
                self._stream = self._events(start)
                delays = self._backoff.delays()
                self._follow(self._stream)
            except FabricError as error:
                self.metrics.errors.labels(kind="ledger").inc()
                delay = next(delays)
                log.warning("watcher interrupted", error=str(error), retry_in=delay)
                self._stop.wait(delay)
            except Exception as error:
                # The watcher is the organisation's voice: log, count, and carry on.
                self.metrics.errors.labels(kind="watcher").inc()
                delay = next(delays)
                log.exception("watcher failed", error=str(error), retry_in=delay)
                self._stop.wait(delay)

    def _follow(self, stream: Iterable[ChaincodeEvent]) -> None:
        for raw in stream:
            try:
                event = parse_event(raw)
            except RecordError as error:
                self.metrics.errors.labels(kind="record").inc()
                log.warning(
                    "unreadable event skipped", error=str(error), transaction_id=raw.transaction_id
                )
                event = None
            if isinstance(event, ProposalSubmitted) and self._concerns(event):
                log.info(
                    "proposal submitted",
                    proposal_id=event.proposal_id,
                    task_id=event.task_id,
                    transaction_id=raw.transaction_id,
                    block=raw.block_number,
                )
                self.schedule(event.proposal_id)
                if self.expirer is not None:
                    self.expirer.wake()
            elif isinstance(event, VoteCast) and self.decider and self._may_decide(event):
                self.decider.consider(event.proposal_id)
            elif isinstance(event, ProposalDecided) and event.status != "ACCEPTED":
                # An accepted proposal is the champion: our evaluation of it goes on and is
                # cast as a late vote, our champion score (voting.py).
                self.cancel(event.proposal_id, f"the proposal was decided ({event.status})")
            self.checkpointer.checkpoint_event(raw)
            self.metrics.last_block.set(raw.block_number)

    def _may_decide(self, event: VoteCast) -> bool:
        """Whether another member's vote may have completed a decision we should submit."""
        return not event.late and event.voter != self.organization and event.task_id in self.tasks

    def _concerns(self, event: ProposalSubmitted) -> bool:
        return event.task_id in self.tasks and self.organization in event.electorate

    def reconcile(self) -> None:
        """Hand over every PENDING proposal of a served task in whose electorate we are, and
        each served task's champion (the voter casts a late vote on it if we never voted)."""
        for task_id in sorted(self.tasks):
            for proposal in self.registry.all_proposals(task_id=task_id, status="PENDING"):
                if self.organization in proposal.electorate:
                    self.schedule(proposal.id)
            champion = self.registry.find_champion(task_id)
            if champion is not None:
                self.schedule(champion.proposal_id)

    def cancel(self, proposal_id: str, reason: str) -> None:
        """Cancel the evaluation of a proposal being voted on (its sandbox is killed at once;
        the voter casts an abstention saying why). Nothing happens for other proposals."""
        with self._lock:
            cancel = self._cancels.get(proposal_id)
        if cancel is not None:
            log.info("evaluation cancelled", proposal_id=proposal_id, why=reason)
            cancel.cancel(reason)

    def schedule(self, proposal_id: str) -> None:
        with self._lock:
            if proposal_id in self._pending or self._stop.is_set():
                return
            cancel = Cancellation()
            future = self._pool.submit(self.voter.vote_on, proposal_id, self._stop, cancel)
            self._pending[proposal_id] = future
            self._cancels[proposal_id] = cancel
            self.metrics.pending.set(len(self._pending))
        future.add_done_callback(lambda done: self._finished(proposal_id, done))

    def _finished(self, proposal_id: str, future: Future[Outcome]) -> None:
        with self._lock:
            self._pending.pop(proposal_id, None)
            self._cancels.pop(proposal_id, None)
            self.metrics.pending.set(len(self._pending))
        if not future.cancelled() and future.exception() is not None:
            self.metrics.errors.labels(kind="voter").inc()
            log.error("voter failed", proposal_id=proposal_id, error=repr(future.exception()))
