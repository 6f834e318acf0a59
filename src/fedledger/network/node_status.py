"""`fedledger network status` for a native network: one row per recorded node, with its
health from /healthz and its ledger height from its metrics."""

from __future__ import annotations

from fedledger.network.nodes import Node, NodeSet
from fedledger.runtime import health, processes
from fedledger.runtime.processes import ProcessRecord, ProcessTable
from fedledger.runtime.status import NodeStatus


def node_statuses(nodes: NodeSet, table: ProcessTable) -> list[NodeStatus]:
    records = table.records
    recorded = [n for n in nodes.fabric() if n.name in records]
    recorded += nodes.recorded_chaincode_servers(records)
    channel = nodes.commands.definition.channel
    return [_row(node, records.get(node.name), channel) for node in recorded]


def _row(node: Node, record: ProcessRecord | None, channel: str) -> NodeStatus:
    running = record is not None and processes.is_running(record)
    port = node.operations_port
    healthy = running and (port is None or health.healthz(port))
    height = None
    if healthy and port is not None:
        value = health.metric(port, "ledger_blockchain_height", {"channel": channel})
        height = int(value) if value is not None else None
    return NodeStatus(
        name=node.name,
        kind=node.kind,
        organization=node.organization,
        ports=", ".join(f"{k} {v}" for k, v in node.ports.items()),
        pid=record.pid if record else None,
        running=running,
        healthy=healthy,
        height=height,
    )
