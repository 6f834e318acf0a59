"""configtx.yaml for configtxgen from the organisations' own folders, the way `network up`
writes it (network/configtx.py), to compare `fedledger channel create`'s block with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedledger.network.configtx import PROFILE, RAFT_OPTIONS, _implicit, _signature
from fedledger.ordering.folder import OrderingOrg
from fedledger.orgs.standalone import StandaloneOrg


def _member(org: StandaloneOrg) -> dict[str, Any]:
    msp = org.msp_id
    host, port = org.anchor_peer
    return {
        "Name": msp,
        "ID": msp,
        "MSPDir": str(org.layout.msp),
        "Policies": {
            "Readers": _signature(f"OR('{msp}.admin', '{msp}.peer', '{msp}.client')"),
            "Writers": _signature(f"OR('{msp}.admin', '{msp}.client')"),
            "Admins": _signature(f"OR('{msp}.admin')"),
            "Endorsement": _signature(f"OR('{msp}.peer')"),
        },
        "AnchorPeers": [{"Host": host, "Port": port}],
    }


def configtx(orderer: OrderingOrg, members: list[StandaloneOrg], timeout: str) -> dict[str, Any]:
    msp = orderer.msp_id
    host, port = orderer.endpoint
    tls = str(orderer.orderer.tls_cert("server"))
    standard = {
        "Readers": _implicit("ANY Readers"),
        "Writers": _implicit("ANY Writers"),
        "Admins": _implicit("MAJORITY Admins"),
    }
    ordering = {
        "Name": msp,
        "ID": msp,
        "MSPDir": str(orderer.layout.msp),
        "Policies": {
            "Readers": _signature(f"OR('{msp}.member')"),
            "Writers": _signature(f"OR('{msp}.member')"),
            "Admins": _signature(f"OR('{msp}.admin')"),
        },
        "OrdererEndpoints": [f"{host}:{port}"],
    }
    raft = {
        "Consenters": [{"Host": host, "Port": port, "ClientTLSCert": tls, "ServerTLSCert": tls}],
        "Options": dict(RAFT_OPTIONS),
    }
    return {
        "Profiles": {
            PROFILE: {
                "Policies": standard,
                "Capabilities": {"V2_0": True},
                "Orderer": {
                    "OrdererType": "etcdraft",
                    "BatchTimeout": timeout,
                    "BatchSize": {
                        "MaxMessageCount": 100,
                        "AbsoluteMaxBytes": "99 MB",
                        "PreferredMaxBytes": "512 KB",
                    },
                    "EtcdRaft": raft,
                    "Organizations": [ordering],
                    "Policies": {**standard, "BlockValidation": _implicit("ANY Writers")},
                    "Capabilities": {"V2_0": True},
                },
                "Application": {
                    "Organizations": [_member(m) for m in members],
                    "Policies": {
                        **standard,
                        "LifecycleEndorsement": _implicit("MAJORITY Endorsement"),
                        "Endorsement": _implicit("MAJORITY Endorsement"),
                    },
                    "Capabilities": {"V2_0": True},
                },
            }
        }
    }


def configtxgen_block(
    configtxgen: Path, folder: Path, orderer: OrderingOrg, members: list[StandaloneOrg]
) -> bytes:
    """configtxgen's genesis block of channel `fedledger` for the same organisations."""
    import subprocess

    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    document = configtx(orderer, members, "500ms")
    (folder / "configtx.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    block = folder / "configtxgen.block"
    subprocess.run(
        [str(configtxgen), "-profile", PROFILE, "-channelID", "fedledger",
         "-outputBlock", str(block), "-configPath", str(folder)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return block.read_bytes()
