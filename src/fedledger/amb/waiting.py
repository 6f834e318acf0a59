"""Waiting for an AMB resource to become AVAILABLE: a network takes about half an hour, a
member or a peer node some minutes. Each change of status is logged; the caller may also show
every poll (a progress display). The clock and the sleep are passed in, for the tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from fedledger.amb.errors import AmbWaitError

log = structlog.get_logger("fedledger.amb")

AVAILABLE = "AVAILABLE"
# Statuses from which a resource never becomes AVAILABLE by waiting.
FAILED = frozenset(
    {"CREATE_FAILED", "FAILED", "DELETING", "DELETED", "INACCESSIBLE_ENCRYPTION_KEY"}
)

Progress = Callable[[str, str, float], None]


@dataclass(frozen=True)
class Waiting:
    """How long to wait (seconds; `--wait`) and how often to ask."""

    timeout: float
    interval: float = 10.0
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)


def wait_until_available(
    what: str,
    status_of: Callable[[], str],
    waiting: Waiting,
    progress: Progress | None = None,
) -> float:
    """Ask `status_of` until it answers AVAILABLE; the seconds waited. `what` names the
    resource in logs and errors. Raises AmbWaitError naming the status when the resource
    failed or the wait ran out; errors of `status_of` (AmbError) pass through."""
    start = waiting.clock()
    last = ""
    while True:
        status = status_of()
        elapsed = waiting.clock() - start
        if status != last:
            log.info("amb status", resource=what, status=status, waited_s=round(elapsed, 1))
            last = status
        if progress is not None:
            progress(what, status, elapsed)
        if status == AVAILABLE:
            return elapsed
        if status in FAILED:
            raise AmbWaitError(
                f"{what} is {status}: it will not become AVAILABLE; see its events in the AMB "
                "console, then create it again",
                status,
            )
        if elapsed >= waiting.timeout:
            raise AmbWaitError(
                f"{what} is still {status} after {waiting.timeout:g} s (--wait): AMB takes about "
                "30 minutes for a network and 10 for a node; check later with "
                "`fedledger amb status`, or run again with a longer --wait",
                status,
            )
        waiting.sleep(min(waiting.interval, waiting.timeout - elapsed))
