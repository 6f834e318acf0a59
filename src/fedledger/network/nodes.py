"""The native network's nodes: each orderer, peer and chaincode server as a process to start,
with its kind, organisation and ports; and each Fabric node's configuration file.

One parameterised definition per node type, from the network definition, rather than a copy
per node. A node's configuration is the installation's sample file with our overrides merged
over it (`nodeconfig.py`).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.network.bundle import fabric22_folder
from fedledger.network.errors import NetworkError
from fedledger.network.nodeconfig import (
    LOCALHOST,
    orderer_overrides,
    peer_overrides,
    write_config,
)
from fedledger.network.peercli import FabricCommands
from fedledger.network.system_channel import SYSTEM_GENESIS
from fedledger.orgs.layout import OrdererOrgLayout, OrgLayout
from fedledger.runtime.chaincode_server import chaincode_server, chaincode_server_command
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout
from fedledger.runtime.processes import ProcessRecord, ProcessSpec


@dataclass(frozen=True)
class Node:
    spec: ProcessSpec
    kind: str  # orderer, peer or chaincode
    organization: str
    ports: dict[str, int]
    operations_port: int | None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class NodeSet:
    """The nodes of the network `commands` acts on."""

    commands: FabricCommands

    def orderers(self) -> list[Node]:
        definition, layout = self.commands.definition, self.commands.layout
        nodes = []
        for i in range(definition.ordering.orderers):
            name = self.commands.orderer_org.orderer(i).name
            ports = definition.orderer_ports(i)
            spec = ProcessSpec(
                name=name,
                command=[str(self.commands.installation.binary("orderer"))],
                log=layout.log(name),
                cwd=layout.node(name),
                env={"FABRIC_CFG_PATH": str(layout.node(name))},
            )
            ports_used = {"listen": ports.listen, "admin": ports.admin, "ops": ports.operations}
            nodes.append(
                Node(spec, "orderer", definition.ordering.msp_id, ports_used, ports.operations)
            )
        return nodes

    def peers(self) -> list[Node]:
        definition, layout = self.commands.definition, self.commands.layout
        nodes = []
        for i, member in enumerate(definition.members):
            name = self.commands.peer_name(i)
            ports = definition.peer_ports(i)
            builder_config = json.dumps({"ccport": str(ports.chaincode_server)})
            spec = ProcessSpec(
                name=name,
                command=[str(self.commands.installation.binary("peer")), "node", "start"],
                log=layout.log(name),
                cwd=layout.node(name),
                env={
                    "FABRIC_CFG_PATH": str(layout.node(name)),
                    "CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG": builder_config,
                },
            )
            ports_used = {
                "listen": ports.listen,
                "chaincode": ports.chaincode,
                "ops": ports.operations,
            }
            nodes.append(Node(spec, "peer", member.msp_id, ports_used, ports.operations))
        return nodes

    def fabric(self) -> list[Node]:
        return self.orderers() + self.peers()

    def chaincode_servers(self, package_id: str) -> list[Node]:
        """One `fabric-chaincode-node server` per organisation, for the package `package_id`.

        Raises NetworkError when the chaincode is not built.
        """
        definition = self.commands.definition
        source = self.chaincode_build()
        server = chaincode_server(source)
        node_binary = self._node_binary()
        if node_binary is None or not server.exists() or not (source / "dist").is_dir():
            raise NetworkError(
                f"cannot run the chaincode server: needs Node.js and {server}; "
                f"run `npm ci && npm run build` in {definition.chaincode_source} "
                "(`npm run build:fabric-2.2` for Fabric 2.2; or `make setup`)"
            )
        nodes = []
        for i, member in enumerate(definition.members):
            port = definition.peer_ports(i).chaincode_server
            name = f"chaincode.{member.domain}"
            spec = ProcessSpec(
                name=name,
                command=chaincode_server_command(
                    node_binary, source, f"{LOCALHOST}:{port}", package_id
                ),
                log=self.commands.layout.log(name),
                cwd=source,
                env={"CORE_CHAINCODE_LOGGING_LEVEL": "info", "CORE_CHAINCODE_LOGGING_SHIM": "warn"},
            )
            nodes.append(Node(spec, "chaincode", member.msp_id, {"server": port}, None))
        return nodes

    def chaincode_build(self) -> Path:
        """The chaincode project the servers run: the chaincode, or on Fabric 2.2 its 2.2 build
        (chaincode/fabric-2.2: fabric-shim 2.2, ES2019), as AWS Managed Blockchain runs it."""
        source = self.commands.definition.chaincode_source
        if self.commands.installation.channel_participation:
            return source
        return fabric22_folder(source)

    def _node_binary(self) -> str | None:
        """Node.js for the chaincode servers: on Fabric 2.2, FEDLEDGER_CHAINCODE_NODE may name the
        runtime's Node 12 (fabric-nodeenv 2.2); otherwise, and by default, `node` on PATH.
        Raises NetworkError when FEDLEDGER_CHAINCODE_NODE names no file."""
        chosen = os.environ.get("FEDLEDGER_CHAINCODE_NODE")
        if not chosen or self.commands.installation.channel_participation:
            return shutil.which("node")
        if not Path(chosen).is_file():
            raise NetworkError(
                f"FEDLEDGER_CHAINCODE_NODE={chosen} is no file: name a Node.js binary "
                "(Node 12 is Fabric 2.2's chaincode runtime), or unset it to use `node` on PATH"
            )
        return chosen

    def recorded_chaincode_servers(self, records: dict[str, ProcessRecord]) -> list[Node]:
        """The chaincode servers `records` holds, as they were started."""
        definition, layout = self.commands.definition, self.commands.layout
        rows = []
        for i, member in enumerate(definition.members):
            name = f"chaincode.{member.domain}"
            record = records.get(name)
            if record is None:
                continue
            spec = ProcessSpec(name, record.command, layout.log(name), layout.root)
            port = definition.peer_ports(i).chaincode_server
            rows.append(Node(spec, "chaincode", member.msp_id, {"server": port}, None))
        return rows

    def write_configs(self) -> None:
        """Each orderer's `orderer.yaml` and each peer's `core.yaml` in its node folder."""
        samples = self.commands.installation.config_dir
        installation = self.commands.installation
        native = Placement(installation.ccaas_builder)
        system_block = None
        if not installation.channel_participation:
            system_block = self.commands.layout.channel_dir / SYSTEM_GENESIS
        configs = node_overrides(
            self.commands.definition, self.commands.layout, native, system_block
        )
        for name, (file, overrides) in configs.items():
            write_config(samples / file, overrides, self.commands.layout.node(name) / file)


@dataclass(frozen=True)
class Placement:
    """Where the nodes run: on this host (every address 127.0.0.1), or each in a container that
    binds every interface and is reached by its host name, the node's own name."""

    ccaas_builder: Path
    listen_host: str = LOCALHOST
    by_name: bool = False

    def host(self, node: str) -> str:
        return node if self.by_name else LOCALHOST


def node_overrides(
    definition: NetworkDefinition,
    layout: RunLayout,
    placement: Placement,
    system_channel_block: Path | None = None,
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Node name → (its configuration file's name, our settings over the sample file), with the
    paths of `layout` (the run folder as the nodes see it); orderers bootstrap from
    `system_channel_block` when given (Fabric 2.2). Raises nothing."""
    orderer_org = OrdererOrgLayout.under(layout.crypto, definition.ordering.domain)
    configs: dict[str, tuple[str, dict[str, Any]]] = {}
    for i in range(definition.ordering.orderers):
        node = orderer_org.orderer(i)
        configs[node.name] = (
            "orderer.yaml",
            orderer_overrides(
                node=node,
                msp_id=definition.ordering.msp_id,
                ports=definition.orderer_ports(i),
                data_dir=layout.node(node.name) / "data",
                admin_client_ca=orderer_org.tlsca_cert,
                listen_host=placement.listen_host,
                system_channel_block=system_channel_block,
            ),
        )
    for i, member in enumerate(definition.members):
        node = OrgLayout.under(layout.crypto, member.domain).peer(0)
        configs[node.name] = (
            "core.yaml",
            peer_overrides(
                node=node,
                msp_id=member.msp_id,
                ports=definition.peer_ports(i),
                data_dir=layout.node(node.name) / "data",
                ccaas_builder=placement.ccaas_builder,
                channel_peers=len(definition.members),
                listen_host=placement.listen_host,
                host=placement.host(node.name),
            ),
        )
    return configs
