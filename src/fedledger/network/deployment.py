"""Deploying the chaincode as a service: package it, (re)start one chaincode server per
organisation for that package, and run the standard lifecycle (`lifecycle.py`).

A changed build gets a new package id, so its servers' recorded command lines differ from the
running ones: those are stopped and started again for the new package.
"""

from __future__ import annotations

from fedledger.network.lifecycle import Deployment, deploy
from fedledger.network.nodes import NodeSet
from fedledger.network.packaging import package_ccaas
from fedledger.network.supervisor import start_node
from fedledger.runtime import processes
from fedledger.runtime.processes import ProcessRecord, ProcessTable


def deploy_chaincode(
    nodes: NodeSet, table: ProcessTable, running: dict[str, ProcessRecord]
) -> Deployment:
    definition, layout = nodes.commands.definition, nodes.commands.layout
    source = nodes.chaincode_build()
    package = package_ccaas(source, definition.chaincode_name, layout.chaincode_dir)
    servers = nodes.chaincode_servers(package.package_id)
    stale = [
        n.name for n in servers if n.name in running and running[n.name].command != n.spec.command
    ]
    for name in stale:
        processes.stop(running.pop(name))
    for node in servers:
        start_node(node, table, running)
    return deploy(nodes.commands, package)
