"""The orderer's Broadcast service (`orderer.AtomicBroadcast/Broadcast`) on the embedded ledger.

A thin servicer: each envelope on the stream gets one BroadcastResponse, in order. It reads the
channel header, refuses another channel (BAD_REQUEST, as Fabric's orderer) and hands the envelope
to the handler registered for its header type; a type with no handler is a BAD_REQUEST. Each
kind of transaction (CONFIG_UPDATE here) brings its own handler from its own module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2, ab_pb2_grpc
from google.protobuf.message import DecodeError

NO_SYSTEM_CHANNEL = (
    "channel creation request not allowed because the orderer system channel is not defined"
)
Handler = Callable[[common_pb2.Envelope, common_pb2.Payload], Awaitable[ab_pb2.BroadcastResponse]]


class BroadcastServicer(ab_pb2_grpc.AtomicBroadcastServicer):  # type: ignore[misc]
    def __init__(self, channel: str, handlers: Mapping[int, Handler]) -> None:
        self.channel = channel
        self.handlers = dict(handlers)

    async def Broadcast(  # noqa: N802 - the gRPC method's name
        self, request_iterator: AsyncIterator[common_pb2.Envelope], context: Any
    ) -> AsyncIterator[ab_pb2.BroadcastResponse]:
        async for envelope in request_iterator:
            yield await self.one(envelope)

    async def one(self, envelope: common_pb2.Envelope) -> ab_pb2.BroadcastResponse:
        """The response to one broadcast envelope."""
        try:
            payload = common_pb2.Payload.FromString(envelope.payload)
            header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        except DecodeError:
            return ab_pb2.BroadcastResponse(
                status=common_pb2.BAD_REQUEST, info="the envelope's payload is not a Payload"
            )
        if header.channel_id != self.channel:
            # Fabric 2.3+'s orderer without a system channel, in its words: a channel creation
            # transaction (Fabric 2.2's flow) or any envelope of an unknown channel.
            return ab_pb2.BroadcastResponse(status=common_pb2.BAD_REQUEST, info=NO_SYSTEM_CHANNEL)
        handler = self.handlers.get(header.type)
        if handler is None:
            kind = (
                common_pb2.HeaderType.Name(header.type)
                if header.type in common_pb2.HeaderType.values()
                else str(header.type)
            )
            return ab_pb2.BroadcastResponse(
                status=common_pb2.BAD_REQUEST,
                info=f"this ledger's orderer does not accept {kind} messages",
            )
        return await handler(envelope, payload)
