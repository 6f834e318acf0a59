"""A channel's genesis block from an orderer's Deliver service, which its peers join with.

The request is a DELIVER_SEEK_INFO envelope for block 0 signed by a member's admin (the
channel's Readers). Right after a creation transaction the orderer may not serve the channel
yet (NOT_FOUND, or SERVICE_UNAVAILABLE while its Raft leader is elected): asked again until then.
"""

from __future__ import annotations

import time
from typing import Any

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2, ab_pb2_grpc

from fedledger.channelconfig.envelopes import transaction_envelope
from fedledger.channelconfig.errors import BroadcastError
from fedledger.fabric.gateway import TlsConfig, open_channel
from fedledger.fabric.identity import SigningIdentity
from fedledger.profile import OrdererEndpoint

NOT_YET = (common_pb2.NOT_FOUND, common_pb2.SERVICE_UNAVAILABLE)


def _seek_genesis(channel: str, signer: SigningIdentity) -> common_pb2.Envelope:
    first = ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=0))
    seek = ab_pb2.SeekInfo(start=first, stop=first, behavior=ab_pb2.SeekInfo.BLOCK_UNTIL_READY)
    return transaction_envelope(
        channel, common_pb2.DELIVER_SEEK_INFO, seek.SerializeToString(), signer
    )


def _ask(orderer: OrdererEndpoint, request: common_pb2.Envelope) -> common_pb2.Block | int:
    """The block, or the status the orderer answered instead."""
    tls = TlsConfig.from_files(orderer.tls_ca_cert, server_name=orderer.server_name)
    connection = open_channel(orderer.endpoint, tls)
    try:
        stub: Any = ab_pb2_grpc.AtomicBroadcastStub(connection)
        for reply in stub.Deliver(iter([request]), timeout=10.0):
            if reply.HasField("block"):
                return reply.block
            return int(reply.status)
    except grpc.RpcError as error:
        raise BroadcastError(
            f"orderer {orderer.endpoint}: {error.code().name}: {error.details()}"
        ) from None
    finally:
        connection.close()
    return int(common_pb2.NOT_FOUND)


def genesis_block(
    orderer: OrdererEndpoint, channel: str, signer: SigningIdentity, timeout: float
) -> common_pb2.Block:
    """Block 0 of `channel`. Raises BroadcastError with the orderer's status when it refuses,
    cannot be reached, or does not serve the channel within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = _ask(orderer, _seek_genesis(channel, signer))
        if isinstance(answer, common_pb2.Block):
            return answer
        status = common_pb2.Status.Name(answer)
        if answer not in NOT_YET:
            raise BroadcastError(
                f"orderer {orderer.endpoint} refused block 0 of {channel}: {status}"
            )
        if time.monotonic() > deadline:
            raise BroadcastError(
                f"orderer {orderer.endpoint} does not serve channel {channel} after "
                f"{timeout:g} s (last answer {status}): check the orderer's log"
            )
        time.sleep(0.25)
