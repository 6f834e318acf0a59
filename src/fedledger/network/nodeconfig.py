"""Per-node core.yaml and orderer.yaml: the installation's sample files with our overrides.

Fabric's sample configuration is read from the installation's `config/` at run time and never
copied into this repository; each node gets its own copy with the handful of settings that make
it one node of this network (addresses, TLS, MSP, data folder) written over it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from fedledger.orgs.layout import NodeLayout
from fedledger.runtime.definition import OrdererPorts, PeerPorts

LOCALHOST = "127.0.0.1"
# In a container a listener must bind every interface to be reachable from other containers.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (only in containers)


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Recursive dictionary merge: mappings merge, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def write_config(sample: Path, overrides: dict[str, Any], target: Path) -> None:
    document = yaml.safe_load(sample.read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(merge(document, overrides), sort_keys=False))


def _seconds(value: float) -> str:
    return f"{round(value * 1000)}ms"


def peer_gossip(address: str, peers: int) -> dict[str, Any]:
    """Gossip for one peer per organisation, all on one host, among `peers` peers.

    Every peer signs its alive and state-info messages for every other peer, which verifies
    them: the channel's gossip costs grow with the square of the peers. The intervals are short
    for a few organisations (a network is usable seconds after it starts) and grow with the
    number of peers, so that each peer's gossip load stays the same (measured with 10
    organisations on 2 cores: 1 s intervals made the peers take 1.45 cores while proposals were
    decided, and the decision 3.0 s; at 4 s, 2.1 s).
    """
    state_info = max(1.0, 0.4 * peers)
    return {
        "bootstrap": address,
        "endpoint": address,
        "externalEndpoint": address,
        # One peer per organisation: it pulls blocks from the orderer itself at once,
        # instead of waiting out a leader election's start-up grace period (15 s).
        "useLeaderElection": False,
        "orgLeader": True,
        # The first probe of another organisation's peer races the channel's TLS roots;
        # the default 25 s retry would make the Gateway wait that long for endorsers.
        "reconnectInterval": "1s",
        "aliveTimeInterval": _seconds(max(2.0, 0.5 * peers)),
        # Channel membership travels in state-info messages (every 4 s by default).
        "publishStateInfoInterval": _seconds(state_info),
        "requestStateInfoInterval": _seconds(state_info),
        # How often the membership metric that readiness waits on is refreshed.
        "membershipTrackerInterval": "500ms",
    }


def peer_overrides(
    *,
    node: NodeLayout,
    msp_id: str,
    ports: PeerPorts,
    data_dir: Path,
    ccaas_builder: Path,
    channel_peers: int,
    listen_host: str = LOCALHOST,
    host: str = LOCALHOST,
) -> dict[str, Any]:
    """The peer's settings over the sample core.yaml. Its listeners bind `listen_host`; other
    nodes reach it at `host` (both 127.0.0.1 on the native network; in a container, every
    interface and its host name: docs/docker-compose.md)."""
    address = f"{host}:{ports.listen}"
    return {
        "peer": {
            "id": node.name,
            "networkId": "fedledger",
            "listenAddress": f"{listen_host}:{ports.listen}",
            "address": address,
            # Each peer on one host needs its own chaincode listener (the default is 7052).
            "chaincodeListenAddress": f"{listen_host}:{ports.chaincode}",
            "chaincodeAddress": f"{host}:{ports.chaincode}",
            "gateway": {"enabled": True},
            "gossip": peer_gossip(address, channel_peers),
            "tls": {
                "enabled": True,
                "clientAuthRequired": False,
                "cert": {"file": str(node.tls_cert("server"))},
                "key": {"file": str(node.tls_key("server"))},
                "rootcert": {"file": str(node.tls_ca)},
                "clientRootCAs": {"files": [str(node.tls_ca)]},
            },
            "fileSystemPath": str(data_dir),
            "mspConfigPath": str(node.msp),
            "localMspId": msp_id,
        },
        # No Docker here: an empty endpoint stops the peer from registering a Docker health
        # check that keeps /healthz at 503 (an empty CORE_VM_ENDPOINT does not do it on 2.5).
        "vm": {"endpoint": ""},
        "chaincode": {
            "externalBuilders": [
                {
                    "name": "ccaas_builder",
                    "path": str(ccaas_builder),
                    "propagateEnvironment": ["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"],
                }
            ],
        },
        "ledger": {"state": {"stateDatabase": "goleveldb"}},
        "operations": {
            "listenAddress": f"{listen_host}:{ports.operations}",
            "tls": {"enabled": False},
        },
        "metrics": {"provider": "prometheus"},
    }


def orderer_overrides(
    *,
    node: NodeLayout,
    msp_id: str,
    ports: OrdererPorts,
    data_dir: Path,
    admin_client_ca: Path,
    listen_host: str = LOCALHOST,
    system_channel_block: Path | None = None,
) -> dict[str, Any]:
    """The orderer's settings over the sample orderer.yaml; its listeners bind `listen_host`.
    With `system_channel_block` (Fabric 2.2) it bootstraps from that block and has no admin
    endpoint, which 2.2 lacks (its configuration refuses unknown keys)."""
    settings = _orderer_settings(node, msp_id, ports, data_dir, admin_client_ca, listen_host)
    if system_channel_block is not None:
        settings["General"]["BootstrapMethod"] = "file"
        settings["General"]["BootstrapFile"] = str(system_channel_block)
        del settings["Admin"], settings["ChannelParticipation"]
    return settings


def _orderer_settings(
    node: NodeLayout,
    msp_id: str,
    ports: OrdererPorts,
    data_dir: Path,
    admin_client_ca: Path,
    listen_host: str,
) -> dict[str, Any]:
    tls_files = {
        "Certificate": str(node.tls_cert("server")),
        "PrivateKey": str(node.tls_key("server")),
    }
    return {
        "General": {
            "ListenAddress": listen_host,
            "ListenPort": ports.listen,
            "TLS": {
                "Enabled": True,
                **tls_files,
                "RootCAs": [str(node.tls_ca)],
                "ClientAuthRequired": False,
            },
            # Raft traffic shares the main listener and its TLS certificate.
            "Cluster": {
                "ClientCertificate": tls_files["Certificate"],
                "ClientPrivateKey": tls_files["PrivateKey"],
                "RootCAs": [str(node.tls_ca)],
            },
            "BootstrapMethod": "none",
            "LocalMSPDir": str(node.msp),
            "LocalMSPID": msp_id,
        },
        "FileLedger": {"Location": str(data_dir / "ledger")},
        "Consensus": {
            "WALDir": str(data_dir / "etcdraft" / "wal"),
            "SnapDir": str(data_dir / "etcdraft" / "snapshot"),
        },
        "Operations": {
            "ListenAddress": f"{listen_host}:{ports.operations}",
            "TLS": {"Enabled": False},
        },
        "Metrics": {"Provider": "prometheus"},
        "Admin": {
            "ListenAddress": f"{listen_host}:{ports.admin}",
            "TLS": {
                "Enabled": True,
                **tls_files,
                "RootCAs": [str(node.tls_ca)],
                "ClientAuthRequired": True,
                "ClientRootCAs": [str(admin_client_ca)],
            },
        },
        "ChannelParticipation": {"Enabled": True},
    }
