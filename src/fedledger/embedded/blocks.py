"""Blocks as Fabric builds and chains them.

The header hash is SHA-256 of the ASN.1 DER encoding of SEQUENCE { number INTEGER,
previous_hash OCTET STRING, data_hash OCTET STRING } (protoutil.BlockHeaderBytes); the data
hash is SHA-256 of the envelopes concatenated (protoutil.ComputeBlockDataHash). Metadata has
Fabric's five slots: the orderer's signature over the header (with the number of the last config
block, where Fabric 2 readers look for it), the (deprecated, empty) last config, the transaction
validation codes, the orderer metadata and the commit hash.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from fabric_protos.common import common_pb2, configtx_pb2
from google.protobuf import timestamp_pb2

from fedledger.embedded.identity import Signer

METADATA_SLOTS = len(common_pb2.BlockMetadataIndex.items())


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _der_unsigned(value: int) -> bytes:
    # Minimal two's complement: a leading zero byte when the top bit would read as a sign.
    encoded = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    while len(encoded) > 1 and encoded[0] == 0 and encoded[1] < 0x80:
        encoded = encoded[1:]
    return _der(0x02, encoded)


def header_bytes(number: int, previous_hash: bytes, data_hash: bytes) -> bytes:
    return _der(0x30, _der_unsigned(number) + _der(0x04, previous_hash) + _der(0x04, data_hash))


def header_hash(header: common_pb2.BlockHeader) -> bytes:
    return hashlib.sha256(
        header_bytes(header.number, header.previous_hash, header.data_hash)
    ).digest()


def data_hash(envelopes: Sequence[bytes]) -> bytes:
    return hashlib.sha256(b"".join(envelopes)).digest()


def build_block(
    number: int,
    previous_hash: bytes,
    envelopes: Sequence[bytes],
    codes: Sequence[int],
    orderer: Signer,
    nonce: bytes,
    last_config: int = 0,
) -> common_pb2.Block:
    block = common_pb2.Block()
    block.header.number = number
    block.header.previous_hash = previous_hash
    block.header.data_hash = data_hash(envelopes)
    block.data.data.extend(envelopes)
    slots = [b""] * METADATA_SLOTS
    slots[common_pb2.SIGNATURES] = _signatures(block.header, orderer, nonce, last_config)
    slots[common_pb2.TRANSACTIONS_FILTER] = bytes(codes)
    block.metadata.metadata.extend(slots)
    return block


def _signatures(
    header: common_pb2.BlockHeader, orderer: Signer, nonce: bytes, last_config: int
) -> bytes:
    value = common_pb2.OrdererBlockMetadata(
        last_config=common_pb2.LastConfig(index=last_config)
    ).SerializeToString()
    signature_header = common_pb2.SignatureHeader(
        creator=orderer.serialized, nonce=nonce
    ).SerializeToString()
    signed = (
        value
        + signature_header
        + header_bytes(header.number, header.previous_hash, header.data_hash)
    )
    metadata = common_pb2.Metadata(value=value)
    metadata.signatures.add(signature_header=signature_header, signature=orderer.sign(signed))
    return metadata.SerializeToString()  # type: ignore[no-any-return]


def config_envelope(
    channel: str,
    config: configtx_pb2.Config,
    now: timestamp_pb2.Timestamp,
    last_update: common_pb2.Envelope | None = None,
    orderer: Signer | None = None,
) -> bytes:
    """A CONFIG envelope holding the whole configuration, as a config block holds it: unsigned
    for block 0; for a later block, carrying the CONFIG_UPDATE it applies and signed by the
    orderer that applied it."""
    envelope = configtx_pb2.ConfigEnvelope(config=config)
    if last_update is not None:
        envelope.last_update.CopyFrom(last_update)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.CONFIG, channel_id=channel, timestamp=now
    )
    signature_header = common_pb2.SignatureHeader()
    if orderer is not None:
        signature_header = common_pb2.SignatureHeader(
            creator=orderer.serialized, nonce=os.urandom(24)
        )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=signature_header.SerializeToString(),
        ),
        data=envelope.SerializeToString(),
    ).SerializeToString()
    signature = orderer.sign(payload) if orderer is not None else b""
    return common_pb2.Envelope(payload=payload, signature=signature).SerializeToString()  # type: ignore[no-any-return]
