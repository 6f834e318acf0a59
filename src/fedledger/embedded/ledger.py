"""EmbeddedLedger: start, stop and inspect the embedded ledger of one network's run folder.

`up` starts one detached process (`python -m fedledger.embedded serve`) in a session of its
own, records it in the run folder's process table (PID and start time, so a recycled PID is
never mistaken for it; the server records its chaincode there too), waits until every
organisation's Gateway answers an evaluate of `health:Version`, and writes the connection
profile. `down` stops exactly the recorded processes: SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from fedledger.embedded.chaincode_process import check_built
from fedledger.embedded.config import EmbeddedConfig, RunPaths
from fedledger.embedded.errors import EmbeddedAlreadyRunningError, EmbeddedLedgerError
from fedledger.embedded.probe import GatewayProbe
from fedledger.embedded.store import connect
from fedledger.orgs import OrgLayout, generate_material
from fedledger.profile import ConnectionProfile, OrdererEndpoint, OrgProfile
from fedledger.runtime import processes
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import refuse_ports_in_use
from fedledger.runtime.processes import ProcessRecord, ProcessSpec, ProcessTable
from fedledger.runtime.status import NodeStatus

READY_PROBE = ("health:Version",)
STOP_TIMEOUT = 10.0
SERVER = "embedded-ledger"


class EmbeddedLedger:
    def __init__(self, definition: NetworkDefinition, run_dir: Path) -> None:
        self.definition = definition
        self.run_dir = run_dir
        self.paths = RunPaths(run_dir)
        self.config = EmbeddedConfig.from_definition(definition)

    def recorded(self) -> dict[str, ProcessRecord]:
        """The processes of this ledger as recorded (running or not): the server, its chaincode."""
        return ProcessTable(self.paths.processes).records

    def _recorded(self) -> ProcessRecord | None:
        return self.recorded().get(SERVER)

    def running(self) -> bool:
        record = self._recorded()
        return record is not None and processes.is_running(record)

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "fedledger.embedded", "serve", "--run-dir", str(self.run_dir)]

    def up(
        self, step: Callable[[str], None] | None = None, timeout: float = 30.0
    ) -> ConnectionProfile:
        """Start the ledger's server, wait until every Gateway answers, return the profile.

        Raises EmbeddedAlreadyRunningError when it runs already, ChaincodeNotBuiltError when the
        chaincode is not built, and EmbeddedLedgerError when a port is taken or the server exits
        or does not answer within `timeout`.
        """
        say = step or (lambda message: None)
        record = self._recorded()
        if record is not None and processes.is_running(record):
            raise EmbeddedAlreadyRunningError(
                f"the embedded ledger of network {self.definition.name!r} is already running "
                f"(PID {record.pid}, {self.run_dir}); stop it with `fedledger network down` first"
            )
        self._sweep_leftovers()
        check_built(self.config.chaincode_source)
        self._check_ports()
        say("preparing organisation material")
        generate_material(self.paths.crypto, self.definition.members, self.definition.ordering)
        self.config.write(self.paths.config)
        profile = self._profile()
        started = time.monotonic()
        say("starting the embedded ledger and its chaincode")
        spec = ProcessSpec(SERVER, self._command(), self.paths.server_log, Path.cwd())
        process = processes.spawn(spec, banner=False)
        ProcessTable(self.paths.processes).add(processes.record_of(spec, process))
        try:
            self._wait_ready(process, profile, started + timeout)
        except BaseException:
            self.down()
            raise
        self._profile().write(self.paths.profile)
        return ConnectionProfile.load(self.paths.profile)

    def _check_ports(self) -> None:
        wanted = []
        for index, org in enumerate(self.config.members):
            ports = self.definition.peer_ports(index)
            wanted.append((ports.listen, f"{org.msp_id} gateway"))
            if index == 0:
                wanted.append((ports.chaincode_server, f"{org.msp_id} chaincode server"))
        refuse_ports_in_use(wanted, EmbeddedLedgerError)

    def _wait_ready(
        self, process: subprocess.Popen[bytes], profile: ConnectionProfile, deadline: float
    ) -> None:
        waiting = list(profile.msp_ids)
        last_error = ""
        while waiting:
            if process.poll() is not None:
                raise EmbeddedLedgerError(
                    f"the embedded ledger exited with status {process.returncode} while "
                    f"starting:\n{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise EmbeddedLedgerError(
                    f"the embedded ledger did not answer on {', '.join(waiting)} in time "
                    f"({last_error}); log:\n{self._log_tail()}"
                )
            try:
                with GatewayProbe.from_profile(profile, waiting[0]) as probe:
                    probe.evaluate(*READY_PROBE, timeout=2.0)
                waiting.pop(0)
            except grpc.RpcError as error:
                last_error = f"{error.code().name}: {error.details()}"
                time.sleep(0.05)

    def _log_tail(self) -> str:
        return processes.log_tail(self.paths.server_log, lines=30, missing="(no log)")

    def _sweep_leftovers(self) -> list[str]:
        """Stop every recorded process still running (a ledger killed without stopping its
        chaincode leaves the chaincode running) and forget the records; their names."""
        table = ProcessTable(self.paths.processes)
        stopped = [name for name, record in table.running().items() if processes.stop(record)]
        table.remove(list(table.records))
        return stopped

    def down(self, purge: bool = False) -> list[str]:
        """Stop the ledger process (it stops its chaincode), then whatever it left running; the
        names of what was running. Raises nothing of its own."""
        running = list(ProcessTable(self.paths.processes).running())
        record = self._recorded()
        if record is not None:
            processes.terminate(record, STOP_TIMEOUT)
        self._sweep_leftovers()
        if purge and self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        return running

    def kill(self) -> None:
        """SIGKILL the ledger's process group, as a crash would (for fault tests); `up` then
        starts it again on the same state."""
        record = self._recorded()
        if record is not None:
            processes.kill(record, STOP_TIMEOUT)  # every thread, so its ports are free again

    def status(self) -> list[NodeStatus]:
        height = self._height()
        alive = self.running()
        recorded = self._recorded()
        pid = recorded.pid if recorded and alive else None
        profile = self._profile()
        rows = []
        for index, org in enumerate(self.config.members):
            healthy = False
            if alive:
                try:
                    with GatewayProbe.from_profile(profile, org.msp_id) as probe:
                        probe.evaluate(*READY_PROBE, timeout=2.0)
                    healthy = True
                except grpc.RpcError:
                    healthy = False
            ports = self.definition.peer_ports(index)
            port_map = {"gateway": ports.listen}
            if index == 0:
                port_map["chaincode"] = ports.chaincode_server
            rows.append(
                NodeStatus(
                    name=org.peer_name,
                    kind="gateway",
                    organization=org.msp_id,
                    ports=", ".join(f"{k} {v}" for k, v in port_map.items()),
                    pid=pid,
                    running=alive,
                    healthy=healthy,
                    height=height,
                )
            )
        return rows

    def _height(self) -> int | None:
        if not self.paths.database.exists():
            return None
        connection = connect(self.paths.database)
        try:
            row = connection.execute("SELECT MAX(number) FROM blocks").fetchone()
        finally:
            connection.close()
        return None if row[0] is None else int(row[0]) + 1

    def _profile(self) -> ConnectionProfile:
        organizations = {}
        for org in self.config.members:
            layout = OrgLayout.under(self.paths.crypto, org.domain)
            endpoint = f"127.0.0.1:{org.gateway_port}"
            organizations[org.msp_id] = OrgProfile.from_material(org.msp_id, layout, endpoint)
        return ConnectionProfile(
            name=self.definition.name,
            ledger="embedded",
            channel=self.definition.channel,
            chaincode=self.definition.chaincode_name,
            organizations=organizations,
            path=self.paths.profile,
            orderers=(
                _orderer_of(
                    organizations[self.config.members[0].msp_id], self.config.orderer_msp_id
                ),
            ),
        )


def _orderer_of(org: OrgProfile, orderer_msp_id: str) -> OrdererEndpoint:
    """The embedded ledger serves Broadcast on each peer's port; the profile names the first."""
    gateway = org.gateway
    return OrdererEndpoint(
        gateway.endpoint, gateway.server_name, gateway.tls_ca_cert, orderer_msp_id
    )
