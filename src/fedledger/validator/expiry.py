"""The expirer: a validator closes the expired proposals of its tasks on its own.

An open proposal counts against its proposer's `maxOpenProposalsPerOrg` until someone closes it,
so expiry must not wait for a person. The expirer sleeps until the earliest deadline among the
served tasks' PENDING proposals (at most `poll_seconds`; the watcher wakes it when a proposal
is submitted), then submits CloseExpired for each one past its deadline. Every member's
validator does the same: one closes, the others find it closed and say nothing more than a
debug line (fedledger.registry.expiry).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import structlog

from fedledger.fabric import Backoff, FabricError
from fedledger.registry import RecordError, Registry
from fedledger.registry.expiry import close_one, split_pending
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.voting import Clock

log = structlog.get_logger("fedledger.validator")

# Submit a little after the deadline: the chaincode compares with our transaction's time, and
# a close refused as early only costs a round trip, but there is no point in asking too soon.
_AFTER_DEADLINE = 0.05


class Expirer:
    def __init__(
        self,
        registry: Registry,
        tasks: Iterable[str],
        clock: Clock,
        metrics: ValidatorMetrics,
        backoff: Backoff,
        poll_seconds: float = 30.0,
    ) -> None:
        self.registry = registry
        self.tasks = sorted(set(tasks))
        self._clock = clock
        self._metrics = metrics
        self._backoff = backoff
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fedledger-expirer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Look at the deadlines again now (a proposal was submitted)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def sweep(self) -> float:
        """Close what has expired; return how long to sleep before the next sweep."""
        expired, upcoming = split_pending(self.registry, self.tasks, self._clock())
        for proposal in expired:
            closing = close_one(self.registry, proposal)
            proposal_id = closing.record_id
            if closing.result == "closed":
                log.info(
                    "closed expired proposal", proposal_id=proposal_id, task_id=closing.task_id
                )
            elif closing.result == "closed elsewhere":
                log.debug("expired proposal closed by another member", proposal_id=proposal_id)
            else:
                self._metrics.errors.labels(kind="close_refused").inc()
                log.warning("close refused", proposal_id=proposal_id, reason=closing.message)
        if not upcoming:
            return self._poll
        next_deadline = min(p.deadline for p in upcoming)
        until = (next_deadline - self._clock()).total_seconds() + _AFTER_DEADLINE
        return min(max(until, _AFTER_DEADLINE), self._poll)

    def _run(self) -> None:
        delays = self._backoff.delays()
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = self.sweep()
                delays = self._backoff.delays()
            except (FabricError, RecordError) as error:
                self._metrics.errors.labels(kind="expirer").inc()
                wait = next(delays)
                log.warning("expired proposals not closed yet", error=str(error), retry_in=wait)
            self._wake.wait(wait)
