"""A channel's genesis block from the organisations' exported files alone.

The configuration is channelconfig's (the policies, capabilities and anchor peers `network up`'s
configtx.yaml gives), with Raft ordering by the ordering organisation's consenters and the Raft
options of network/configtx.py. The block is what configtxgen writes: block 0 holding one
unsigned CONFIG envelope, the last-config index 0 in its metadata. It carries no secret and
no signature: what makes it the channel's is that each orderer's admin joins it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence

from fabric_protos.common import common_pb2, configtx_pb2
from fabric_protos.orderer import configuration_pb2 as orderer_config
from fabric_protos.orderer.etcdraft import configuration_pb2 as etcdraft
from google.protobuf import timestamp_pb2

from fedledger.channelconfig.elements import set_value
from fedledger.channelconfig.genesis import OrgMaterial, channel_config
from fedledger.embedded.blocks import METADATA_SLOTS
from fedledger.network.configtx import RAFT_OPTIONS as CONFIGTX_RAFT
from fedledger.network.configtx import SNAPSHOT_INTERVAL_MB
from fedledger.ordering.errors import OrderingError
from fedledger.ordering.export import OrdererDefinition
from fedledger.orgs.export import OrgDefinition

# The Raft options `network up` gives configtxgen, as the genesis block holds them.
RAFT_OPTIONS = etcdraft.Options(
    tick_interval=CONFIGTX_RAFT["TickInterval"],
    election_tick=CONFIGTX_RAFT["ElectionTick"],
    heartbeat_tick=CONFIGTX_RAFT["HeartbeatTick"],
    max_inflight_blocks=CONFIGTX_RAFT["MaxInflightBlocks"],
    snapshot_interval_size=SNAPSHOT_INTERVAL_MB * 1024 * 1024,
)


def raft_consensus(orderer: OrdererDefinition) -> bytes:
    """The Orderer group's ConsensusType value: etcdraft, each consenter's TLS certificate as
    both its client and its server certificate (the orderer uses one pair for both)."""
    metadata = etcdraft.ConfigMetadata(options=RAFT_OPTIONS)
    for consenter in orderer.consenters:
        metadata.consenters.add(
            host=consenter.host,
            port=consenter.port,
            client_tls_cert=consenter.tls_cert,
            server_tls_cert=consenter.tls_cert,
        )
    consensus = orderer_config.ConsensusType(type="etcdraft", metadata=metadata.SerializeToString())
    return consensus.SerializeToString()  # type: ignore[no-any-return]


def consortium_config(
    orderer: OrdererDefinition,
    members: Sequence[OrgDefinition],
    batch_timeout: float,
    max_message_count: int,
) -> configtx_pb2.Config:
    """The channel's configuration; raises OrderingError for no member or a member named twice
    (or named as the ordering organisation)."""
    if not members:
        raise OrderingError("give at least one member organisation's file (org export)")
    seen = {orderer.msp_id}
    for member in members:
        if member.msp_id in seen:
            raise OrderingError(
                f"{member.msp_id} is given twice: every organisation file must have its own "
                "MSP ID, and none the ordering organisation's"
            )
        seen.add(member.msp_id)
    materials = [
        OrgMaterial(
            m.msp_id, m.root_certs[0], m.tls_root_certs[0], ((m.anchor_host, m.anchor_port),)
        )
        for m in members
    ]
    ordering = OrgMaterial(
        orderer.msp_id, orderer.root_certs[0], orderer.tls_root_certs[0], orderer.endpoints
    )
    config = channel_config(materials, ordering, batch_timeout, max_message_count)
    set_value(config.channel_group.groups["Orderer"], "ConsensusType", raft_consensus(orderer))
    return config


def genesis_block(channel: str, config: configtx_pb2.Config) -> common_pb2.Block:
    """Block 0 of `channel` holding `config`, as configtxgen builds it: header version 1, a
    whole-second timestamp, a fresh nonce, no creator, the transaction id derived from them.
    Raises nothing."""
    nonce = os.urandom(24)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.CONFIG,
        version=1,
        channel_id=channel,
        timestamp=timestamp_pb2.Timestamp(seconds=int(time.time())),
        tx_id=hashlib.sha256(nonce).hexdigest(),
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=common_pb2.SignatureHeader(nonce=nonce).SerializeToString(),
        ),
        data=configtx_pb2.ConfigEnvelope(config=config).SerializeToString(),
    )
    envelope = common_pb2.Envelope(payload=payload.SerializeToString()).SerializeToString()
    block = common_pb2.Block()
    block.header.number = 0
    block.header.data_hash = hashlib.sha256(envelope).digest()
    block.data.data.append(envelope)
    last_config = common_pb2.LastConfig(index=0).SerializeToString()
    slots = [b""] * METADATA_SLOTS
    slots[common_pb2.SIGNATURES] = common_pb2.Metadata(
        value=common_pb2.OrdererBlockMetadata(
            last_config=common_pb2.LastConfig(index=0)
        ).SerializeToString()
    ).SerializeToString()
    slots[common_pb2.LAST_CONFIG] = common_pb2.Metadata(value=last_config).SerializeToString()
    block.metadata.metadata.extend(slots)
    return block
