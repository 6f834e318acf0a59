"""`org start`, `org status`, `org stop`: the organisation's processes, started from its folder
and recorded there (runtime/processes.py), so that a second start starts only what is missing
and stop stops exactly what start started.

On Fabric: the peer, its channel join, the profile, the chaincode service once the organisation
has deployed, the validator when configured. On the embedded ledger, which is every
organisation's peer in one process run by whoever runs the ledger, there is no peer to start:
the profile points at the ledger's endpoint, and only the validator runs here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fedledger.orgnode import chaincode, peer, validator
from fedledger.orgnode.layout import NodeFolders
from fedledger.orgnode.ledger_kind import with_ledger_known
from fedledger.orgnode.profile import write_org_profile
from fedledger.orgnode.settings import StartSettings, org_ports
from fedledger.orgs.standalone import StandaloneOrg
from fedledger.runtime import health, processes
from fedledger.runtime.processes import ProcessSpec, ProcessTable
from fedledger.runtime.status import NodeStatus
from fedledger.validator.config import ValidatorConfig

STOP_ORDER = ("chaincode", "validator", "peer")


@dataclass
class StartReport:
    """What `start` found and did, one line each, for the user."""

    lines: list[str] = field(default_factory=list)
    profile: Path | None = None

    def add(self, line: str) -> None:
        self.lines.append(line)


class OrgNode:
    def __init__(self, org: StandaloneOrg, settings: StartSettings) -> None:
        self.org = org
        self.settings = settings
        self.folders = NodeFolders(org.root)
        self.table = ProcessTable(self.folders.processes)

    def start(self, progress: Callable[[str], None], timeout: float = 120.0) -> StartReport:
        """Start what is not running, join the channel, write the profile.

        Raises StartSettingsError for a missing or wrong setting or an orderer that does not
        answer which ledger it belongs to, InstallationError when Fabric
        is needed and not installed, PeerExitedError or NotReadyError when the peer does not
        become healthy, PeerCommandError when the fetch, join or a lifecycle query fails,
        NotReadyError when the peer does not reach the configuration that lists the
        organisation or the chaincode service does not listen, ConfigError for a wrong
        validator configuration and ValidatorExitedError when the validator dies while
        starting.
        """
        report = StartReport()
        config = None
        if self.settings.validator_config is not None:
            config = validator.checked_config(self.org, self.settings.validator_config)
        self.settings.require_orderer()
        if self.settings.ledger == "auto":
            progress("asking the orderer which ledger runs the channel")
            self.settings = with_ledger_known(self.settings, timeout)
            report.add(f"the channel runs on the {self.settings.ledger} ledger")
        self.settings.keep(self.org.root)
        if self.settings.ledger == "fabric":
            self._start_peer(report, progress, timeout)
        else:
            report.add(
                "embedded ledger: no peer of its own; connecting through "
                + str(self.settings.orderer)
            )
        progress("reading the channel's configuration")
        report.profile = write_org_profile(self.org, self.settings, timeout)
        report.add(f"wrote the connection profile {report.profile}")
        if self.settings.ledger == "fabric":
            self._start_chaincode(report, progress)
        if config is not None and self.settings.validator_config is not None:
            self._start_validator(report, self.settings.validator_config, config)
        return report

    def _start_peer(
        self, report: StartReport, progress: Callable[[str], None], timeout: float
    ) -> None:
        from fedledger.installation import find_installation

        installation = find_installation()
        spec = peer.peer_process(self.org, installation)
        peer.write_peer_config(self.org, self.settings, installation)
        if self._ensure(spec, report, f"peer at {peer.peer_address(self.org)}"):
            progress(f"waiting for {spec.name}")
        peer.wait_healthy(self.org, self.settings, self.table.records[spec.name], timeout)
        admin = peer.peer_admin(self.org, self.settings, installation)
        progress(f"joining channel {self.settings.channel}")
        joined = peer.join_channel(admin, self.settings.channel, self.folders)
        report.add(
            f"{spec.name} joined channel {self.settings.channel}"
            if joined
            else f"{spec.name} has joined channel {self.settings.channel} already"
        )

    def _start_chaincode(self, report: StartReport, progress: Callable[[str], None]) -> None:
        from fedledger.installation import find_installation

        progress("looking for this organisation's chaincode package")
        admin = peer.peer_admin(self.org, self.settings, find_installation())
        package_id = chaincode.approved_package(
            admin, self.settings.channel, self.settings.chaincode
        )
        port = org_ports(self.org.peer_port).chaincode_server
        address = f"{self.settings.listen_host}:{port}"
        if package_id is None:
            report.add(
                f"no chaincode service yet: {self.org.msp_id} has not deployed "
                f"{self.settings.chaincode}; run `fedledger deploy --profile "
                f"{self.folders.profile} --as {self.org.msp_id} --service-address "
                f"{self.org.anchor_peer[0]}:{port}`, then `fedledger org start` again"
            )
            return
        spec = chaincode.service_process(self.org, package_id, address)
        if self._ensure(spec, report, f"chaincode service {package_id} on {address}"):
            # The peer dials it on the first transaction: a command typed right after this
            # start would otherwise meet "connection refused" while Node loads the contract.
            health.wait_for(
                lambda: peer.accepts(peer.reachable(self.settings.listen_host), port),
                f"{spec.name} to listen on {address}",
                30.0,
            )

    def _start_validator(self, report: StartReport, path: Path, config: ValidatorConfig) -> None:
        spec = validator.validator_spec(self.org, path)
        fresh = self._ensure(spec, report, f"validator ({path})")
        if fresh:
            validator.wait_validator(self.org, self.table.records[spec.name], config)

    def _ensure(self, spec: ProcessSpec, report: StartReport, what: str) -> bool:
        """Start `spec` unless it runs with the same command line (restart it if the command
        changed: another package, another configuration); True if started now."""
        running = self.table.running().get(spec.name)
        if running is not None and running.command == spec.command:
            report.add(f"{spec.name} already running: {what}")
            return False
        if running is not None:
            processes.stop(running)
            report.add(f"restarted {spec.name} (its command changed): {what}")
        else:
            report.add(f"started {spec.name}: {what}")
        self.table.add(processes.start(spec))
        return True

    def status(self) -> list[NodeStatus]:
        """One row per recorded process; raises ConfigError when the validator's configuration
        no longer loads."""
        rows = []
        for name, record in sorted(self.table.records.items()):
            running = processes.is_running(record)
            kind = _kind(name)
            rows.append(
                NodeStatus(
                    name=name,
                    kind=kind,
                    organization=self.org.msp_id,
                    ports=self._ports(kind),
                    pid=record.pid,
                    running=running,
                    healthy=running and self._healthy(kind),
                    height=None,
                )
            )
        return rows

    def _ports(self, kind: str) -> str:
        ports = org_ports(self.org.peer_port)
        return {
            "peer": f"listen {ports.listen}, ops {ports.operations}",
            "chaincode": f"server {ports.chaincode_server}",
        }.get(kind, "-")

    def _healthy(self, kind: str) -> bool:
        if kind == "peer":
            return health.healthz(org_ports(self.org.peer_port).operations)
        if kind == "validator" and self.settings.validator_config is not None:
            from fedledger.network.validators import serving

            return serving(ValidatorConfig.load(self.settings.validator_config))
        return True

    def stop(self) -> list[str]:
        """Stop every recorded process (chaincode service and validator before the peer); the
        names of those that were running. Raises nothing of its own."""
        records = sorted(self.table.records.values(), key=lambda r: STOP_ORDER.index(_kind(r.name)))
        stopped = [record.name for record in records if processes.stop(record)]
        self.table.remove([record.name for record in records])
        return stopped


def _kind(name: str) -> str:
    """peer, chaincode or validator, from the names `org start` gives (`peer0.<domain>`...)."""
    first = name.split(".", 1)[0]
    return "peer" if first.startswith("peer") else first
