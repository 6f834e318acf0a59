"""The native Fabric network: Fabric's own binaries as local processes, no Docker.

`up` brings the whole network to "chaincode answers on every peer": organisation material,
genesis block, orderers and peers, channel joins, chaincode lifecycle, one chaincode server per
organisation, and the connection profile. Every wait is on something the nodes report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import structlog
import yaml

from fedledger.installation import Installation
from fedledger.network.configtx import PROFILE, build_configtx
from fedledger.network.lifecycle import Deployment, deploy
from fedledger.network.nodeconfig import (
    LOCALHOST,
    orderer_overrides,
    peer_overrides,
    write_config,
)
from fedledger.network.packaging import chaincode_version, package_ccaas
from fedledger.network.peercli import FabricCommands
from fedledger.orgs import generate_material
from fedledger.profile import ConnectionProfile, OrgProfile
from fedledger.runtime import health, processes
from fedledger.runtime.chaincode_server import chaincode_server, chaincode_server_command
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout
from fedledger.runtime.ports import refuse_ports_in_use
from fedledger.runtime.processes import ProcessSpec, ProcessTable
from fedledger.runtime.status import NodeStatus

log = structlog.get_logger(__name__)
Step = Callable[[str], None]


class NetworkError(RuntimeError):
    """The network cannot be started, or is not in the state a command needs."""


class AlreadyRunningError(NetworkError):
    pass


@dataclass(frozen=True)
class _Node:
    spec: ProcessSpec
    kind: str
    organization: str
    ports: dict[str, int]
    operations_port: int | None


class NativeNetwork:
    def __init__(
        self, definition: NetworkDefinition, run_dir: Path, installation: Installation
    ) -> None:
        self.definition = definition
        self.layout = RunLayout(run_dir)
        self.installation = installation
        self.commands = FabricCommands(installation, definition, self.layout)
        self.table = ProcessTable(self.layout.processes)

    # ---- the nodes -------------------------------------------------------------------------

    def _orderer_nodes(self) -> list[_Node]:
        nodes = []
        org = self.commands.orderer_org
        for i in range(self.definition.ordering.orderers):
            layout = org.orderer(i)
            ports = self.definition.orderer_ports(i)
            spec = ProcessSpec(
                name=layout.name,
                command=[str(self.installation.binary("orderer"))],
                log=self.layout.log(layout.name),
                cwd=self.layout.node(layout.name),
                env={"FABRIC_CFG_PATH": str(self.layout.node(layout.name))},
            )
            nodes.append(
                _Node(
                    spec,
                    "orderer",
                    self.definition.ordering.msp_id,
                    {"listen": ports.listen, "admin": ports.admin, "ops": ports.operations},
                    ports.operations,
                )
            )
        return nodes

    def _peer_nodes(self) -> list[_Node]:
        nodes = []
        for i, member in enumerate(self.definition.members):
            name = self.commands.peer_name(i)
            ports = self.definition.peer_ports(i)
            builder_config = json.dumps({"ccport": str(ports.chaincode_server)})
            spec = ProcessSpec(
                name=name,
                command=[str(self.installation.binary("peer")), "node", "start"],
                log=self.layout.log(name),
                cwd=self.layout.node(name),
                env={
                    "FABRIC_CFG_PATH": str(self.layout.node(name)),
                    "CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG": builder_config,
                },
            )
            nodes.append(
                _Node(
                    spec,
                    "peer",
                    member.msp_id,
                    {"listen": ports.listen, "chaincode": ports.chaincode, "ops": ports.operations},
                    ports.operations,
                )
            )
        return nodes

    def _chaincode_nodes(self, package_id: str) -> list[_Node]:
        source = self.definition.chaincode_source
        server = chaincode_server(source)
        node_binary = shutil.which("node")
        if node_binary is None or not server.exists():
            raise NetworkError(
                f"cannot run the chaincode server: needs Node.js and {server}; "
                f"run `npm ci && npm run build` in {source} (or `make setup`)"
            )
        nodes = []
        for i, member in enumerate(self.definition.members):
            port = self.definition.peer_ports(i).chaincode_server
            name = f"chaincode.{member.domain}"
            spec = ProcessSpec(
                name=name,
                command=chaincode_server_command(
                    node_binary, source, f"{LOCALHOST}:{port}", package_id
                ),
                log=self.layout.log(name),
                cwd=source,
                env={"CORE_CHAINCODE_LOGGING_LEVEL": "info", "CORE_CHAINCODE_LOGGING_SHIM": "warn"},
            )
            nodes.append(_Node(spec, "chaincode", member.msp_id, {"server": port}, None))
        return nodes

    def _fabric_nodes(self) -> list[_Node]:
        return self._orderer_nodes() + self._peer_nodes()

    # ---- up --------------------------------------------------------------------------------

    def up(self, step: Step | None = None, timeout: float = 120.0) -> ConnectionProfile:
        say = step or (lambda message: None)
        running = self.table.running()
        fabric_nodes = self._fabric_nodes()
        if running and all(n.spec.name in running for n in fabric_nodes):
            raise AlreadyRunningError(
                f"network {self.definition.name!r} is already running ({len(running)} processes "
                f"under {self.layout.root}); `fedledger network status` shows them, "
                "`fedledger network down` stops them"
            )
        phases: dict[str, float] = {}
        started = last = time.monotonic()

        def phase(name: str) -> None:
            nonlocal last
            now = time.monotonic()
            phases[name] = round(now - last, 2)
            last = now

        say("preparing organisation material and the genesis block")
        self._prepare()
        phase("material")
        say("starting orderers and peers")
        for node in fabric_nodes:
            self._start(node, running)
        self._wait_healthy(fabric_nodes, timeout)
        phase("healthy")
        say("joining the channel")
        self._join_orderers()
        self._wait_for_leader(timeout)
        phase("raft_leader")
        self._join_peers()
        phase("peers_joined")
        say("deploying the chaincode")
        deployment = self._deploy_chaincode(running)
        phase("lifecycle")
        self._wait_for_chaincode(timeout)
        phase("chaincode_ready")
        # The lifecycle talks to each peer directly; only the Gateway's endorser selection
        # needs the organisations' peers to know each other.
        self._wait_for_gossip(timeout)
        phase("gossip")
        profile = self.write_profile()
        log.info(
            "network up",
            network=self.definition.name,
            seconds=round(time.monotonic() - started, 2),
            phases=phases,
            package_id=deployment.package_id,
            sequence=deployment.sequence,
        )
        return profile

    def _prepare(self) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        created = generate_material(
            self.layout.crypto, self.definition.members, self.definition.ordering
        )
        if created:
            log.info("organisation material created", domains=created)
        self._write_node_configs()
        if not self.layout.genesis_block.exists():
            self._write_genesis_block()

    def _write_node_configs(self) -> None:
        config = self.installation.config_dir
        admin_ca = self.commands.orderer_org.tlsca_cert
        for i in range(self.definition.ordering.orderers):
            node = self.commands.orderer_org.orderer(i)
            folder = self.layout.node(node.name)
            overrides = orderer_overrides(
                node=node,
                msp_id=self.definition.ordering.msp_id,
                ports=self.definition.orderer_ports(i),
                data_dir=folder / "data",
                admin_client_ca=admin_ca,
            )
            write_config(config / "orderer.yaml", overrides, folder / "orderer.yaml")
        for i, member in enumerate(self.definition.members):
            node = self.commands.org_layout(i).peer(0)
            folder = self.layout.node(node.name)
            overrides = peer_overrides(
                node=node,
                msp_id=member.msp_id,
                ports=self.definition.peer_ports(i),
                data_dir=folder / "data",
                ccaas_builder=self.installation.ccaas_builder,
            )
            write_config(config / "core.yaml", overrides, folder / "core.yaml")

    def _write_genesis_block(self) -> None:
        members = [self.commands.org_layout(i) for i in range(len(self.definition.members))]
        configtx = build_configtx(self.definition, self.commands.orderer_org, members)
        folder = self.layout.channel_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "configtx.yaml").write_text(yaml.safe_dump(configtx, sort_keys=False))
        result = subprocess.run(
            [
                str(self.installation.binary("configtxgen")),
                "-profile", PROFILE,
                "-channelID", self.definition.channel,
                "-outputBlock", str(self.layout.genesis_block),
                "-configPath", str(folder),
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise NetworkError(f"configtxgen failed: {result.stderr.strip()[-800:]}")

    def _start(self, node: _Node, running: dict[str, processes.ProcessRecord]) -> None:
        if node.spec.name in running:
            return
        refuse_ports_in_use(
            ((port, f"{node.spec.name}, {purpose}") for purpose, port in node.ports.items()),
            NetworkError,
        )
        node.spec.cwd.mkdir(parents=True, exist_ok=True)
        self.table.add(processes.start(node.spec))
        log.info("started", node=node.spec.name, pid=self.table.records[node.spec.name].pid)

    def _wait_healthy(self, nodes: list[_Node], timeout: float) -> None:
        for node in nodes:
            port = node.operations_port
            if port is None:
                continue
            record = self.table.records[node.spec.name]

            def check(port: int = port, record: processes.ProcessRecord = record) -> bool:
                if not processes.is_running(record):
                    raise NetworkError(
                        f"{record.name} exited while starting; its log: "
                        f"{self.layout.log(record.name)}\n"
                        f"{processes.log_tail(self.layout.log(record.name))}"
                    )
                return health.healthz(port)

            health.wait_for(check, f"{node.spec.name} /healthz on port {port}", timeout)

    def _join_orderers(self) -> None:
        for i in range(self.definition.ordering.orderers):
            listed = self.commands.osnadmin(
                i, "channel", "list", "--channelID", self.definition.channel, check=False
            )
            if listed.returncode == 0 and '"name"' in listed.stdout:
                continue
            self.commands.osnadmin(
                i,
                "channel", "join",
                "--channelID", self.definition.channel,
                "--config-block", str(self.layout.genesis_block),
            )  # fmt: skip

    def _wait_for_leader(self, timeout: float) -> None:
        labels = {"channel": self.definition.channel}

        def leader_elected() -> bool:
            leaders = 0.0
            for i in range(self.definition.ordering.orderers):
                port = self.definition.orderer_ports(i).operations
                leaders += health.metric(port, "consensus_etcdraft_is_leader", labels) or 0.0
            return leaders >= 1

        health.wait_for(leader_elected, "the Raft leader election", timeout)

    def _join_peers(self) -> None:
        for i in range(len(self.definition.members)):
            channels = self.commands.peer(i, "channel", "list").stdout
            if self.definition.channel in channels.split():
                continue
            self.commands.peer(i, "channel", "join", "-b", str(self.layout.genesis_block))

    def _wait_for_gossip(self, timeout: float) -> None:
        """The Gateway finds endorsers of other organisations only through gossip."""
        others = len(self.definition.members) - 1
        if others == 0:
            return
        labels = {"channel": self.definition.channel}
        for i in range(len(self.definition.members)):
            port = self.definition.peer_ports(i).operations

            def knows_all(port: int = port) -> bool:
                known = health.metric(port, "gossip_membership_total_peers_known", labels)
                return known is not None and known >= others

            health.wait_for(knows_all, f"{self.commands.peer_name(i)} to see its peers", timeout)

    def _deploy_chaincode(self, running: dict[str, processes.ProcessRecord]) -> Deployment:
        source = self.definition.chaincode_source
        package = package_ccaas(source, self.definition.chaincode_name, self.layout.chaincode_dir)
        servers = self._chaincode_nodes(package.package_id)
        stale = [
            n.spec.name
            for n in servers
            if n.spec.name in running and running[n.spec.name].command != n.spec.command
        ]
        for name in stale:
            processes.stop(running.pop(name))
        for node in servers:
            self._start(node, running)
        return deploy(self.commands, package, chaincode_version(source))

    def _wait_for_chaincode(self, timeout: float) -> None:
        query = json.dumps({"Args": ["org.hyperledger.fabric:GetMetadata"]})

        def answers(index: int) -> bool:
            result = self.commands.peer(
                index,
                "chaincode", "query",
                "-C", self.definition.channel, "-n", self.definition.chaincode_name,
                "-c", query,
                check=False,
            )  # fmt: skip
            return result.returncode == 0

        with ThreadPoolExecutor() as pool:
            waits = [
                pool.submit(
                    health.wait_for,
                    lambda i=i: answers(i),
                    f"the chaincode to answer on {self.commands.peer_name(i)}",
                    timeout,
                    0.2,
                )
                for i in range(len(self.definition.members))
            ]
            for wait in waits:
                wait.result()

    # ---- profile, status, down -------------------------------------------------------------

    def connection_profile(self) -> ConnectionProfile:
        organizations = {
            member.msp_id: OrgProfile.from_material(
                member.msp_id,
                self.commands.org_layout(i),
                f"{LOCALHOST}:{self.definition.peer_ports(i).listen}",
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
        )

    def write_profile(self) -> ConnectionProfile:
        profile = self.connection_profile()
        profile.write(self.layout.profile)
        return profile

    def status(self) -> list[NodeStatus]:
        rows = []
        records = self.table.records
        package_nodes = [
            n for n in self._fabric_nodes() if n.spec.name in records
        ] + self._recorded_chaincode_nodes()
        for node in package_nodes:
            record = records.get(node.spec.name)
            running = record is not None and processes.is_running(record)
            port = node.operations_port
            healthy = running and (port is None or health.healthz(port))
            height = None
            if healthy and port is not None:
                value = health.metric(
                    port, "ledger_blockchain_height", {"channel": self.definition.channel}
                )
                height = int(value) if value is not None else None
            rows.append(
                NodeStatus(
                    name=node.spec.name,
                    kind=node.kind,
                    organization=node.organization,
                    ports=", ".join(f"{k} {v}" for k, v in node.ports.items()),
                    pid=record.pid if record else None,
                    running=running,
                    healthy=healthy,
                    height=height,
                )
            )
        return rows

    def _recorded_chaincode_nodes(self) -> list[_Node]:
        rows = []
        for i, member in enumerate(self.definition.members):
            name = f"chaincode.{member.domain}"
            record = self.table.records.get(name)
            if record is None:
                continue
            spec = ProcessSpec(name, record.command, self.layout.log(name), self.layout.root)
            port = self.definition.peer_ports(i).chaincode_server
            rows.append(_Node(spec, "chaincode", member.msp_id, {"server": port}, None))
        return rows

    def running(self) -> bool:
        return bool(self.table.running())

    def down(self, purge: bool = False) -> list[str]:
        """Stop every recorded process (chaincode servers first, orderers last)."""
        order = {"chaincode": 0, "peer": 1, "orderer": 2}
        kinds = {n.spec.name: n.kind for n in self._fabric_nodes()}
        names = sorted(self.table.records, key=lambda n: order.get(kinds.get(n, "chaincode"), 0))
        stopped = []
        with ThreadPoolExecutor() as pool:
            results = pool.map(lambda n: processes.stop(self.table.records[n]), names)
            stopped = [name for name, was in zip(names, results, strict=True) if was]
        self.table.remove(names)
        if purge and self.layout.root.exists():
            shutil.rmtree(self.layout.root)
        return stopped

    def node_record(self, name: str) -> processes.ProcessRecord:
        try:
            return self.table.records[name]
        except KeyError:
            known = ", ".join(sorted(self.table.records)) or "none"
            raise NetworkError(f"no node {name!r} in this network (known: {known})") from None

    def restart_node(self, name: str, timeout: float = 60.0) -> None:
        """Start a stopped or crashed orderer or peer again; return once it is healthy and, for a
        peer, has caught up with the channel and is known to its peers again (the Gateway picks
        endorsers through gossip)."""
        node = next((n for n in self._fabric_nodes() if n.spec.name == name), None)
        if node is None:
            raise NetworkError(f"{name!r} is not an orderer or peer of this network")
        self._start(node, self.table.running())
        self._wait_healthy([node], timeout)
        if node.kind == "peer":
            self._wait_caught_up(node, timeout)
            self._wait_for_gossip(timeout)

    def _wait_caught_up(self, node: _Node, timeout: float) -> None:
        labels = {"channel": self.definition.channel}

        def height(port: int) -> float:
            return health.metric(port, "ledger_blockchain_height", labels) or 0.0

        ports = [
            self.definition.orderer_ports(i).operations
            for i in range(self.definition.ordering.orderers)
        ]
        target = max(height(port) for port in ports)
        port = node.operations_port
        if port is None:
            return
        health.wait_for(
            lambda: height(port) >= target,
            f"{node.spec.name} to catch up to block {target:.0f}",
            timeout,
        )

    def redeploy(self) -> Deployment:
        """Deploy the chaincode as built now; restarts the chaincode servers if it changed."""
        if not self.running():
            raise NetworkError("the network is not running: start it with `fedledger network up`")
        running = self.table.running()
        deployment = self._deploy_chaincode(running)
        self._wait_for_chaincode(60.0)
        return deployment
