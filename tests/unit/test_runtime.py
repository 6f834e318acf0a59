"""The runtime layer's process and port mechanics, as every backend and the validators use them."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from fedledger.runtime import processes
from fedledger.runtime.chaincode_server import NODE_SERVER, chaincode_server_command
from fedledger.runtime.errors import PortsUnavailableError
from fedledger.runtime.ports import SHARE_VARIABLE, free_port_base, refuse_ports_in_use
from fedledger.runtime.processes import ProcessRecord, ProcessSpec, ProcessTable


def sleeper(tmp_path: Path, name: str = "sleeper") -> ProcessSpec:
    command = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    return ProcessSpec(name, command, tmp_path / f"{name}.log", tmp_path)


def test_a_port_something_listens_on_is_refused_with_its_purpose() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(RuntimeError) as raised:
            refuse_ports_in_use([(port, "peer0.org1.example.com, listen")], RuntimeError)
    assert str(raised.value) == (
        f"port {port} (peer0.org1.example.com, listen) is in use by another program: "
        "stop it, or choose another port base with --port-base"
    )
    refuse_ports_in_use([(port, "now free")], RuntimeError)


def test_a_record_with_a_start_time_is_running_until_killed(tmp_path: Path) -> None:
    process = processes.spawn(sleeper(tmp_path), banner=False)
    start = processes.start_time(process.pid)
    record = ProcessRecord("sleeper", process.pid, ["anything"], 0.0, start=start)
    assert processes.is_running(record)
    assert not processes.is_running(ProcessRecord("sleeper", process.pid, ["x"], 0.0, start="1"))
    processes.kill(record)
    assert not processes.is_running(record)
    assert processes.start_time(process.pid) is None


def test_stop_ends_a_started_process_and_its_log_tail_is_kept(tmp_path: Path) -> None:
    record = processes.start(sleeper(tmp_path))
    assert processes.is_running(record)
    assert processes.stop(record, grace=5.0)
    assert not processes.stop(record)
    tail = processes.log_tail(tmp_path / "sleeper.log", lines=2)
    assert "starting sleeper" in tail
    assert processes.log_tail(tmp_path / "missing.log", missing="(no log)") == "(no log)"


def test_a_helper_in_its_parents_group_is_stopped_alone(tmp_path: Path) -> None:
    parent = processes.start(sleeper(tmp_path))
    helper_spec = ProcessSpec(
        "helper", sleeper(tmp_path).command, tmp_path / "helper.log", tmp_path, own_session=False
    )
    helper = processes.start(helper_spec)
    try:
        assert os.getpgid(helper.pid) == os.getpgid(os.getpid()) != helper.pid
        assert processes.stop(helper, grace=5.0)
        assert not processes.is_running(helper)
        assert processes.is_running(parent), "stopping a helper signalled its parent's group"
    finally:
        processes.kill(helper)
        processes.kill(parent)


def test_exit_status_waits_for_a_child_without_blocking_the_loop(tmp_path: Path) -> None:
    spec = ProcessSpec(
        "quick",
        [sys.executable, "-c", "import time; time.sleep(0.3); raise SystemExit(3)"],
        tmp_path / "q.log",
        tmp_path,
    )

    async def wait_and_count() -> tuple[int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        status = await processes.exit_status(processes.spawn(spec))
        ticker.cancel()
        return status, ticks

    status, ticks = asyncio.run(wait_and_count())
    assert status == 3
    assert ticks > 5, "the event loop was blocked while waiting"


def test_a_process_table_keeps_what_another_writer_added(tmp_path: Path) -> None:
    path = tmp_path / "processes.json"
    launcher, server = ProcessTable(path), ProcessTable(path)
    launcher.add(ProcessRecord("server", 1, ["python"], 0.0, start="7"))
    server.add(ProcessRecord("chaincode", 2, ["node"], 0.0, start="8"))
    assert set(ProcessTable(path).records) == {"server", "chaincode"}
    launcher.remove(["server"])
    assert set(ProcessTable(path).records) == {"chaincode"}


def test_the_chaincode_server_command_line() -> None:
    source = Path("/chaincode")
    assert chaincode_server_command("node", source, "127.0.0.1:7", "cc:1") == [
        "node",
        str(source / NODE_SERVER),
        "server",
        "--chaincode-address",
        "127.0.0.1:7",
        "--chaincode-id",
        "cc:1",
    ]


@pytest.mark.parametrize(("share", "low", "high"), [("0/2", 20000, 22000), ("1/2", 22000, 24000)])
def test_a_port_share_keeps_each_process_in_its_own_slice(
    monkeypatch: pytest.MonkeyPatch, share: str, low: int, high: int
) -> None:
    monkeypatch.setattr("fedledger.runtime.ports.ephemeral_range", lambda: (24000, 60999))
    monkeypatch.setenv(SHARE_VARIABLE, share)
    bases = {free_port_base(span=200) for _ in range(40)}
    assert all(low <= base <= high - 200 for base in bases), sorted(bases)


@pytest.mark.parametrize("share", ["", "x", "2/2", "1/2/3"])
def test_no_valid_port_share_uses_the_whole_range(
    monkeypatch: pytest.MonkeyPatch, share: str
) -> None:
    monkeypatch.setattr("fedledger.runtime.ports.ephemeral_range", lambda: (20400, 60999))
    monkeypatch.setenv(SHARE_VARIABLE, share)
    # "2/2" read as a share would leave no room below 20400 and raise
    assert {free_port_base(span=200) for _ in range(60)} <= {20000, 20200}


def test_a_share_too_small_for_the_span_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fedledger.runtime.ports.ephemeral_range", lambda: (20400, 60999))
    monkeypatch.setenv(SHARE_VARIABLE, "1/3")
    with pytest.raises(
        PortsUnavailableError, match="no room for 200 ports between 20133 and 20266"
    ):
        free_port_base(span=200)
