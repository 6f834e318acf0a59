"""A whole channel configuration, as configtxgen builds block 0 from network/configtx.py's
profile: channel, Application and Orderer groups with their values, policies (implicit-meta
above the organisations, signature policies in them), Admins as every modification policy, and
every version 0."""

from __future__ import annotations

from dataclasses import dataclass

from fabric_protos.common import configtx_pb2, configuration_pb2
from fabric_protos.orderer import configuration_pb2 as orderer_config

from fedledger.channelconfig.elements import (
    ADMINS,
    capabilities,
    implicit_policy,
    member_org_group,
    orderer_org_group,
    set_policy,
    set_value,
)

CAPABILITY = "V2_0"
STANDARD_POLICIES = {
    "Readers": "ANY Readers",
    "Writers": "ANY Writers",
    "Admins": "MAJORITY Admins",
}
# configtxgen's BlockDataHashingStructure: a Merkle width of MaxUint32, i.e. a flat hash.
FLAT_HASH_WIDTH = 4294967295


@dataclass(frozen=True)
class OrgMaterial:
    """What the channel holds of an organisation: PEM certificates and its endpoints."""

    msp_id: str
    root_cert: bytes
    tls_root_cert: bytes
    endpoints: tuple[tuple[str, int], ...]


def _standard(group: configtx_pb2.ConfigGroup, extra: dict[str, str]) -> None:
    for name, rule in {**STANDARD_POLICIES, **extra}.items():
        set_policy(group, name, implicit_policy(rule))
    group.mod_policy = ADMINS


def _application(members: list[OrgMaterial]) -> configtx_pb2.ConfigGroup:
    group = configtx_pb2.ConfigGroup()
    for org in members:
        group.groups[org.msp_id].CopyFrom(
            member_org_group(org.msp_id, [org.root_cert], [org.tls_root_cert], org.endpoints)
        )
    _standard(
        group,
        {"LifecycleEndorsement": "MAJORITY Endorsement", "Endorsement": "MAJORITY Endorsement"},
    )
    set_value(group, "Capabilities", capabilities(CAPABILITY))
    return group


def _orderer(
    orderer: OrgMaterial, batch_timeout: float, max_message_count: int
) -> configtx_pb2.ConfigGroup:
    group = configtx_pb2.ConfigGroup()
    endpoints = [f"{host}:{port}" for host, port in orderer.endpoints]
    group.groups[orderer.msp_id].CopyFrom(
        orderer_org_group(orderer.msp_id, [orderer.root_cert], [orderer.tls_root_cert], endpoints)
    )
    _standard(group, {"BlockValidation": "ANY Writers"})
    # One ordering node that cuts blocks by count and timeout: what Fabric calls solo.
    set_value(group, "ConsensusType", orderer_config.ConsensusType(type="solo").SerializeToString())
    batch_size = orderer_config.BatchSize(
        max_message_count=max_message_count,
        absolute_max_bytes=99 * 1024 * 1024,
        preferred_max_bytes=512 * 1024,
    )
    set_value(group, "BatchSize", batch_size.SerializeToString())
    timeout = orderer_config.BatchTimeout(timeout=f"{round(batch_timeout * 1000)}ms")
    set_value(group, "BatchTimeout", timeout.SerializeToString())
    set_value(
        group, "ChannelRestrictions", orderer_config.ChannelRestrictions().SerializeToString()
    )
    set_value(group, "Capabilities", capabilities(CAPABILITY))
    return group


def channel_config(
    members: list[OrgMaterial],
    orderer: OrgMaterial,
    batch_timeout: float,
    max_message_count: int,
) -> configtx_pb2.Config:
    """The genesis configuration of a channel of `members` ordered by `orderer`'s organisation."""
    channel = configtx_pb2.ConfigGroup()
    channel.groups["Application"].CopyFrom(_application(members))
    channel.groups["Orderer"].CopyFrom(_orderer(orderer, batch_timeout, max_message_count))
    _standard(channel, {})
    set_value(
        channel,
        "HashingAlgorithm",
        configuration_pb2.HashingAlgorithm(name="SHA256").SerializeToString(),
    )
    structure = configuration_pb2.BlockDataHashingStructure(width=FLAT_HASH_WIDTH)
    set_value(channel, "BlockDataHashingStructure", structure.SerializeToString())
    set_value(channel, "Capabilities", capabilities(CAPABILITY))
    return configtx_pb2.Config(sequence=0, channel_group=channel)
