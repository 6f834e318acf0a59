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
from fedledger.runtime.chaincode_server import chaincode_server, chaincode_server_command
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
        definition, layout = self.commands.definition, self.commands.layout
        samples = self.commands.installation.config_dir
        admin_ca = self.commands.orderer_org.tlsca_cert
        system_block = None
        if not self.commands.installation.channel_participation:
            system_block = layout.channel_dir / SYSTEM_GENESIS
        for i in range(definition.ordering.orderers):
            node = self.commands.orderer_org.orderer(i)
            folder = layout.node(node.name)
            overrides = orderer_overrides(
                node=node,
                msp_id=definition.ordering.msp_id,
                ports=definition.orderer_ports(i),
                data_dir=folder / "data",
                admin_client_ca=admin_ca,
                system_channel_block=system_block,
            )
            write_config(samples / "orderer.yaml", overrides, folder / "orderer.yaml")
        for i, member in enumerate(definition.members):
            node = self.commands.org_layout(i).peer(0)
            folder = layout.node(node.name)
            overrides = peer_overrides(
                node=node,
                msp_id=member.msp_id,
                ports=definition.peer_ports(i),
                data_dir=folder / "data",
                ccaas_builder=self.commands.installation.ccaas_builder,
                channel_peers=len(definition.members),
            )
            write_config(samples / "core.yaml", overrides, folder / "core.yaml")
