"""The watch loop: list the source at start, then take S3 events from the queue (or list again
every interval), and hand each object not yet recorded to the Proposer."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Protocol

from fedledger.upload.errors import UploadSourceError
from fedledger.upload.objects import UploadedObject
from fedledger.upload.proposer import FAILED, RECORDED, Outcome, Proposer
from fedledger.upload.queue import EventQueue
from fedledger.upload.state import Entry, WatchState
from fedledger.upload.summary import PassSummary

log = logging.getLogger("fedledger.upload")
# A pass's summary is routine (INFO); the command line shows this logger's INFO records while
# keeping the others' at WARNING (cli/watch.py).
passes = logging.getLogger("fedledger.upload.passes")
QUEUE_WAIT_SECONDS = 1  # a long poll short enough that a stop request is seen at once


class Source(Protocol):
    def listing(self) -> Iterable[UploadedObject]: ...


class Watcher:
    """Proposes each new object of `source` once; `report` hears every outcome but the
    objects already recorded in `state`."""

    def __init__(
        self,
        proposer: Proposer,
        source: Source,
        state: WatchState | None,
        *,
        report: Callable[[Outcome], None],
        queue: EventQueue | None = None,
        interval: float = 30.0,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.proposer = proposer
        self.source = source
        self.state = state
        self.report = report
        self.queue = queue
        self.interval = interval
        self.stop = stop or threading.Event()
        self.clock = clock

    def run(self) -> None:
        """Until `stop` is set: a listing at once (it catches what was uploaded while no watcher
        ran), then the queue's events, and a listing every `interval`.

        Raises StateFileError when the state file cannot be used; a source that cannot be read
        is logged and tried again."""
        next_listing = self.clock()
        while not self.stop.is_set():
            if self.clock() >= next_listing:
                self._guarded(self.sweep)
                next_listing = self.clock() + self.interval
            if self.queue is not None:
                self._guarded(self.drain_queue)
            else:
                self.stop.wait(max(0.0, next_listing - self.clock()))

    def _guarded(self, step: Callable[[], object]) -> None:
        try:
            step()
        except UploadSourceError as error:
            log.warning("%s", json.dumps({"event": "source-error", "detail": str(error)}))

    def sweep(self) -> list[Outcome]:
        """Consider every object of the source; the outcomes of those not recorded before.

        Raises UploadSourceError when the source cannot be listed, StateFileError."""
        return list(self.sweep_summary().outcomes)

    def sweep_summary(self) -> PassSummary:
        """Consider every object of the source; what the pass saw and did, also logged.

        Raises UploadSourceError when the source cannot be listed, StateFileError."""
        seen, outcomes = 0, []
        for uploaded in self.source.listing():
            if self.stop.is_set():
                break
            seen += 1
            outcome = self.consider(uploaded)
            if outcome is not None:
                outcomes.append(outcome)
        return _logged(PassSummary(repr(self.source), seen, tuple(outcomes)))

    def drain_queue(self) -> list[Outcome]:
        """Consider the objects of the messages that arrive within QUEUE_WAIT_SECONDS; a
        message is deleted once none of its objects failed.

        Raises UploadSourceError when the queue cannot be read, StateFileError."""
        assert self.queue is not None
        seen, outcomes = 0, []
        for message in self.queue.receive(QUEUE_WAIT_SECONDS):
            seen += len(message.objects)
            handled = [self.consider(uploaded) for uploaded in message.objects]
            found = [outcome for outcome in handled if outcome is not None]
            outcomes.extend(found)
            if not message.readable:
                log.warning("%s", json.dumps({"event": "unreadable-message"}))
            if all(outcome.outcome != FAILED for outcome in found):
                self.queue.delete(message)
        if seen:  # a poll that brought nothing is not worth a record every second
            _logged(PassSummary(f"queue {self.queue.url}", seen, tuple(outcomes)))
        return outcomes

    def consider(self, uploaded: UploadedObject) -> Outcome | None:
        """Propose `uploaded` unless the state records it at its etag; None when it did.

        Raises StateFileError."""
        if self.state is None:
            return self._reported(self.proposer.handle(uploaded))
        with self.state.locked() as entries:
            recorded = entries.get(uploaded.location)
            if recorded is not None and recorded.etag == uploaded.etag:
                return None
            outcome = self.proposer.handle(uploaded)
            if outcome.outcome in RECORDED:
                entries[uploaded.location] = entry_of(outcome)
        return self._reported(outcome)

    def _reported(self, outcome: Outcome) -> Outcome:
        level = logging.INFO if outcome.outcome in RECORDED[:2] else logging.WARNING
        log.log(level, "%s", json.dumps({"event": "upload", **asdict(outcome)}))
        self.report(outcome)
        return outcome


def _logged(summary: PassSummary) -> PassSummary:
    passes.info("%s", json.dumps(summary.record()))
    return summary


def entry_of(outcome: Outcome) -> Entry:
    detail = f"{outcome.code} {outcome.detail}".strip()
    return Entry(
        outcome.etag,
        outcome.outcome,
        outcome.task,
        outcome.sha256,
        outcome.proposal_id,
        detail,
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
