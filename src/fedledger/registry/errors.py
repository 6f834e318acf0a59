"""The registry's errors: one root, `RegistryError`, for everything this package raises."""

from __future__ import annotations


class RegistryError(Exception):
    """Base of the errors this package raises (records it cannot read, refusals)."""


class RecordError(RegistryError, ValueError):
    """A record from the chaincode lacks a field or holds a value of the wrong type: the
    chaincode and this package disagree (a version skew), not the caller's input."""


class ChaincodeRefusalError(RegistryError):
    """The chaincode refused the transaction; `message` is its own, verbatim.

    Nothing was written. `function` is the transaction and `transaction_id` the refused one.
    """

    def __init__(self, function: str, message: str, transaction_id: str) -> None:
        self.function = function
        self.message = message
        self.transaction_id = transaction_id
        super().__init__(message)
