"""One exception per stage of a transaction, as in the official clients.

A failed gRPC call to the Gateway carries a status code, a message, and (for endorse, submit and
evaluate) a `google.rpc.Status` in the trailing metadata whose details are `gateway.ErrorDetail`
messages: one per peer or orderer that refused, with its address, MSP ID and message. A chaincode
error travels in such a detail as `chaincode response 500, <the chaincode's message>`, so the
details are what a caller must see; `str(error)` lists them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2
from google.rpc import status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# A chaincode on fabric-shim 2.2 (Fabric 2.2, AWS Managed Blockchain) reports a failure with an
# ERROR message, which the peer wraps in these two fixed prefixes; 2.5's shim sends the message
# alone. The chaincode's own message is what follows them.
_CHAINCODE_RESPONSE = re.compile(
    r"chaincode response (\d+), (?:error in simulation: )?(?:transaction returned with failure: )?"
    r"(.*)",
    re.DOTALL,
)


@dataclass(frozen=True)
class ErrorDetail:
    """What one endorsing peer or orderer answered."""

    address: str
    msp_id: str
    message: str


class FabricError(Exception):
    """Base of every error this package raises."""


class GatewayError(FabricError):
    """A Gateway call failed: gRPC status code, message and per-peer details."""

    def __init__(
        self, code: grpc.StatusCode, message: str, details: Sequence[ErrorDetail] = ()
    ) -> None:
        self.code = code
        self.message = message
        self.details = tuple(details)
        super().__init__(self._describe())

    def _describe(self) -> str:
        lines = [f"{self.code.name}: {self.message}"]
        for detail in self.details:
            lines.append(f"  - {detail.address} ({detail.msp_id}): {detail.message}")
        return "\n".join(lines)

    @property
    def chaincode_message(self) -> str | None:
        """The chaincode's own error message, if a peer reported one, else None."""
        for text in [d.message for d in self.details] + [self.message]:
            match = _CHAINCODE_RESPONSE.search(text)
            if match:
                return match.group(2)
        return None


class TransactionError(GatewayError):
    """A Gateway call for one transaction failed; names the transaction."""

    stage = "transaction"

    def __init__(
        self,
        transaction_id: str,
        code: grpc.StatusCode,
        message: str,
        details: Sequence[ErrorDetail] = (),
    ) -> None:
        self.transaction_id = transaction_id
        super().__init__(code, message, details)

    def _describe(self) -> str:
        return f"{self.stage} of transaction {self.transaction_id} failed: {super()._describe()}"

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, transaction_id: str) -> TransactionError:
        code, message, details = decode_rpc_error(error)
        return cls(transaction_id, code, message, details)


class EvaluateError(TransactionError):
    """The Gateway could not evaluate the transaction (includes chaincode errors)."""

    stage = "evaluate"


class EndorseError(TransactionError):
    """The transaction was not endorsed (includes chaincode errors); nothing was submitted."""

    stage = "endorse"


class SubmitError(TransactionError):
    """The endorsed transaction was not accepted for ordering; it will not commit."""

    stage = "submit"


class CommitStatusError(TransactionError):
    """The commit status could not be obtained; the transaction may still commit."""

    stage = "commit status"


class CommitError(FabricError):
    """The transaction was ordered into a block but validation marked it invalid."""

    def __init__(self, transaction_id: str, code: int, block_number: int) -> None:
        self.transaction_id = transaction_id
        self.code = code
        self.block_number = block_number
        super().__init__(
            f"transaction {transaction_id} failed to commit in block {block_number} "
            f"with status code {code} ({self.code_name})"
        )

    @property
    def code_name(self) -> str:
        """The `TxValidationCode` name, e.g. MVCC_READ_CONFLICT."""
        return validation_code_name(self.code)


class EventsError(GatewayError):
    """The chaincode event stream failed with an error that reconnecting cannot cure."""


def validation_code_name(code: int) -> str:
    try:
        return str(transaction_pb2.TxValidationCode.Name(code))
    except ValueError:
        return "UNKNOWN_CODE"


def decode_rpc_error(error: grpc.RpcError) -> tuple[grpc.StatusCode, str, list[ErrorDetail]]:
    """Status code, message and the Gateway's `ErrorDetail`s of a failed call."""
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    message = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    trailers = error.trailing_metadata() if isinstance(error, grpc.Call) else None
    details: list[ErrorDetail] = []
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            details.extend(decode_status_details(value))
    return code, message, details


def decode_status_details(status_bytes: bytes) -> list[ErrorDetail]:
    status = status_pb2.Status.FromString(status_bytes)
    details = []
    for packed in status.details:
        detail = gateway_pb2.ErrorDetail()
        if packed.Unpack(detail):
            details.append(ErrorDetail(detail.address, detail.msp_id, detail.message))
    return details
