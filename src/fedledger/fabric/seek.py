"""The request of Fabric's Deliver service: a signed envelope holding a SeekInfo.

Deliver (and DeliverFiltered) take a stream of `common.Envelope`s whose payload is a
DELIVER_SEEK_INFO header and an `orderer.SeekInfo`: where to start (oldest, newest, a block
number), where to stop, and whether to wait for blocks not yet committed (BLOCK_UNTIL_READY) or
to fail (FAIL_IF_NOT_READY). The peer checks the creator's signature and that the creator may
read the channel. A peer that requires mutual TLS also wants the SHA-256 of the client's TLS
certificate in the channel header, binding the request to the connection it came on.
"""

from __future__ import annotations

import os

from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2
from google.protobuf import timestamp_pb2

from fedledger.fabric.identity import SigningIdentity

# The largest block number: "never stop" (SeekInfo has no unbounded stop of its own).
MAX_BLOCK = 2**64 - 1


def specified(number: int) -> ab_pb2.SeekPosition:
    return ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=number))


def newest() -> ab_pb2.SeekPosition:
    return ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())


def seek_envelope(
    signer: SigningIdentity,
    channel: str,
    start: ab_pb2.SeekPosition,
    stop: ab_pb2.SeekPosition | None = None,
    *,
    tls_cert_hash: bytes = b"",
) -> common_pb2.Envelope:
    """A signed request for blocks from `start` to `stop` (default: for ever), waiting for
    blocks not yet committed. Raises nothing."""
    seek = ab_pb2.SeekInfo(
        start=start,
        stop=stop or specified(MAX_BLOCK),
        behavior=ab_pb2.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY,
    )
    timestamp = timestamp_pb2.Timestamp()
    timestamp.GetCurrentTime()
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.DELIVER_SEEK_INFO,
        channel_id=channel,
        timestamp=timestamp,
        tls_cert_hash=tls_cert_hash,
    )
    signature_header = common_pb2.SignatureHeader(creator=signer.creator, nonce=os.urandom(24))
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=signature_header.SerializeToString(),
        ),
        data=seek.SerializeToString(),
    ).SerializeToString()
    return common_pb2.Envelope(payload=payload, signature=signer.sign(payload))
