"""The organisation's own Fabric peer: its core.yaml, its process, and its channel join.

The peer's configuration is the installation's sample core.yaml with the overrides a peer of
`network up` gets (network/nodeconfig.py), on the organisation's own hosts and ports. The join
is Fabric's own: the genesis block fetched from the orderer as the organisation's admin
(`peer channel fetch 0`), then `peer channel join`; the peer then pulls every later block,
the configuration update that made its organisation a member included.
"""

from __future__ import annotations

import json
import socket

from fedledger.deploy.admin import Endpoint, PeerAdmin
from fedledger.installation import Installation
from fedledger.network.nodeconfig import LOCALHOST, peer_overrides, write_config
from fedledger.orgnode.errors import PeerExitedError
from fedledger.orgnode.layout import NodeFolders
from fedledger.orgnode.settings import StartSettings, org_ports
from fedledger.orgs.standalone import StandaloneOrg
from fedledger.runtime import health, processes
from fedledger.runtime.processes import ProcessRecord, ProcessSpec

# Gossip intervals grow with the channel's peers (nodeconfig.peer_gossip); a joining
# organisation does not know their number before it joins, and a handful is the usual case.
EXPECTED_PEERS = 4


def peer_name(org: StandaloneOrg) -> str:
    return org.layout.peer(0).name


def peer_address(org: StandaloneOrg) -> str:
    """Where clients and other organisations' peers reach the peer: its anchor peer."""
    host, port = org.anchor_peer
    return f"{host}:{port}"


def write_peer_config(
    org: StandaloneOrg, settings: StartSettings, installation: Installation
) -> None:
    """The peer's core.yaml in its node folder; raises OSError when the sample is unreadable."""
    folders = NodeFolders(org.root)
    name = peer_name(org)
    overrides = peer_overrides(
        node=org.layout.peer(0),
        msp_id=org.msp_id,
        ports=org_ports(org.peer_port),
        data_dir=folders.node(name) / "data",
        ccaas_builder=installation.ccaas_builder,
        channel_peers=EXPECTED_PEERS,
        listen_host=settings.listen_host,
        host=org.anchor_peer[0],
    )
    write_config(installation.config_dir / "core.yaml", overrides, folders.node(name) / "core.yaml")


def peer_process(org: StandaloneOrg, installation: Installation) -> ProcessSpec:
    folders = NodeFolders(org.root)
    name = peer_name(org)
    ports = org_ports(org.peer_port)
    return ProcessSpec(
        name=name,
        command=[str(installation.binary("peer")), "node", "start"],
        log=folders.log(name),
        cwd=folders.node(name),
        env={
            "FABRIC_CFG_PATH": str(folders.node(name)),
            "CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG": json.dumps(
                {"ccport": str(ports.chaincode_server)}
            ),
        },
    )


def wait_healthy(
    org: StandaloneOrg, settings: StartSettings, record: ProcessRecord, timeout: float
) -> None:
    """Return once the peer's operations endpoint answers /healthz and its own port takes
    connections (the operations endpoint answers while the peer is still opening its ledgers).
    Raises PeerExitedError, with its log's tail, when it exits first, and NotReadyError when
    `timeout` passes."""
    log = NodeFolders(org.root).log(record.name)
    ports = org_ports(org.peer_port)
    host = reachable(settings.listen_host)

    def ready() -> bool:
        if not processes.is_running(record):
            raise PeerExitedError(
                f"{record.name} exited while starting; its log {log}:\n{processes.log_tail(log)}"
            )
        return health.healthz(ports.operations) and accepts(host, ports.listen)

    health.wait_for(ready, f"{record.name} to be healthy", timeout)


def reachable(listen_host: str) -> str:
    """Where this host reaches a listener bound to `listen_host`. Raises nothing."""
    # A listener on every interface is reached through loopback from its own host.
    everywhere = ("0.0.0.0", "::")  # noqa: S104 (compared, not bound)
    return LOCALHOST if listen_host in everywhere else listen_host


def accepts(host: str, port: int) -> bool:
    """Whether `host:port` takes a TCP connection now. Raises nothing."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def peer_admin(
    org: StandaloneOrg, settings: StartSettings, installation: Installation
) -> PeerAdmin:
    """Fabric's `peer` command as the organisation's admin on its own peer.

    Raises StartSettingsError when no orderer is known.
    """
    address, tls_ca, name = settings.require_orderer()
    return PeerAdmin(
        peer_binary=installation.binary("peer"),
        config_dir=NodeFolders(org.root).node(peer_name(org)),
        msp_id=org.msp_id,
        admin_msp=org.layout.admin.msp,
        peer=Endpoint(peer_address(org), org.layout.tlsca_cert, peer_name(org)),
        orderer=Endpoint(address, tls_ca, name),
    )


def join_channel(admin: PeerAdmin, channel: str, folders: NodeFolders) -> bool:
    """Join the peer to `channel` unless it has joined; True if it joined now. Raises
    PeerCommandError when the fetch from the orderer or the join fails."""
    listed = admin.run(f"listing the channels of {admin.peer.address}", "channel", "list")
    if channel in listed.stdout.split():
        return False
    folders.channel.mkdir(parents=True, exist_ok=True)
    admin.run(
        f"fetching channel {channel}'s genesis block from {admin.orderer_args()[1]} as "
        f"{admin.msp_id} (the orderer serves members only: is the channel update adding "
        f"{admin.msp_id} submitted?)",
        "channel", "fetch", "0", str(folders.genesis_block), "-c", channel,
        *admin.orderer_args(),
    )  # fmt: skip
    admin.run(
        f"joining {admin.peer.address} to channel {channel}",
        "channel", "join", "-b", str(folders.genesis_block),
    )  # fmt: skip
    return True
