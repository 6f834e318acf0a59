"""The validator's errors, under one root, `ValidatorError`. The servicer turns each kind of
request error into one gRPC status code; the watcher retries the ones that are our fault and
turns the model's faults into REJECT votes. `StartError` and `config.ConfigError` come before
any request: the validator does not start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedledger.evaluate.report import EvaluationReport
    from fedledger.registry.records import UnavailableFault
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
    """The store has no object with the proposed model's bytes: it is missing, its bytes do
    not hash to the SHA-256 on the ledger, or it is larger than the proposal says (so it cannot
    be the model, and is not read whole). The store's fault, not the model's: retried, reported
    on the ledger as an `unavailable` record that counts for nothing, and when the bytes never
    come right the proposal expires (docs/validator.md).

    `fault` is the fault class the ledger report starts with (hash_mismatch, object_missing,
    unreadable: the chaincode's UNAVAILABLE_FAULTS); `public_detail` says what was found without
    the URI, which may be a local path of ours."""

    def __init__(
        self,
        uri: str,
        expected: str,
        actual: str | None,
        seen: str,
        fault: UnavailableFault,
        detail: str,
    ) -> None:
        self.uri, self.expected, self.actual = uri, expected, actual
        self.fault, self.public_detail = fault, detail
        super().__init__(
            f"model bytes unavailable: {uri} holds {seen}, expected SHA-256 {expected}; "
            "putting the intact model in the store again repairs it"
        )

    @property
    def report_reason(self) -> str:
        """The reason of the ledger report: the fault class first, then what was found."""
        return f"{self.fault}: {self.public_detail}"

    @classmethod
    def of(cls, error: StoreError, expected: str) -> ModelBytesUnavailableError:
        """The store's error as the validator reports it: a HashMismatchError, an
        ObjectNotFoundError, or a ModelTooLargeError for an object larger than the proposal's
        size."""
        from fedledger.store.errors import HashMismatchError, ModelTooLargeError

        uri = str(getattr(error, "uri", "?"))
        if isinstance(error, HashMismatchError):
            detail = f"the stored object has SHA-256 {error.actual}, not the proposal's {expected}"
            return cls(
                uri, expected, error.actual, f"SHA-256 {error.actual}", "hash_mismatch", detail
            )
        if isinstance(error, ModelTooLargeError):
            over = f"an object over the {error.limit}-byte limit"
            return cls(
                uri,
                expected,
                None,
                f"{over}, larger than the proposed model",
                "unreadable",
                f"the stored object is over the {error.limit}-byte limit, larger than the model",
            )
        detail = "the store has no object at the proposal's URI"
        return cls(uri, expected, None, "no object", "object_missing", detail)


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
