"""Config updates on the wire: the file admins pass around, their signatures, the envelope an
orderer receives, and the configuration a config block holds.

An admin signs the ConfigUpdateEnvelope by signing `signature_header ‖ config_update` (the
header carries the admin's identity and a fresh nonce); the signatures travel in the file, so
each admin signs on their own host with only their own key. The submitter then wraps the whole
ConfigUpdateEnvelope in a CONFIG_UPDATE transaction envelope signed with its own identity: that
signature is checked against the channel's Writers policy, not counted towards the update's.
"""

from __future__ import annotations

import os
from pathlib import Path

from fabric_protos.common import common_pb2, configtx_pb2
from fabric_protos.msp import identities_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import DecodeError

from fedledger.channelconfig.errors import UpdateFileError
from fedledger.fabric.identity import SigningIdentity

NONCE_BYTES = 24


def unsigned_update(update: configtx_pb2.ConfigUpdate) -> configtx_pb2.ConfigUpdateEnvelope:
    return configtx_pb2.ConfigUpdateEnvelope(config_update=update.SerializeToString())


def signer_msp_ids(envelope: configtx_pb2.ConfigUpdateEnvelope) -> list[str]:
    """The MSP IDs of the signatures' creators, in signing order (unverified)."""
    found = []
    for signature in envelope.signatures:
        header = common_pb2.SignatureHeader.FromString(signature.signature_header)
        found.append(str(identities_pb2.SerializedIdentity.FromString(header.creator).mspid))
    return found


def sign_update(
    envelope: configtx_pb2.ConfigUpdateEnvelope, signer: SigningIdentity
) -> configtx_pb2.ConfigUpdateEnvelope:
    """`envelope` with `signer`'s ConfigSignature appended. Raises UpdateFileError when this
    identity already signed it (a second signature of one admin counts once)."""
    creator = signer.creator
    for existing in envelope.signatures:
        if common_pb2.SignatureHeader.FromString(existing.signature_header).creator == creator:
            raise UpdateFileError(f"this update already holds {signer.msp_id}'s signature")
    header = common_pb2.SignatureHeader(
        creator=creator, nonce=os.urandom(NONCE_BYTES)
    ).SerializeToString()
    signed = configtx_pb2.ConfigUpdateEnvelope()
    signed.CopyFrom(envelope)
    signed.signatures.add(
        signature_header=header, signature=signer.sign(header + envelope.config_update)
    )
    return signed


def read_update_file(
    path: Path,
) -> tuple[configtx_pb2.ConfigUpdateEnvelope, configtx_pb2.ConfigUpdate]:
    """The ConfigUpdateEnvelope in `path` and the update it carries; raises UpdateFileError when
    the file is missing or is not one."""
    try:
        envelope = configtx_pb2.ConfigUpdateEnvelope.FromString(path.read_bytes())
        update = configtx_pb2.ConfigUpdate.FromString(envelope.config_update)
    except FileNotFoundError:
        raise UpdateFileError(
            f"no update file at {path}: `fedledger channel add-org` or `remove-org` writes one"
        ) from None
    except (OSError, DecodeError) as error:
        raise UpdateFileError(f"{path} is not a configuration update file: {error}") from None
    if not update.channel_id:
        raise UpdateFileError(f"{path} is not a configuration update file: it names no channel")
    return envelope, update


def write_update_file(path: Path, envelope: configtx_pb2.ConfigUpdateEnvelope) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(envelope.SerializeToString())


def transaction_envelope(
    channel: str,
    header_type: int,
    data: bytes,
    signer: SigningIdentity,
    timestamp: timestamp_pb2.Timestamp | None = None,
) -> common_pb2.Envelope:
    """An Envelope of `header_type` on `channel` carrying `data`, signed by `signer`."""
    if timestamp is None:
        timestamp = timestamp_pb2.Timestamp()
        timestamp.GetCurrentTime()
    header = common_pb2.Header(
        channel_header=common_pb2.ChannelHeader(
            type=header_type, channel_id=channel, timestamp=timestamp
        ).SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=signer.creator, nonce=os.urandom(NONCE_BYTES)
        ).SerializeToString(),
    )
    payload = common_pb2.Payload(header=header, data=data).SerializeToString()
    return common_pb2.Envelope(payload=payload, signature=signer.sign(payload))


def config_update_transaction(
    envelope: configtx_pb2.ConfigUpdateEnvelope, channel: str, signer: SigningIdentity
) -> common_pb2.Envelope:
    """The CONFIG_UPDATE transaction an orderer's Broadcast takes, signed by the submitter."""
    return transaction_envelope(
        channel, common_pb2.CONFIG_UPDATE, envelope.SerializeToString(), signer
    )


def config_of_block(block: common_pb2.Block) -> configtx_pb2.Config:
    """The configuration a config block holds; raises UpdateFileError when the block is not a
    config block."""
    envelope = common_pb2.Envelope.FromString(block.data.data[0])
    payload = common_pb2.Payload.FromString(envelope.payload)
    header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    if header.type != common_pb2.CONFIG:
        raise UpdateFileError(
            f"block {block.header.number} is not a config block "
            f"(its transaction is of type {common_pb2.HeaderType.Name(header.type)})"
        )
    return configtx_pb2.ConfigEnvelope.FromString(payload.data).config


def last_config_index(block: common_pb2.Block) -> int:
    """The number of the last config block, as the block's orderer metadata records it (the
    signatures slot since Fabric 2.0, the older last-config slot otherwise)."""
    slots = block.metadata.metadata
    if len(slots) > common_pb2.SIGNATURES and slots[common_pb2.SIGNATURES]:
        metadata = common_pb2.Metadata.FromString(slots[common_pb2.SIGNATURES])
        if metadata.value:
            ordered = common_pb2.OrdererBlockMetadata.FromString(metadata.value)
            if ordered.HasField("last_config"):
                return int(ordered.last_config.index)
    if len(slots) > common_pb2.LAST_CONFIG and slots[common_pb2.LAST_CONFIG]:
        metadata = common_pb2.Metadata.FromString(slots[common_pb2.LAST_CONFIG])
        return int(common_pb2.LastConfig.FromString(metadata.value).index)
    return 0
