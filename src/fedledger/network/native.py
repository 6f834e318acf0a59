"""The native Fabric network: Fabric's own binaries as local processes, no Docker.

`up` brings the whole network to "chaincode answers on every peer": organisation material,
genesis block, orderers and peers, channel joins, chaincode lifecycle, one chaincode server per
organisation, and the connection profile. Every wait is on something the nodes report. This
class only sequences the steps; each lives in its own module: `nodes` (what runs, and its
configuration), `channel` (genesis and joins), `supervisor` (starting and stopping),
`deployment` (the chaincode), `readiness` (the waits), `node_status` (the status rows).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from fedledger.installation import Installation
from fedledger.network import channel, readiness, system_channel
from fedledger.network.deployment import deploy_chaincode
from fedledger.network.errors import AlreadyRunningError, NetworkError
from fedledger.network.lifecycle import Deployment
from fedledger.network.node_status import node_statuses
from fedledger.network.nodeconfig import LOCALHOST
from fedledger.network.nodes import NodeSet
from fedledger.network.peercli import FabricCommands
from fedledger.network.supervisor import start_node, stop_all
from fedledger.profile import ConnectionProfile, OrdererEndpoint, OrgProfile
from fedledger.runtime import processes
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout
from fedledger.runtime.processes import ProcessTable
from fedledger.runtime.status import NodeStatus

__all__ = ["AlreadyRunningError", "NativeNetwork", "NetworkError"]

log = structlog.get_logger(__name__)
Step = Callable[[str], None]


class _PhaseClock:
    """Seconds spent in each phase of `up`, for its log line."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.phases: dict[str, float] = {}

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = round(now - self.last, 2)
        self.last = now

    def total(self) -> float:
        return round(time.monotonic() - self.started, 2)


class NativeNetwork:
    def __init__(
        self, definition: NetworkDefinition, run_dir: Path, installation: Installation
    ) -> None:
        self.definition = definition
        self.layout = RunLayout(run_dir)
        self.installation = installation
        self.commands = FabricCommands(installation, definition, self.layout)
        self.nodes = NodeSet(self.commands)
        self.table = ProcessTable(self.layout.processes)

    def up(self, step: Step | None = None, timeout: float = 120.0) -> ConnectionProfile:
        """Start what is not running and return the connection profile.

        Raises AlreadyRunningError when every node runs, NetworkError when another program
        holds one of a node's ports, CommandError when a Fabric command fails, and NotReadyError
        when a node does not become ready within `timeout`.
        """
        say = step or (lambda message: None)
        running = self._refuse_if_running()
        fabric_nodes = self.nodes.fabric()
        clock = _PhaseClock()
        say("preparing organisation material and the genesis block")
        self._prepare()
        clock.done("material")
        say("starting orderers and peers")
        for node in fabric_nodes:
            start_node(node, self.table, running)
        readiness.wait_healthy(fabric_nodes, self.table, timeout)
        clock.done("healthy")
        say("joining the channel")
        self._order_channel(timeout)
        clock.done("raft_leader")
        channel.join_peers(self.commands)
        clock.done("peers_joined")
        say("deploying the chaincode")
        deployment = deploy_chaincode(self.nodes, self.table, running)
        clock.done("lifecycle")
        readiness.wait_for_chaincode(self.commands, timeout)
        clock.done("chaincode_ready")
        # The lifecycle talks to each peer directly; only the Gateway's endorser selection
        # needs the organisations' peers to know each other (2.2 has no Gateway).
        if self.installation.channel_participation:
            readiness.wait_for_gossip(self.commands, timeout)
        clock.done("gossip")
        profile = self.write_profile()
        log.info(
            "network up",
            network=self.definition.name,
            seconds=clock.total(),
            phases=clock.phases,
            package_id=deployment.package_id,
            sequence=deployment.sequence,
        )
        return profile

    def _order_channel(self, timeout: float) -> None:
        """The orderers serve the channel: joined through their admin endpoints, or on Fabric 2.2
        created by a channel creation transaction on the system channel."""
        if not self.installation.channel_participation:
            system_channel.create_channel(self.commands, timeout)
            readiness.wait_for_leader(self.commands, timeout)
            readiness.wait_for_peer_listeners(self.commands, timeout)
            return
        readiness.wait_for_admin(self.commands, timeout)
        channel.join_orderers(self.commands)
        readiness.wait_for_leader(self.commands, timeout)

    def _refuse_if_running(self) -> dict[str, processes.ProcessRecord]:
        """The recorded processes still running; AlreadyRunningError if every node is."""
        running = self.table.running()
        if running and all(n.name in running for n in self.nodes.fabric()):
            raise AlreadyRunningError(
                f"network {self.definition.name!r} is already running ({len(running)} processes "
                f"under {self.layout.root}); `fedledger network status` shows them, "
                "`fedledger network down` stops them"
            )
        return running

    def _prepare(self) -> None:
        channel.write_material(self.commands)
        self.nodes.write_configs()
        if not channel.bootstrap_block(self.commands).exists():
            channel.write_genesis_block(self.commands)

    def connection_profile(self) -> ConnectionProfile:
        """The profile of this network; on Fabric 2.2, whose peers have no Gateway, each
        organisation's protocol is the older one (`peer`)."""
        protocol = "gateway" if self.installation.channel_participation else "peer"
        organizations = {
            member.msp_id: dataclasses.replace(
                OrgProfile.from_material(
                    member.msp_id,
                    self.commands.org_layout(i),
                    f"{LOCALHOST}:{self.definition.peer_ports(i).listen}",
                ),
                protocol=protocol,
            )
            for i, member in enumerate(self.definition.members)
        }
        return ConnectionProfile(
            name=self.definition.name,
            ledger="fabric",
            channel=self.definition.channel,
            chaincode=self.definition.chaincode_name,
            organizations=organizations,
            path=self.layout.profile,
            orderers=(self._orderer_endpoint(),),
        )

    def _orderer_endpoint(self) -> OrdererEndpoint:
        ordering = self.commands.orderer_org
        return OrdererEndpoint(
            f"{LOCALHOST}:{self.definition.orderer_ports(0).listen}",
            ordering.orderer(0).name,
            ordering.tlsca_cert,
            self.definition.ordering.msp_id,
        )

    def write_profile(self) -> ConnectionProfile:
        profile = self.connection_profile()
        profile.write(self.layout.profile)
        return profile

    def status(self) -> list[NodeStatus]:
        """One row per node, from its process and operations endpoint; raises nothing."""
        return node_statuses(self.nodes, self.table)

    def running(self) -> bool:
        return bool(self.table.running())

    def down(self, purge: bool = False) -> list[str]:
        """Stop every recorded process (chaincode servers first, orderers last); raises nothing
        of its own."""
        stopped = stop_all(self.table, {n.name: n.kind for n in self.nodes.fabric()})
        if purge and self.layout.root.exists():
            shutil.rmtree(self.layout.root)
        return stopped

    def node_record(self, name: str) -> processes.ProcessRecord:
        """The recorded process of node `name`; raises NetworkError naming the known nodes when
        there is none.
        """
        try:
            return self.table.records[name]
        except KeyError:
            known = ", ".join(sorted(self.table.records)) or "none"
            raise NetworkError(f"no node {name!r} in this network (known: {known})") from None

    def restart_node(self, name: str, timeout: float = 60.0) -> None:
        """Start a stopped or crashed orderer or peer again; return once it is healthy and, for a
        peer, has caught up with the channel and is known to its peers again (the Gateway picks
        endorsers through gossip).

        Raises NetworkError for a name that is no orderer or peer, or as `readiness.wait_healthy`
        does.
        """
        node = next((n for n in self.nodes.fabric() if n.name == name), None)
        if node is None:
            raise NetworkError(f"{name!r} is not an orderer or peer of this network")
        start_node(node, self.table, self.table.running())
        readiness.wait_healthy([node], self.table, timeout)
        if node.kind == "peer":
            readiness.wait_caught_up(self.commands, node, timeout)
            if self.installation.channel_participation:
                readiness.wait_for_gossip(self.commands, timeout)

    def redeploy(self) -> Deployment:
        """Deploy the chaincode as built now; restarts the chaincode servers if it changed.

        Raises NetworkError when the network is not running, PackagingError when the chaincode
        is not built, CommandError when a lifecycle command fails.
        """
        if not self.running():
            raise NetworkError("the network is not running: start it with `fedledger network up`")
        deployment = deploy_chaincode(self.nodes, self.table, self.table.running())
        readiness.wait_for_chaincode(self.commands, 60.0)
        return deployment
