"""`orderer start`, `orderer status`, `orderer stop`: the ordering organisation's orderer,
started from its folder and recorded there (runtime/processes.py) as `org start` records its
peer, so that a second start starts nothing and stop stops exactly what start started.

Its orderer.yaml is the installation's sample with the overrides `network up` gives its own
orderers (network/nodeconfig.py): channel participation, no system channel, TLS on every
listener, the admin listener accepting only the organisation's own TLS CA's clients.
"""

from __future__ import annotations

from pathlib import Path

from fedledger.installation import Installation
from fedledger.network.nodeconfig import orderer_overrides, write_config
from fedledger.ordering.errors import OrdererNodeError
from fedledger.ordering.folder import OrderingOrg
from fedledger.runtime import health, processes
from fedledger.runtime.processes import ProcessSpec, ProcessTable
from fedledger.runtime.status import NodeStatus

PROCESSES = "processes.json"


def _node_dir(org: OrderingOrg) -> Path:
    return org.root / "nodes" / org.orderer.name


def _log(org: OrderingOrg) -> Path:
    return org.root / "logs" / f"{org.orderer.name}.log"


def table(org: OrderingOrg) -> ProcessTable:
    return ProcessTable(org.root / PROCESSES)


def orderer_spec(org: OrderingOrg, installation: Installation, listen_host: str) -> ProcessSpec:
    """The orderer's process, its orderer.yaml written in its node folder; raises OSError when
    the installation's sample is unreadable."""
    folder = _node_dir(org)
    overrides = orderer_overrides(
        node=org.orderer,
        msp_id=org.msp_id,
        ports=org.ports,
        data_dir=folder / "data",
        admin_client_ca=org.layout.tlsca_cert,
        listen_host=listen_host,
    )
    write_config(installation.config_dir / "orderer.yaml", overrides, folder / "orderer.yaml")
    return ProcessSpec(
        name=org.orderer.name,
        command=[str(installation.binary("orderer"))],
        log=_log(org),
        cwd=folder,
        env={"FABRIC_CFG_PATH": str(folder)},
    )


def start(org: OrderingOrg, installation: Installation, listen_host: str, timeout: float) -> str:
    """Start the orderer unless it runs; a line for the user. Raises OrdererNodeError, with its
    log's tail, when it exits while starting, and NotReadyError when it is not healthy within
    `timeout`."""
    records = table(org)
    running = records.running().get(org.orderer.name)
    if running is not None:
        return f"{org.orderer.name} already running (pid {running.pid})"
    record = processes.start(orderer_spec(org, installation, listen_host))
    records.add(record)

    def ready() -> bool:
        if not processes.is_running(record):
            raise OrdererNodeError(
                f"{record.name} exited while starting; its log {_log(org)}:\n"
                f"{processes.log_tail(_log(org))}"
            )
        return health.healthz(org.ports.operations)

    health.wait_for(ready, f"{record.name} to be healthy", timeout)
    host, port = org.endpoint
    return (
        f"started {record.name} on {host}:{port} (admin {org.ports.admin}, operations "
        f"{org.ports.operations}); log {_log(org)}"
    )


def status(org: OrderingOrg) -> list[NodeStatus]:
    """One row per recorded process. Raises nothing of its own."""
    rows = []
    for name, record in sorted(table(org).records.items()):
        running = processes.is_running(record)
        rows.append(
            NodeStatus(
                name=name,
                kind="orderer",
                organization=org.msp_id,
                ports=f"listen {org.ports.listen}, admin {org.ports.admin}, "
                f"ops {org.ports.operations}",
                pid=record.pid,
                running=running,
                healthy=running and health.healthz(org.ports.operations),
                height=None,
            )
        )
    return rows


def stop(org: OrderingOrg) -> list[str]:
    """Stop every recorded process; the names of those that were running. Raises nothing of its
    own."""
    records = table(org)
    stopped = [record.name for record in records.records.values() if processes.stop(record)]
    records.remove(list(records.records))
    return stopped
