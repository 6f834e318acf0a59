"""A bound on the evaluations one validator runs at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fedledger.validator.errors import LimitExceededError


class Slots:
    """At most `size` evaluations at once; a caller waits at most `wait` seconds for a slot."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._semaphore = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.running = 0

    @contextmanager
    def hold(self, wait: float | None) -> Iterator[None]:
        """Hold one evaluation slot for the block; raises LimitExceededError when none frees
        within `wait` seconds.
        """
        if not self._semaphore.acquire(timeout=wait):
            raise LimitExceededError(
                f"all {self.size} evaluation slot(s) of this validator are busy; retry later"
            )
        with self._lock:
            self.running += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._semaphore.release()
