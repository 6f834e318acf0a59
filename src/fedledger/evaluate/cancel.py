"""Cancelling an evaluation from another thread: the sandbox is killed at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fedledger.evaluate.errors import EvaluationCancelledError


class Cancellation:
    """Set once, by whoever learns the evaluation is no longer wanted (the validator's watcher
    when the proposal is decided); whoever is doing the work registers what stops it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._next = 0

    @property
    def reason(self) -> str | None:
        return self._reason

    def cancel(self, reason: str) -> None:
        """Cancel with `reason` (the first reason stays) and run every registered callback."""
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
            callbacks = list(self._callbacks.values())
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` when cancelled (at once if already); returns what unregisters it."""
        with self._lock:
            if self._reason is None:
                key = self._next
                self._next += 1
                self._callbacks[key] = callback
                return lambda: self._forget(key)
        callback()
        return lambda: None

    def _forget(self, key: int) -> None:
        with self._lock:
            self._callbacks.pop(key, None)

    def check(self, seconds: float) -> None:
        """Raises EvaluationCancelledError, saying the work ran `seconds`, when cancelled."""
        if self._reason is not None:
            raise EvaluationCancelledError(self._reason, seconds)
