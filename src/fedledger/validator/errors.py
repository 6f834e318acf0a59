"""The validator's errors, under one root, `ValidatorError`. The servicer turns each kind of
request error into one gRPC status code; the watcher retries the ones that are our fault and
turns the model's faults into REJECT votes. `StartError` and `config.ConfigError` come before
any request: the validator does not start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedledger.evaluate.report import EvaluationReport
    from fedledger.store.errors import StoreError


class ValidatorError(Exception):
    """Base class; the message is meant for the person who called."""


class InvalidRequestError(ValidatorError):
    """The request itself is malformed (no model, a SHA-256 that is not one)."""


class NotFoundError(ValidatorError):
    """No such task here, no such task on the ledger, no such object, no such report."""


class NotReadyError(ValidatorError):
    """This validator cannot evaluate the task now (its holdout does not load): fix, retry."""


class LimitExceededError(ValidatorError):
    """A limit: the model is too large, or every evaluation slot is busy."""


class UnavailableError(ValidatorError):
    """A dependency of ours (store, peer, sandbox) failed in a way worth retrying."""


class ModelBytesUnavailableError(UnavailableError):
    """The store has no object with the proposed model's bytes: it is missing, or its bytes do
    not hash to the SHA-256 on the ledger. The store's fault, not the model's: retried, and
    when the bytes never come right the proposal expires (docs/validator.md)."""

    def __init__(self, uri: str, expected: str, actual: str | None, seen: str) -> None:
        self.uri, self.expected, self.actual = uri, expected, actual
        super().__init__(
            f"model bytes unavailable: {uri} holds {seen}, expected SHA-256 {expected}; "
            "putting the intact model in the store again repairs it"
        )

    @classmethod
    def of(cls, error: StoreError, expected: str) -> ModelBytesUnavailableError:
        """The store's error as the validator reports it: a HashMismatchError, an
        ObjectNotFoundError, or a ModelTooLargeError for an object larger than the proposal's
        size."""
        from fedledger.store.errors import HashMismatchError, ModelTooLargeError

        uri = str(getattr(error, "uri", "?"))
        if isinstance(error, HashMismatchError):
            return cls(uri, expected, error.actual, f"SHA-256 {error.actual}")
        if isinstance(error, ModelTooLargeError):
            return cls(
                uri,
                expected,
                None,
                f"an object over the {error.limit}-byte limit, larger than the proposed model",
            )
        return cls(uri, expected, None, "no object")


class ModelRejectedError(ValidatorError):
    """The model cannot be scored at all (malformed, wrong hash, wrong signature...)."""

    def __init__(self, report: EvaluationReport) -> None:
        self.report = report
        super().__init__("; ".join(report.reasons))


class StartError(ValidatorError):
    """The validator cannot start with its configuration; names the field to change."""


class ValidatorCallError(ValidatorError):
    """A client could not get an answer from a validator: none is configured or running for the
    organisation, it did not answer, or it refused the request (the message says which, with
    the gRPC status and what to do)."""
