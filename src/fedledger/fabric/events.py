"""Chaincode event streams that survive peer restarts without losing or repeating events.

The Gateway's ChaincodeEvents call streams, block by block, the events one chaincode emitted in
valid transactions, from a given block (or from the next commit) and optionally after a given
transaction in that block. The stream here remembers the position of the last event it
delivered and, when the call fails for a reason a retry can cure (the peer restarted, the
connection dropped), opens a new call from that position after a backoff.

A stream that starts at "the next commit" first pins that position to the current block height
(`qscc GetChainInfo`), so events committed while it reconnects are not lost either.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2

from fedledger.fabric.checkpoint import Checkpoint
from fedledger.fabric.client import LedgerClient
from fedledger.fabric.errors import EventsError, decode_rpc_error
from fedledger.fabric.identity import SigningIdentity

log = logging.getLogger(__name__)

# Errors that retrying the same request cannot cure: a malformed or refused request.
FATAL_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


@dataclass(frozen=True)
class ChaincodeEvent:
    block_number: int
    transaction_id: str
    chaincode: str
    event_name: str
    payload: bytes


@dataclass(frozen=True)
class Backoff:
    """Waits between reconnection attempts: initial, doubled each failure, up to maximum."""

    initial: float = 0.2
    maximum: float = 5.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


class ChaincodeEventStream:
    """Iterate to receive events in ledger order; `close()` (from any thread) ends iteration.

    Iterate from one thread at a time. Errors that reconnecting cannot cure raise EventsError.
    """

    def __init__(
        self,
        client: LedgerClient,
        signer: SigningIdentity,
        channel: str,
        chaincode: str,
        start: Checkpoint | None,
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self._signer = signer
        self.channel = channel
        self.chaincode = chaincode
        self._position = start
        self._backoff = backoff or Backoff()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._call: Any = None
        self.reconnects = 0

    @property
    def position(self) -> Checkpoint | None:
        """Where a new call would start: after the last delivered event (None: next commit)."""
        return self._position

    def __iter__(self) -> Iterator[ChaincodeEvent]:
        try:
            yield from self._follow()
        finally:
            self._cancel_call()

    def _follow(self) -> Iterator[ChaincodeEvent]:
        delays = self._backoff.delays()
        while not self._closed.is_set():
            try:
                for response in self._open():
                    delays = self._backoff.delays()
                    yield from self._deliver(response)
                if self._closed.is_set():
                    return
                log.warning("chaincode event stream of %s ended by the peer", self.chaincode)
            except grpc.RpcError as error:
                if self._closed.is_set():
                    return
                code, message, details = decode_rpc_error(error)
                if code in FATAL_CODES:
                    raise EventsError(code, message, details) from error
                log.warning("chaincode event stream interrupted (%s: %s)", code.name, message)
            if self._closed.wait(next(delays)):
                return
            self.reconnects += 1
            log.info("reconnecting chaincode event stream from %s", self._position)

    def _deliver(self, response: gateway_pb2.ChaincodeEventsResponse) -> Iterator[ChaincodeEvent]:
        for event in response.events:
            delivered = ChaincodeEvent(
                block_number=int(response.block_number),
                transaction_id=str(event.tx_id),
                chaincode=str(event.chaincode_id),
                event_name=str(event.event_name),
                payload=bytes(event.payload),
            )
            self._position = Checkpoint(delivered.block_number, delivered.transaction_id)
            yield delivered

    def _open(self) -> Any:
        with self._lock:
            if self._closed.is_set():
                return iter(())
            self._call = self._client.chaincode_events(self._signed_request())
            return self._call

    def _signed_request(self) -> gateway_pb2.SignedChaincodeEventsRequest:
        request = gateway_pb2.ChaincodeEventsRequest(
            channel_id=self.channel,
            chaincode_id=self.chaincode,
            identity=self._signer.creator,
            start_position=seek_position(self._position),
            after_transaction_id=self._position.transaction_id if self._position else "",
        ).SerializeToString()
        return gateway_pb2.SignedChaincodeEventsRequest(
            request=request, signature=self._signer.sign(request)
        )

    def close(self) -> None:
        self._closed.set()
        self._cancel_call()

    def _cancel_call(self) -> None:
        with self._lock:
            if self._call is not None:
                self._call.cancel()
                self._call = None

    def __enter__(self) -> ChaincodeEventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def seek_position(start: Checkpoint | None) -> ab_pb2.SeekPosition:
    if start is None:
        return ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
    return ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start.block_number))
