"""configtx.yaml for the channel's genesis block, written from the network definition.

Raft ordering with channel participation (no system channel), capabilities at V2_0 so the
chaincode and client also work with older 2.x networks, anchor peers in the genesis block so the
Gateway finds endorsers across organisations, and organisation-level `OrdererEndpoints` instead
of the deprecated global `Orderer.Addresses`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fedledger.network.nodeconfig import LOCALHOST
from fedledger.orgs.layout import OrdererOrgLayout, OrgLayout
from fedledger.runtime.definition import NetworkDefinition

PROFILE = "FedledgerChannel"
CAPABILITIES = {"V2_0": True}


SNAPSHOT_INTERVAL_MB = 16
# The consenters' Raft options in configtx.yaml's form; ordering/genesis.py writes the same
# values into the genesis block `channel create` makes without configtxgen.
RAFT_OPTIONS: dict[str, Any] = {
    "TickInterval": "100ms",
    "ElectionTick": 10,
    "HeartbeatTick": 1,
    "MaxInflightBlocks": 5,
    "SnapshotIntervalSize": f"{SNAPSHOT_INTERVAL_MB} MB",
}


def _signature(rule: str) -> dict[str, str]:
    return {"Type": "Signature", "Rule": rule}


def _implicit(rule: str) -> dict[str, str]:
    return {"Type": "ImplicitMeta", "Rule": rule}


Host = Callable[[str], str]  # a node's name → the host other nodes reach it at


def on_this_host(node: str) -> str:
    return LOCALHOST


def _member_org(
    definition: NetworkDefinition, index: int, layout: OrgLayout, host: Host
) -> dict[str, Any]:
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
        "AnchorPeers": [
            {"Host": host(layout.peer(0).name), "Port": definition.peer_ports(index).listen}
        ],
    }


def _orderer_org(
    definition: NetworkDefinition, layout: OrdererOrgLayout, host: Host
) -> dict[str, Any]:
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
            f"{host(layout.orderer(i).name)}:{definition.orderer_ports(i).listen}"
            for i in range(definition.ordering.orderers)
        ],
    }


def _consenters(
    definition: NetworkDefinition, orderer_org: OrdererOrgLayout, host: Host
) -> list[dict[str, Any]]:
    consenters = []
    for i in range(definition.ordering.orderers):
        tls = orderer_org.orderer(i).tls_cert("server")
        consenters.append(
            {
                "Host": host(orderer_org.orderer(i).name),
                "Port": definition.orderer_ports(i).listen,
                "ClientTLSCert": str(tls),
                "ServerTLSCert": str(tls),
            }
        )
    return consenters


def build_configtx(
    definition: NetworkDefinition,
    orderer_org: OrdererOrgLayout,
    members: list[OrgLayout],
    host: Host = on_this_host,
) -> dict[str, Any]:
    """configtx.yaml for the channel; `host` names where each node is reached (127.0.0.1 on the
    native network, the node's host name in docker-compose). Raises nothing."""
    consenters = _consenters(definition, orderer_org, host)
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
            "Options": dict(RAFT_OPTIONS),
        },
        "Organizations": [_orderer_org(definition, orderer_org, host)],
        "Policies": {**standard, "BlockValidation": _implicit("ANY Writers")},
        "Capabilities": CAPABILITIES,
    }
    application = {
        "Organizations": [
            _member_org(definition, i, layout, host) for i, layout in enumerate(members)
        ],
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
