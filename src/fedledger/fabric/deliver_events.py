"""Chaincode events over the older protocol: Deliver's blocks read as the Gateway's responses.

The Gateway's ChaincodeEvents streams, per block, the events one chaincode emitted in valid
transactions, optionally skipping the start block's events up to and including a given
transaction. Here the same is read from whole blocks (Deliver, not DeliverFiltered: a filtered
block drops the event payload), so `ChaincodeEventStream` with its checkpoints and reconnection
works unchanged on either protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_event_pb2

from fedledger.fabric.blockread import transactions
from fedledger.fabric.errors import EventsError
from fedledger.fabric.seek import newest, specified

# Deliver statuses a retry can cure: the stream ends and the event stream reconnects.
RETRIABLE = frozenset({common_pb2.Status.SERVICE_UNAVAILABLE, common_pb2.Status.SUCCESS})


def start_of(request: gateway_pb2.ChaincodeEventsRequest) -> tuple[Any, bool]:
    """The Deliver start position of a ChaincodeEvents request and whether the first block is
    to be skipped ("next commit" is the block after the newest)."""
    if request.start_position.WhichOneof("Type") == "specified":
        return specified(request.start_position.specified.number), False
    return newest(), True


class DeliverEvents:
    """An iterator of `ChaincodeEventsResponse` over a Deliver call; `cancel()` ends it."""

    def __init__(self, call: Any, request: gateway_pb2.ChaincodeEventsRequest, where: str) -> None:
        self._call = call
        self._chaincode = request.chaincode_id
        self._after = request.after_transaction_id
        _, self._skip_first = start_of(request)
        self._where = where

    def cancel(self) -> None:
        self._call.cancel()

    def __iter__(self) -> Iterator[gateway_pb2.ChaincodeEventsResponse]:
        first = True
        for response in self._call:
            if response.WhichOneof("Type") == "status":
                self._ended(response.status)
                return
            block = response.block
            if first and self._skip_first:
                first = False
                continue
            events = self._events(block, first)
            first = False
            if events:
                yield gateway_pb2.ChaincodeEventsResponse(
                    events=events, block_number=block.header.number
                )

    def _events(
        self, block: common_pb2.Block, first: bool
    ) -> list[chaincode_event_pb2.ChaincodeEvent]:
        found = [
            tx.event
            for tx in transactions(block)
            if tx.valid and tx.event is not None and tx.event.chaincode_id == self._chaincode
        ]
        if first and self._after:
            ids = [event.tx_id for event in found]
            if self._after in ids:
                return found[ids.index(self._after) + 1 :]
        return found

    def _ended(self, status: int) -> None:
        if status in RETRIABLE:
            return
        name = common_pb2.Status.Name(status)
        code = (
            grpc.StatusCode.PERMISSION_DENIED
            if status == common_pb2.Status.FORBIDDEN
            else grpc.StatusCode.NOT_FOUND
            if status == common_pb2.Status.NOT_FOUND
            else grpc.StatusCode.INVALID_ARGUMENT
        )
        raise EventsError(code, f"{self._where} refused the block stream: {name}")
