"""EmbeddedLedger: start, stop and inspect the embedded ledger of one network's run folder.

`up` starts one detached process (`python -m fedledger.embedded serve`) in a session of its
own, records its PID with its start time (so a recycled PID is never mistaken for it), waits
until every organisation's Gateway answers an evaluate of `health:Version`, and writes the
connection profile. `down` stops exactly that process group: SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from fedledger.embedded.chaincode_process import check_built
from fedledger.embedded.config import EmbeddedConfig, RunPaths
from fedledger.embedded.probe import GatewayProbe
from fedledger.embedded.store import connect
from fedledger.orgs import OrgLayout, generate_material
from fedledger.profile import ConnectionProfile, OrgProfile
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import port_free
from fedledger.runtime.processes import wait_exited
from fedledger.runtime.status import NodeStatus

READY_PROBE = ("health:Version",)
STOP_TIMEOUT = 10.0


class EmbeddedLedgerError(RuntimeError):
    """The embedded ledger cannot be started, or is already running."""


class EmbeddedAlreadyRunningError(EmbeddedLedgerError):
    pass


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process, or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields count from after the command name, which may itself hold spaces: the state is
    # field 3, the start time field 22.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        _reap(pid)
        return None
    return fields[19]


class EmbeddedLedger:
    def __init__(self, definition: NetworkDefinition, run_dir: Path) -> None:
        self.definition = definition
        self.run_dir = run_dir
        self.paths = RunPaths(run_dir)
        self.config = EmbeddedConfig.from_definition(definition)

    # Process records.

    def _recorded(self) -> tuple[int, str] | None:
        try:
            record = json.loads(self.paths.pid.read_text())
            return int(record["pid"]), str(record["start"])
        except (OSError, ValueError, KeyError):
            return None

    def running(self) -> bool:
        recorded = self._recorded()
        return recorded is not None and _start_time(recorded[0]) == recorded[1]

    def up(
        self, step: Callable[[str], None] | None = None, timeout: float = 30.0
    ) -> ConnectionProfile:
        say = step or (lambda message: None)
        if self.running():
            pid = self._recorded()[0]  # type: ignore[index]
            raise EmbeddedAlreadyRunningError(
                f"the embedded ledger of network {self.definition.name!r} is already running "
                f"(PID {pid}, {self.run_dir}); stop it with `fedledger network down` first"
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
        with self.paths.server_log.open("ab") as output:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "fedledger.embedded",
                    "serve",
                    "--run-dir",
                    str(self.run_dir),
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        start = _start_time(process.pid)
        self.paths.pid.write_text(json.dumps({"pid": process.pid, "start": start}) + "\n")
        try:
            self._wait_ready(process, profile, started + timeout)
        except BaseException:
            self.down()
            raise
        self._profile().write(self.paths.profile)
        return ConnectionProfile.load(self.paths.profile)

    def _check_ports(self) -> None:
        for index, org in enumerate(self.config.members):
            ports = self.definition.peer_ports(index)
            wanted = [("gateway", ports.listen)]
            if index == 0:
                wanted.append(("chaincode server", ports.chaincode_server))
            for purpose, port in wanted:
                if not port_free(port):
                    raise EmbeddedLedgerError(
                        f"port {port} ({org.msp_id} {purpose}) is in use by another program: "
                        "stop it, or choose another port base with --port-base"
                    )

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

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.paths.server_log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _sweep_leftovers(self) -> None:
        """Kill what is left of a ledger that died without stopping its chaincode: processes
        still in the recorded process group that run our server or chaincode, nothing else (a
        recycled PID may lead an unrelated group)."""
        recorded = self._recorded()
        if recorded is None:
            return
        leftovers = _our_group_members(recorded[0], self.config.chaincode_id)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in leftovers:  # until their ports and files are closed
            wait_exited(pid, STOP_TIMEOUT)
        self.paths.pid.unlink(missing_ok=True)

    def down(self, purge: bool = False) -> list[str]:
        """Stop the ledger process (and its chaincode); the names of what was running."""
        recorded = self._recorded()
        stopped = []
        if recorded is not None and self.running():
            stopped = ["embedded-ledger", "chaincode"]
            pid = recorded[0]
            os.killpg(pid, signal.SIGTERM)
            wait_exited(pid, STOP_TIMEOUT)
            _reap(pid)
        self._sweep_leftovers()
        if purge and self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        return stopped

    def kill(self) -> None:
        """SIGKILL the ledger's process group, as a crash would (for fault tests); `up` then
        starts it again on the same state."""
        recorded = self._recorded()
        if recorded is None or not self.running():
            return
        os.killpg(recorded[0], signal.SIGKILL)
        wait_exited(recorded[0], STOP_TIMEOUT)  # every thread, so its ports are free again
        _reap(recorded[0])

    def status(self) -> list[NodeStatus]:
        height = self._height()
        alive = self.running()
        recorded = self._recorded()
        pid = recorded[0] if recorded and alive else None
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
        )


def _our_group_members(group: int, chaincode_id: str) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[2]) != group:
            continue
        if b"fedledger.embedded" in command or chaincode_id.encode() in command:
            members.append(int(entry.name))
    return members


def _reap(pid: int) -> None:
    """Collect our own child's exit status, so that it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
