"""Starting node processes detached, recording them, and stopping exactly those.

Nodes outlive the command that started them (`fedledger network up` returns; the network keeps
running), so each process starts in a session of its own and is recorded with its PID and
command line. A record is only trusted while the PID still runs the recorded program: PIDs are
reused, and `down` must never signal a stranger.
"""

from __future__ import annotations

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
    name: str
    command: list[str]
    log: Path
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    command: list[str]
    started_at: float


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The state follows the parenthesised command name, which may itself contain spaces.
    return stat.rsplit(")", 1)[1].split()[0]


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
    state = _proc_state(record.pid)
    if state is None or state in ("Z", "X"):
        return False
    try:
        argv = Path(f"/proc/{record.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(argv) and argv[0].decode(errors="replace") == record.command[0]


def start(spec: ProcessSpec) -> ProcessRecord:
    spec.log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **spec.env}
    with spec.log.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {spec.name}\n".encode())
        log.flush()
        process = subprocess.Popen(
            spec.command,
            cwd=spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ProcessRecord(spec.name, process.pid, spec.command, time.time())


def stop(record: ProcessRecord, grace: float = 10.0) -> bool:
    """SIGTERM the process's group, SIGKILL it after `grace` seconds; True if it was running."""
    if not is_running(record):
        return False
    _signal_group(record.pid, signal.SIGTERM)
    if not wait_exited(record.pid, grace):
        _signal_group(record.pid, signal.SIGKILL)
        wait_exited(record.pid, 5.0)
    return True


def kill(record: ProcessRecord, wait: float = 10.0) -> None:
    """SIGKILL, as a crash would, and wait until the process is gone (its ports and locks
    free): for fault tests and the impatient."""
    if is_running(record):
        _signal_group(record.pid, signal.SIGKILL)
        wait_exited(record.pid, wait)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, signum)


class ProcessTable:
    """The JSON record of a network's processes, rewritten atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, ProcessRecord] = {}
        if path.exists():
            for entry in json.loads(path.read_text()):
                record = ProcessRecord(**entry)
                self.records[record.name] = record

    def add(self, record: ProcessRecord) -> None:
        self.records[record.name] = record
        self._save()

    def remove(self, names: Iterable[str]) -> None:
        for name in names:
            self.records.pop(name, None)
        self._save()

    def running(self) -> dict[str, ProcessRecord]:
        return {name: r for name, r in self.records.items() if is_running(r)}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps([asdict(r) for r in self.records.values()], indent=2))
        scratch.replace(self.path)
