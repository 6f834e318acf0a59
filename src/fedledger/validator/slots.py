"""The evaluation slots of one validator, with a share per proposer.

At most `size` evaluations run at once, and at most `per_owner` of them for one owner (the
proposer of the model): a member proposing models that use their whole budget cannot take
every slot, so another member's proposal is evaluated meanwhile. Callers without an owner
(an Evaluate request) count only against `size`. A waiting caller takes the first slot free for
it; it gives up after `wait` seconds, or at once when its evaluation is cancelled.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fedledger.evaluate.cancel import Cancellation
from fedledger.validator.errors import LimitExceededError


def default_slots() -> int:
    """One evaluation per core (the sandbox runs onnxruntime on one thread), at least one."""
    return max(1, os.cpu_count() or 1)


def default_share(size: int) -> int:
    """Half the slots, rounded up, and never all of them when there are two or more."""
    return 1 if size <= 1 else min(size - 1, math.ceil(size / 2))


class Slots:
    """`size` slots, at most `per_owner` (default: `default_share(size)`) for one owner."""

    def __init__(
        self,
        size: int,
        per_owner: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.per_owner = min(size, per_owner or default_share(size))
        self._clock = clock
        self._changed = threading.Condition()
        self._owners: Counter[str] = Counter()
        self.running = 0

    def held_by(self, owner: str) -> int:
        with self._changed:
            return self._owners[owner]

    @contextmanager
    def hold(
        self, wait: float | None, owner: str | None = None, cancel: Cancellation | None = None
    ) -> Iterator[None]:
        """Hold one slot for the block.

        Raises LimitExceededError when none frees for `owner` within `wait` seconds (None:
        wait as long as it takes), EvaluationCancelledError when `cancel` is cancelled first.
        """
        self._acquire(wait, owner, cancel)
        try:
            yield
        finally:
            with self._changed:
                self.running -= 1
                if owner is not None:
                    self._owners[owner] -= 1
                self._changed.notify_all()

    def _free_for(self, owner: str | None) -> bool:
        if self.running >= self.size:
            return False
        return owner is None or self._owners[owner] < self.per_owner

    def _acquire(self, wait: float | None, owner: str | None, cancel: Cancellation | None) -> None:
        started = self._clock()
        forget = cancel.on_cancel(self._wake) if cancel is not None else (lambda: None)
        try:
            with self._changed:
                while not self._free_for(owner):
                    if cancel is not None:
                        cancel.check(self._clock() - started)
                    left = None if wait is None else wait - (self._clock() - started)
                    if left is not None and left <= 0:
                        raise LimitExceededError(self._busy(owner))
                    self._changed.wait(left)
                if cancel is not None:
                    cancel.check(self._clock() - started)
                self.running += 1
                if owner is not None:
                    self._owners[owner] += 1
        finally:
            forget()

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _busy(self, owner: str | None) -> str:
        if self.running < self.size and owner is not None:
            return (
                f"{owner} already holds {self._owners[owner]} of the {self.size} evaluation "
                f"slot(s) of this validator, its share; retry later"
            )
        return f"all {self.size} evaluation slot(s) of this validator are busy; retry later"
