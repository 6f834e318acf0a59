"""configtx.yaml for the channel's genesis block, written from the network definition.

Raft ordering with channel participation (no system channel), capabilities at V2_0 so the
chaincode and client also work with older 2.x networks, anchor peers in the genesis block so the
Gateway finds endorsers across organisations, and organisation-level `OrdererEndpoints` instead
of the deprecated global `Orderer.Addresses`.
"""

from __future__ import annotations

from typing import Any

from fedledger.network.nodeconfig import LOCALHOST
from fedledger.orgs.layout import OrdererOrgLayout, OrgLayout
from fedledger.runtime.definition import NetworkDefinition

PROFILE = "FedledgerChannel"
CAPABILITIES = {"V2_0": True}


def _signature(rule: str) -> dict[str, str]:
    return {"Type": "Signature", "Rule": rule}


def _implicit(rule: str) -> dict[str, str]:
    return {"Type": "ImplicitMeta", "Rule": rule}


def _member_org(definition: NetworkDefinition, index: int, layout: OrgLayout) -> dict[str, Any]:
    msp = definition.members[index].msp_id
    return {
        "Name": msp,
        "ID": msp,
        "MSPDir": str(layout.msp),
        "Policies": {
            "Readers": _signature(f"OR('{msp}.admin', '{msp}.peer', '{msp}.client')"),
            "Writers": _signature(f"OR('{msp}.admin', '{msp}.client')"),
            "Admins": _signature(f"OR('{msp}.admin')"),
            "Endorsement": _signature(f"OR('{msp}.peer')"),
        },
        "AnchorPeers": [{"Host": LOCALHOST, "Port": definition.peer_ports(index).listen}],
    }


def _orderer_org(definition: NetworkDefinition, layout: OrdererOrgLayout) -> dict[str, Any]:
    msp = definition.ordering.msp_id
    return {
        "Name": msp,
        "ID": msp,
        "MSPDir": str(layout.msp),
        "Policies": {
            "Readers": _signature(f"OR('{msp}.member')"),
            "Writers": _signature(f"OR('{msp}.member')"),
            "Admins": _signature(f"OR('{msp}.admin')"),
        },
        "OrdererEndpoints": [
            f"{LOCALHOST}:{definition.orderer_ports(i).listen}"
            for i in range(definition.ordering.orderers)
        ],
    }


def build_configtx(
    definition: NetworkDefinition, orderer_org: OrdererOrgLayout, members: list[OrgLayout]
) -> dict[str, Any]:
    consenters = []
    for i in range(definition.ordering.orderers):
        tls = orderer_org.orderer(i).tls_cert("server")
        consenters.append(
            {
                "Host": LOCALHOST,
                "Port": definition.orderer_ports(i).listen,
                "ClientTLSCert": str(tls),
                "ServerTLSCert": str(tls),
            }
        )
    standard = {
        "Readers": _implicit("ANY Readers"),
        "Writers": _implicit("ANY Writers"),
        "Admins": _implicit("MAJORITY Admins"),
    }
    orderer = {
        "OrdererType": "etcdraft",
        "BatchTimeout": f"{round(definition.batch_timeout * 1000)}ms",
        "BatchSize": {
            "MaxMessageCount": definition.max_message_count,
            "AbsoluteMaxBytes": "99 MB",
            "PreferredMaxBytes": "512 KB",
        },
        "EtcdRaft": {
            "Consenters": consenters,
            "Options": {
                "TickInterval": "100ms",
                "ElectionTick": 10,
                "HeartbeatTick": 1,
                "MaxInflightBlocks": 5,
                "SnapshotIntervalSize": "16 MB",
            },
        },
        "Organizations": [_orderer_org(definition, orderer_org)],
        "Policies": {**standard, "BlockValidation": _implicit("ANY Writers")},
        "Capabilities": CAPABILITIES,
    }
    application = {
        "Organizations": [_member_org(definition, i, layout) for i, layout in enumerate(members)],
        "Policies": {
            **standard,
            "LifecycleEndorsement": _implicit("MAJORITY Endorsement"),
            "Endorsement": _implicit("MAJORITY Endorsement"),
        },
        "Capabilities": CAPABILITIES,
    }
    return {
        "Profiles": {
            PROFILE: {
                "Policies": standard,
                "Capabilities": CAPABILITIES,
                "Orderer": orderer,
                "Application": application,
            }
        }
    }
