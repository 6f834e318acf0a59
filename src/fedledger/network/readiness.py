"""When the native network is ready for the next step, from what its nodes report: operations
endpoints (/healthz, Prometheus metrics) and the chaincode answering, never sleeping."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from fedledger.network.errors import NetworkError
from fedledger.network.nodes import Node
from fedledger.network.peercli import FabricCommands
from fedledger.runtime import health, processes
from fedledger.runtime.ports import listening
from fedledger.runtime.processes import ProcessTable


def wait_healthy(nodes: list[Node], table: ProcessTable, timeout: float) -> None:
    """Every node with an operations endpoint answers /healthz; NetworkError, with its log's
    tail, for one that exits meanwhile."""
    for node in nodes:
        port = node.operations_port
        if port is None:
            continue
        record = table.records[node.name]

        def check(
            port: int = port, record: processes.ProcessRecord = record, log: Path = node.spec.log
        ) -> bool:
            if not processes.is_running(record):
                raise NetworkError(
                    f"{record.name} exited while starting; its log: "
                    f"{log}\n{processes.log_tail(log)}"
                )
            return health.healthz(port)

        health.wait_for(check, f"{node.name} /healthz on port {port}", timeout)


def wait_for_admin(commands: FabricCommands, timeout: float) -> None:
    """Every orderer's admin endpoint (osnadmin's) accepts connections: an orderer answers
    /healthz before it opens it, the later the longer the ledger it reopens."""
    definition = commands.definition
    for i in range(definition.ordering.orderers):
        port = definition.orderer_ports(i).admin
        name = commands.orderer_org.orderer(i).name
        health.wait_for(partial(listening, port), f"{name} admin endpoint on port {port}", timeout)


def wait_for_peer_listeners(commands: FabricCommands, timeout: float) -> None:
    """Every peer accepts connections: a restarted peer answers /healthz before it listens (seen
    on 2.2, where no orderer step waits long enough to hide it)."""
    for i in range(len(commands.definition.members)):
        port = commands.definition.peer_ports(i).listen
        what = f"{commands.peer_name(i)} to listen on port {port}"
        health.wait_for(partial(listening, port), what, timeout)


def wait_for_leader(commands: FabricCommands, timeout: float) -> None:
    definition = commands.definition
    labels = {"channel": definition.channel}

    def leader_elected() -> bool:
        leaders = 0.0
        for i in range(definition.ordering.orderers):
            port = definition.orderer_ports(i).operations
            leaders += health.metric(port, "consensus_etcdraft_is_leader", labels) or 0.0
        return leaders >= 1

    health.wait_for(leader_elected, "the Raft leader election", timeout)


def wait_for_gossip(commands: FabricCommands, timeout: float) -> None:
    """The Gateway finds endorsers of other organisations only through gossip."""
    definition = commands.definition
    others = len(definition.members) - 1
    if others == 0:
        return
    labels = {"channel": definition.channel}
    for i in range(len(definition.members)):
        port = definition.peer_ports(i).operations

        def knows_all(port: int = port) -> bool:
            known = health.metric(port, "gossip_membership_total_peers_known", labels)
            return known is not None and known >= others

        health.wait_for(knows_all, f"{commands.peer_name(i)} to see its peers", timeout)


def wait_for_chaincode(commands: FabricCommands, timeout: float) -> None:
    """The chaincode answers a query on every peer (waited on in parallel)."""
    definition = commands.definition
    query = json.dumps({"Args": ["org.hyperledger.fabric:GetMetadata"]})

    def answers(index: int) -> bool:
        result = commands.peer(
            index,
            "chaincode", "query",
            "-C", definition.channel, "-n", definition.chaincode_name,
            "-c", query,
            check=False,
        )  # fmt: skip
        return result.returncode == 0

    with ThreadPoolExecutor() as pool:
        waits = [
            pool.submit(
                health.wait_for,
                lambda i=i: answers(i),
                f"the chaincode to answer on {commands.peer_name(i)}",
                timeout,
                0.2,
            )
            for i in range(len(definition.members))
        ]
        for wait in waits:
            wait.result()


def wait_caught_up(commands: FabricCommands, node: Node, timeout: float) -> None:
    """`node`'s ledger is as high as the highest orderer's was when this was called."""
    definition = commands.definition
    labels = {"channel": definition.channel}

    def height(port: int) -> float:
        return health.metric(port, "ledger_blockchain_height", labels) or 0.0

    ports = [definition.orderer_ports(i).operations for i in range(definition.ordering.orderers)]
    target = max(height(port) for port in ports)
    port = node.operations_port
    if port is None:
        return
    health.wait_for(
        lambda: height(port) >= target,
        f"{node.name} to catch up to block {target:.0f}",
        timeout,
    )
