"""The Gateway gRPC calls, each with its own deadline and its own error type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc

from fedledger.fabric.errors import (
    CommitStatusError,
    EndorseError,
    EvaluateError,
    SubmitError,
    TransactionError,
)


@dataclass(frozen=True)
class Timeouts:
    """Deadlines of the Gateway calls, in seconds.

    The defaults are those of Fabric's own samples. Endorsement runs the chaincode on a peer of
    every organisation the endorsement policy needs; commit status waits for the block holding
    the transaction, so it must outlast the orderer's BatchTimeout with room to spare.
    """

    evaluate: float = 5.0
    endorse: float = 15.0
    submit: float = 5.0
    commit_status: float = 60.0

    def __post_init__(self) -> None:
        for name in ("evaluate", "endorse", "submit", "commit_status"):
            if getattr(self, name) <= 0:
                raise ValueError(f"timeout {name} must be positive, got {getattr(self, name)}")


class LedgerClient(Protocol):
    """What Contract, Network and the event stream need of a protocol: the Gateway's five calls,
    with the Gateway's request and response messages. `GatewayClient` makes them to one peer's
    Gateway service; `fedledger.fabric.peer_client.PeerClient` makes them with Fabric's older
    Endorser, Broadcast and Deliver services (docs/fabric-client.md#the-two-protocols)."""

    timeouts: Timeouts

    def evaluate(self, request: gateway_pb2.EvaluateRequest) -> gateway_pb2.EvaluateResponse: ...

    def endorse(self, request: gateway_pb2.EndorseRequest) -> gateway_pb2.EndorseResponse: ...

    def submit(self, request: gateway_pb2.SubmitRequest) -> gateway_pb2.SubmitResponse: ...

    def commit_status(
        self, request: gateway_pb2.SignedCommitStatusRequest, transaction_id: str
    ) -> gateway_pb2.CommitStatusResponse: ...

    def chaincode_events(self, request: gateway_pb2.SignedChaincodeEventsRequest) -> Any: ...

    def close(self) -> None: ...


class GatewayClient:
    """The Gateway service stub with deadlines applied and errors mapped per stage.

    gRPC channels and stubs are thread-safe, so is this.
    """

    def __init__(self, channel: grpc.Channel, timeouts: Timeouts) -> None:
        self._stub: Any = gateway_pb2_grpc.GatewayStub(channel)
        self.timeouts = timeouts

    def evaluate(self, request: gateway_pb2.EvaluateRequest) -> gateway_pb2.EvaluateResponse:
        return self._call(
            self._stub.Evaluate,
            request,
            self.timeouts.evaluate,
            EvaluateError,
            request.transaction_id,
        )

    def endorse(self, request: gateway_pb2.EndorseRequest) -> gateway_pb2.EndorseResponse:
        return self._call(
            self._stub.Endorse,
            request,
            self.timeouts.endorse,
            EndorseError,
            request.transaction_id,
        )

    def submit(self, request: gateway_pb2.SubmitRequest) -> gateway_pb2.SubmitResponse:
        return self._call(
            self._stub.Submit, request, self.timeouts.submit, SubmitError, request.transaction_id
        )

    def commit_status(
        self, request: gateway_pb2.SignedCommitStatusRequest, transaction_id: str
    ) -> gateway_pb2.CommitStatusResponse:
        return self._call(
            self._stub.CommitStatus,
            request,
            self.timeouts.commit_status,
            CommitStatusError,
            transaction_id,
        )

    def chaincode_events(self, request: gateway_pb2.SignedChaincodeEventsRequest) -> Any:
        """A server stream without deadline: an iterator of `ChaincodeEventsResponse` that is
        also a `grpc.Call`, which the caller cancels to end it."""
        return self._stub.ChaincodeEvents(request)

    def close(self) -> None:
        """Nothing to release: the gRPC channel belongs to the Gateway that made this client."""

    @staticmethod
    def _call(
        method: Any,
        request: Any,
        timeout: float,
        error_type: type[TransactionError],
        transaction_id: str,
    ) -> Any:
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as error:
            raise error_type.from_rpc_error(error, transaction_id) from error
