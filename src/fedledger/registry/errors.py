"""The registry's errors: one root, `RegistryError`, for everything this package raises."""

from __future__ import annotations

from fedledger.registry.refusals import RefusalCode, parse_refusal


class RegistryError(Exception):
    """Base of the errors this package raises (records it cannot read, refusals)."""


class RecordError(RegistryError, ValueError):
    """A record from the chaincode lacks a field or holds a value of the wrong type: the
    chaincode and this package disagree (a version skew), not the caller's input."""


class ChaincodeRefusalError(RegistryError):
    """The chaincode refused the transaction. Nothing was written.

    `code` is the refusal's RefusalCode (UNKNOWN from a chaincode without codes), what callers
    branch on; `message` is the chaincode's own text after the code, verbatim; `function` is the
    transaction and `transaction_id` the refused one. `chaincode_message` is the message as the
    chaincode sent it.
    """

    def __init__(self, function: str, chaincode_message: str, transaction_id: str) -> None:
        self.function = function
        self.chaincode_message = chaincode_message
        self.code: RefusalCode
        self.code, self.message = parse_refusal(chaincode_message)
        self.transaction_id = transaction_id
        super().__init__(self.message)
