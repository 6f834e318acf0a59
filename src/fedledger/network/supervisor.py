"""Starting and stopping the native network's node processes, recorded in `processes.json`.

The mechanics (detached start, identity check, SIGTERM then SIGKILL) are the runtime's; this
module adds what a Fabric network needs: a node's ports checked free before it starts, and
`down` in dependency order (chaincode servers first, orderers last).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import structlog

from fedledger.network.errors import NetworkError
from fedledger.network.nodes import Node
from fedledger.runtime import processes
from fedledger.runtime.ports import refuse_ports_in_use
from fedledger.runtime.processes import ProcessRecord, ProcessTable

log = structlog.get_logger(__name__)

STOP_ORDER = {"chaincode": 0, "peer": 1, "orderer": 2}


def start_node(node: Node, table: ProcessTable, running: dict[str, ProcessRecord]) -> None:
    """Start `node` unless it is among the `running`; NetworkError if one of its ports is
    taken."""
    if node.name in running:
        return
    refuse_ports_in_use(
        ((port, f"{node.name}, {purpose}") for purpose, port in node.ports.items()),
        NetworkError,
    )
    node.spec.cwd.mkdir(parents=True, exist_ok=True)
    table.add(processes.start(node.spec))
    log.info("started", node=node.name, pid=table.records[node.name].pid)


def stop_all(table: ProcessTable, kinds: dict[str, str]) -> list[str]:
    """Stop every recorded process, all at once, handed out in the order of their `kinds` (a
    name not there is a chaincode server); the names of those that were running."""
    names = sorted(table.records, key=lambda n: STOP_ORDER.get(kinds.get(n, "chaincode"), 0))
    with ThreadPoolExecutor() as pool:
        results = pool.map(lambda n: processes.stop(table.records[n]), names)
        stopped = [name for name, was in zip(names, results, strict=True) if was]
    table.remove(names)
    return stopped
