"""The channel's member organisations: read from a configuration, added, removed."""

from __future__ import annotations

from dataclasses import dataclass

from fabric_protos.common import configtx_pb2
from fabric_protos.msp import msp_config_pb2
from fabric_protos.peer import configuration_pb2 as peer_config

from fedledger.channelconfig.elements import member_org_group
from fedledger.channelconfig.errors import MembershipError
from fedledger.orgs.export import OrgDefinition

APPLICATION = "Application"
ORDERER = "Orderer"


@dataclass(frozen=True)
class MemberOrgSummary:
    msp_id: str
    anchor_peers: tuple[str, ...]


def application(config: configtx_pb2.Config) -> configtx_pb2.ConfigGroup:
    return config.channel_group.groups[APPLICATION]


def member_summaries(config: configtx_pb2.Config) -> list[MemberOrgSummary]:
    """The member organisations, sorted by MSP ID, each with its anchor peers as host:port."""
    found = []
    for msp_id, group in sorted(application(config).groups.items()):
        anchors = peer_config.AnchorPeers()
        if "AnchorPeers" in group.values:
            anchors.ParseFromString(group.values["AnchorPeers"].value)
        found.append(
            MemberOrgSummary(msp_id, tuple(f"{a.host}:{a.port}" for a in anchors.anchor_peers))
        )
    return found


def root_certificates(config: configtx_pb2.Config) -> dict[str, bytes]:
    """The first root CA (PEM) of every organisation, member or orderer, by MSP ID."""
    found = {}
    for section in (APPLICATION, ORDERER):
        for msp_id, group in config.channel_group.groups[section].groups.items():
            if "MSP" not in group.values:
                continue
            msp = msp_config_pb2.MSPConfig.FromString(group.values["MSP"].value)
            fabric = msp_config_pb2.FabricMSPConfig.FromString(msp.config)
            if fabric.root_certs:
                found[fabric.name or msp_id] = bytes(fabric.root_certs[0])
    return found


def with_org_added(config: configtx_pb2.Config, org: OrgDefinition) -> configtx_pb2.Config:
    """`config` with `org` as a member; raises MembershipError if it already is one."""
    if org.msp_id in application(config).groups:
        raise MembershipError(f"{org.msp_id} is already a member of the channel")
    updated = configtx_pb2.Config()
    updated.CopyFrom(config)
    application(updated).groups[org.msp_id].CopyFrom(
        member_org_group(
            org.msp_id, org.root_certs, org.tls_root_certs, [(org.anchor_host, org.anchor_port)]
        )
    )
    return updated


def with_org_removed(config: configtx_pb2.Config, msp_id: str) -> configtx_pb2.Config:
    """`config` without member `msp_id`; raises MembershipError if it is not a member or is the
    last one."""
    members = application(config).groups
    if msp_id not in members:
        known = ", ".join(sorted(members))
        raise MembershipError(f"{msp_id} is not a member of the channel (members: {known})")
    if len(members) == 1:
        raise MembershipError(f"{msp_id} is the channel's only member: it cannot be removed")
    updated = configtx_pb2.Config()
    updated.CopyFrom(config)
    del application(updated).groups[msp_id]
    return updated
