"""Announcing on the ledger which tasks this organisation's validator serves.

A proposer cannot otherwise tell a member whose validator evaluates the task from one whose
validator is down or was never configured for it: its proposal waits for its deadline in
silence. So the validator announces its tasks (AnnounceValidator, one record per organisation)
when it starts, which also covers any change of its configuration, and again every
ANNOUNCE_INTERVAL while it runs; `fedledger propose` warns about members without a fresh
announcement and `fedledger task show` lists them (docs/validator.md#announcements).

Only tasks this organisation is a member of are announced (the chaincode refuses the others);
a configured task that is not, or does not exist, is logged and left out. A ledger that cannot
be reached is retried with backoff; an announcement never stops the validator.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

import structlog

from fedledger.fabric import Backoff, FabricError
from fedledger.registry import (
    ChaincodeRefusalError,
    RecordError,
    RefusalCode,
    Registry,
    Task,
    ValidatorAnnouncement,
)

log = structlog.get_logger("fedledger.validator")

ANNOUNCE_INTERVAL = timedelta(hours=6)


class Announcer:
    """Announces `task_ids()` as served by `organization`'s validator, at start and then every
    `interval`, in a thread of its own."""

    def __init__(
        self,
        registry: Registry,
        organization: str,
        task_ids: Sequence[str],
        evaluator_version: str,
        backoff: Backoff,
        interval: timedelta = ANNOUNCE_INTERVAL,
    ) -> None:
        self.registry = registry
        self.organization = organization
        self.task_ids = sorted(set(task_ids))
        self.evaluator_version = evaluator_version[:64]
        self._backoff = backoff
        self._interval = interval.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fedledger-announcer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def servable(self) -> list[str]:
        """The configured tasks this organisation is a member of; the others are logged.

        Raises FabricError when the ledger cannot be read, RecordError for a task this version
        cannot read."""
        served = []
        for task_id in self.task_ids:
            task = self._task(task_id)
            if task is None:
                log.error("not announcing a task that does not exist", task_id=task_id)
            elif self.organization not in task.members:
                log.error(
                    "not announcing a task this organisation is not a member of",
                    task_id=task_id,
                    members=list(task.members),
                )
            else:
                served.append(task_id)
        return served

    def _task(self, task_id: str) -> Task | None:
        try:
            return self.registry.get_task(task_id)
        except ChaincodeRefusalError as refusal:
            if refusal.code is RefusalCode.TASK_NOT_FOUND:
                return None
            raise

    def announce(self) -> ValidatorAnnouncement:
        """Announce the servable tasks now.

        Raises FabricError when the ledger cannot be reached, ChaincodeRefusalError when the
        chaincode refuses (a task removed meanwhile), RecordError for an unreadable reply."""
        announcement = self.registry.announce_validator(self.servable(), self.evaluator_version)
        log.info(
            "announced",
            tasks=sorted(announcement.tasks),
            evaluator_version=announcement.evaluator_version,
            transaction_id=announcement.transaction_id,
        )
        return announcement

    def _run(self) -> None:
        delays = self._backoff.delays()
        while not self._stop.is_set():
            failure: Exception | None = None
            try:
                self.announce()
            except (FabricError, RecordError, ChaincodeRefusalError) as error:
                failure = error
            if failure is None:
                delays = self._backoff.delays()
                wait = self._interval
            else:
                wait = next(delays)
                log.warning("announcement postponed", error=str(failure), retry_in=wait)
            self._stop.wait(wait)
