"""The orderer's Broadcast service: endorsed transactions into the same ordering queue.

The Gateway's Submit and `AtomicBroadcast/Broadcast` end in the same place, the block cutter;
Broadcast answers each envelope with a status as Fabric's orderer does: SUCCESS once it is
queued, BAD_REQUEST for a malformed envelope, NOT_FOUND for another channel, FORBIDDEN for a
creator who may not write to the channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import structlog
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2, ab_pb2_grpc
from fabric_protos.peer import transaction_pb2

from fedledger.embedded.gateway import Ledger
from fedledger.embedded.messages import MessageError, check_envelope

log = structlog.get_logger("fedledger.embedded.broadcast")

_STATUS_OF_CODE = {
    transaction_pb2.BAD_PAYLOAD: common_pb2.Status.BAD_REQUEST,
    transaction_pb2.UNKNOWN_TX_TYPE: common_pb2.Status.BAD_REQUEST,
    transaction_pb2.TARGET_CHAIN_NOT_FOUND: common_pb2.Status.NOT_FOUND,
}


class BroadcastServicer(ab_pb2_grpc.AtomicBroadcastServicer):  # type: ignore[misc]
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def Broadcast(  # noqa: N802 (gRPC method name)
        self,
        request_iterator: AsyncIterator[common_pb2.Envelope],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[ab_pb2.BroadcastResponse]:
        async for envelope in request_iterator:
            yield self._order(envelope)

    def _order(self, envelope: common_pb2.Envelope) -> ab_pb2.BroadcastResponse:
        ledger = self.ledger
        if not envelope.signature:
            return ab_pb2.BroadcastResponse(
                status=common_pb2.Status.BAD_REQUEST, info="the envelope must be signed"
            )
        try:
            check_envelope(envelope, ledger.config.channel, ledger.members)
        except MessageError as error:
            status = _STATUS_OF_CODE.get(error.code, common_pb2.Status.FORBIDDEN)
            log.info("broadcast refused", status=common_pb2.Status.Name(status), reason=str(error))
            return ab_pb2.BroadcastResponse(status=status, info=str(error))
        ledger.cutter.enqueue(envelope.SerializeToString())
        return ab_pb2.BroadcastResponse(status=common_pb2.Status.SUCCESS)
