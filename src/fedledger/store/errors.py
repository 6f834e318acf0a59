"""Store errors. What each means to a validator is decided in validator/evaluation.py: an
InvalidUriError, or a ModelTooLargeError for a model the proposal itself declares too large,
rejects the model; every other error is the store's fault, retried until the deadline
(HashMismatchError and ObjectNotFoundError as "model bytes unavailable")."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: a permanent problem with the object or its address."""


class InvalidUriError(StoreError):
    pass


class ObjectNotFoundError(StoreError):
    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"no object at {uri}")


class HashMismatchError(StoreError):
    def __init__(self, uri: str, expected: str, actual: str) -> None:
        self.uri, self.expected, self.actual = uri, expected, actual
        super().__init__(f"object at {uri} has SHA-256 {actual}, expected {expected}")


class ModelTooLargeError(StoreError):
    def __init__(self, uri: str, size: int, limit: int, *, at_least: bool = False) -> None:
        self.uri, self.size, self.limit = uri, size, limit
        amount = f"at least {size}" if at_least else str(size)
        super().__init__(f"object at {uri} is {amount} bytes, over the {limit}-byte limit")


class StoreUnavailableError(StoreError):
    """A transient fault (network, throttling, 5xx): worth retrying later."""
