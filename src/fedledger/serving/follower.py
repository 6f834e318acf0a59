"""Keeping the champion current: from the ledger's events (a long-running server) or by asking
the ledger at most every N seconds (a Lambda, whose process is frozen between invocations).

The follower reads the champion, then follows the chaincode's events from the block height read
before that read, so a decision committed in between is in the stream rather than lost. A
decision of the task (ProposalDecided) or an applied change of it (ChangeDecided: revoking the
champion) triggers a refresh; the refresh reads the champion record itself, so what is served
never depends on an event's interpretation, and an interrupted stream is followed by a fresh
read on reconnection. No checkpoint is kept: the champion is state, read again at each start.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence

import structlog

from fedledger.fabric import Backoff, ChaincodeEvent
from fedledger.serving.champion import ChampionHolder
from fedledger.serving.metrics import ServingMetrics

log = structlog.get_logger("fedledger.serving")

# Events from block `start` on.
EventSource = Callable[[int], Iterable[ChaincodeEvent]]
CHAMPION_EVENTS = frozenset({"ProposalDecided", "ChangeDecided"})
# Told of every event the follower reads (the dashboard's live updates); must not raise.
EventListener = Callable[[ChaincodeEvent], None]


def concerns_champion(event: ChaincodeEvent, task_id: str) -> bool:
    """Whether `event` may have changed the champion of `task_id`: a decision on one of its
    proposals, or a change to it that was settled. An unreadable payload counts as yes (the
    refresh reads the ledger, so a needless one costs one query)."""
    if event.event_name not in CHAMPION_EVENTS:
        return False
    try:
        payload = json.loads(event.payload)
    except ValueError:
        return True
    return not isinstance(payload, dict) or payload.get("taskId") == task_id


class EventFollower:
    """A daemon thread: refresh, follow, refresh on every event that concerns the champion;
    after a failure, wait (backoff) and start over. Every event read is also handed to each of
    `listeners`, so the process holds one event stream whoever needs it; each of `interrupted`
    is called when the stream ends or fails (events may be missed until it is open again)."""

    def __init__(
        self,
        holder: ChampionHolder,
        events: EventSource,
        height: Callable[[], int],
        metrics: ServingMetrics,
        backoff: Backoff,
        listeners: Sequence[EventListener] = (),
        interrupted: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.holder = holder
        self._listeners = tuple(listeners)
        self._interrupted = tuple(interrupted)
        self._events = events
        self._height = height
        self._metrics = metrics
        self._backoff = backoff
        self._stop = threading.Event()
        self._stream: Iterable[ChaincodeEvent] | None = None
        self.connected = False
        self._thread = threading.Thread(target=self._run, name="fedledger-serving", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        delays = self._backoff.delays()
        while not self._stop.is_set():
            try:
                start = self._height()
                self.holder.refresh()
                self._stream = self._events(start)
                self.connected = True
                delays = self._backoff.delays()
                self._follow(self._stream)
                delay = self._backoff.initial  # the stream ended: closed, or by the peer
            except Exception as error:
                # The service keeps answering with the model it has; log, count, retry.
                self._metrics.errors.labels(kind=_kind(error)).inc()
                delay = next(delays)
                log.warning("champion follower interrupted", error=str(error), retry_in=delay)
            finally:
                self.connected = False
                for hook in self._interrupted:
                    hook()
            self._stop.wait(delay)

    def _follow(self, stream: Iterable[ChaincodeEvent]) -> None:
        for event in stream:
            if self._stop.is_set():
                return
            for listener in self._listeners:
                listener(event)
            if concerns_champion(event, self.holder.task_id):
                log.info(
                    "champion may have changed",
                    event_name=event.event_name,
                    block=event.block_number,
                    transaction_id=event.transaction_id,
                )
                self.holder.refresh()


def _kind(error: Exception) -> str:
    from fedledger.fabric import FabricError

    if isinstance(error, FabricError):
        return "ledger"
    return "load" if type(error).__module__.startswith("fedledger.") else "follower"


class ChampionPoller:
    """For a Lambda: before an invocation, ask the ledger for the champion if the last answer
    is older than `interval` seconds (a frozen process runs no thread between invocations)."""

    def __init__(
        self,
        holder: ChampionHolder,
        interval: float,
        metrics: ServingMetrics,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.holder = holder
        self.interval = interval
        self._metrics = metrics
        self._timer = timer
        self._checked_at: float | None = None

    def check(self) -> None:
        """Refresh the champion when due; a failure is logged and counted, and the model in
        service stays (the next invocation tries again). Raises nothing."""
        now = self._timer()
        if self._checked_at is not None and now - self._checked_at < self.interval:
            return
        try:
            self.holder.refresh()
            self._checked_at = now
        except Exception as error:
            self._metrics.errors.labels(kind=_kind(error)).inc()
            log.warning("champion check failed", error=str(error))
