"""Starting processes detached, recording them, and stopping exactly those.

The one supervisor of every process fedledger starts beside a network: Fabric's nodes and
chaincode servers, the embedded ledger's server, the validators. They outlive the command that
started them (`fedledger network up` returns; the network keeps running), so each process
starts in a session of its own and is recorded with its PID and command line. A record is only
trusted while the PID still runs the recorded program: PIDs are reused, and `down` must never
signal a stranger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ProcessSpec:
    """A process to start. `own_session` False keeps it in its parent's process group, so that
    a signal to the parent's group (a stop, a crash test's SIGKILL) reaches it too: for a
    helper process of a process we supervise, such as the embedded ledger's chaincode."""

    name: str
    command: list[str]
    log: Path
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    own_session: bool = True


@dataclass(frozen=True)
class ProcessRecord:
    """A started process. Its identity is the kernel's start time of its PID when that was
    recorded (`start`), otherwise the program its command line names."""

    name: str
    pid: int
    command: list[str]
    started_at: float
    start: str | None = None


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from the state on (field 3), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The fields follow the parenthesised command name, which may itself contain spaces.
    return stat.rsplit(")", 1)[1].split()


def _proc_state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return None if fields is None else fields[0]


def start_time(pid: int) -> str | None:
    """The kernel's start time of a live process (with its PID, an identity no reuse can fake),
    or None if it is gone; a zombie child of ours is reaped on the way."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    if fields[0] == "Z":
        reap(pid)
        return None
    return fields[19]  # field 22


def reap(pid: int) -> None:
    """Collect our own child's exit status, so that it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def log_tail(path: Path, lines: int = 15, missing: str = "") -> str:
    """The last `lines` lines of a process's log, for the error that says it died."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return missing
    return "\n".join(text.splitlines()[-lines:])


def _exited(pid: int) -> bool:
    """Gone, or a zombie with no thread left: only then are its sockets and files closed.

    A dying process loses its command line before it closes its files, and a multi-threaded
    one (every Go node) shows its leader as a zombie while other threads still hold them.
    """
    state = _proc_state(pid)
    if state is None:
        return True
    if state not in ("Z", "X"):
        return False
    try:
        return len(list(Path(f"/proc/{pid}/task").iterdir())) <= 1
    except OSError:
        return True


def wait_exited(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _exited(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def is_running(record: ProcessRecord) -> bool:
    if record.start is not None:
        return start_time(record.pid) == record.start
    state = _proc_state(record.pid)
    if state is None or state in ("Z", "X"):
        return False
    try:
        argv = Path(f"/proc/{record.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(argv) and argv[0].decode(errors="replace") == record.command[0]


def spawn(spec: ProcessSpec, banner: bool = True) -> subprocess.Popen[bytes]:
    """Start `spec`, by default in a session of its own (its PID leads its process group),
    output to its log; for a caller that also wants the child's exit status."""
    spec.log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **spec.env}
    with spec.log.open("ab") as log:
        if banner:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            log.write(f"\n=== {stamp} starting {spec.name}\n".encode())
            log.flush()
        return subprocess.Popen(
            spec.command,
            cwd=spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=spec.own_session,
        )


def record_of(spec: ProcessSpec, process: subprocess.Popen[bytes]) -> ProcessRecord:
    """The record of a process `spawn` started, identified by its PID's kernel start time."""
    return ProcessRecord(
        spec.name, process.pid, spec.command, time.time(), start=start_time(process.pid)
    )


def start(spec: ProcessSpec) -> ProcessRecord:
    return record_of(spec, spawn(spec))


async def exit_status(process: subprocess.Popen[bytes]) -> int:
    """Wait without blocking the event loop until a child `spawn` started exits; its status.

    The kernel's process file descriptor becomes readable when the process exits: no thread
    blocked in wait(), no polling.
    """
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not exited.done():
            exited.set_result(None)

    try:
        descriptor = os.pidfd_open(process.pid)
    except ProcessLookupError:  # already collected (by `stop`'s reap)
        return process.wait()
    try:
        loop.add_reader(descriptor, readable)
        try:
            if process.poll() is None:
                await exited
        finally:
            loop.remove_reader(descriptor)
    finally:
        os.close(descriptor)
    return process.wait()


def stop(record: ProcessRecord, grace: float = 10.0) -> bool:
    """SIGTERM the process's group, SIGKILL it after `grace` seconds; True if it was running."""
    if not is_running(record):
        return False
    _signal_group(record.pid, signal.SIGTERM)
    if not wait_exited(record.pid, grace):
        _signal_group(record.pid, signal.SIGKILL)
        wait_exited(record.pid, 5.0)
    reap(record.pid)
    return True


def terminate(record: ProcessRecord, wait: float = 10.0) -> bool:
    """SIGTERM the process's group and wait up to `wait` seconds for its leader, without
    escalating (for a caller that sweeps the group itself); True if it was running."""
    if not is_running(record):
        return False
    _signal_group(record.pid, signal.SIGTERM)
    wait_exited(record.pid, wait)
    reap(record.pid)
    return True


def kill(record: ProcessRecord, wait: float = 10.0) -> None:
    """SIGKILL, as a crash would, and wait until the process is gone (its ports and locks
    free): for fault tests and the impatient."""
    if is_running(record):
        _signal_group(record.pid, signal.SIGKILL)
        wait_exited(record.pid, wait)
        reap(record.pid)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    """Signal the group `pid` leads, or only `pid` when it lives in its parent's group."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, signum)


class ProcessTable:
    """The JSON record of a network's processes, rewritten atomically on every change.

    Each change reads the file again first: a supervised process may record its own helpers
    in the same table (the embedded ledger records its chaincode).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, ProcessRecord] = self._load()

    def add(self, record: ProcessRecord) -> None:
        self.records = self._load()
        self.records[record.name] = record
        self._save()

    def remove(self, names: Iterable[str]) -> None:
        self.records = self._load()
        for name in names:
            self.records.pop(name, None)
        self._save()

    def _load(self) -> dict[str, ProcessRecord]:
        if not self.path.exists():
            return {}
        records = (ProcessRecord(**entry) for entry in json.loads(self.path.read_text()))
        return {record.name: record for record in records}

    def running(self) -> dict[str, ProcessRecord]:
        return {name: r for name, r in self.records.items() if is_running(r)}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps([asdict(r) for r in self.records.values()], indent=2))
        scratch.replace(self.path)
