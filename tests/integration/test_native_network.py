"""The native Fabric network itself: nodes, channel, chaincode lifecycle, crashes, stop.

These need a Fabric installation (marker `fabric`); without one they skip and say how to get one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from fedledger.installation import find_installation
from fedledger.network.native import AlreadyRunningError, NativeNetwork, NetworkError
from fedledger.profile import ConnectionProfile
from fedledger.runtime import health, processes
from fedledger.runtime.definition import NetworkDefinition

from .conftest import Ledger, free_port_base, skip_without_fabric

pytestmark = [pytest.mark.fabric, pytest.mark.slow]
CHANNEL_ARGS = ("-C", "fedledger", "-n", "fedledger")


def invoke(ledger: Ledger, msp_id: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    """`peer chaincode invoke` endorsed by every organisation, waiting for the commit event."""
    network = ledger.network
    peers: list[str] = []
    for i in range(len(ledger.definition.members)):
        peers += [
            "--peerAddresses",
            f"127.0.0.1:{ledger.definition.peer_ports(i).listen}",
            "--tlsRootCertFiles",
            str(network.commands.org_layout(i).peer(0).tls_ca),
        ]
    return ledger.peer_cli(
        msp_id,
        "chaincode", "invoke", *CHANNEL_ARGS,
        "-c", json.dumps({"Args": args}),
        "--waitForEvent",
        *network.commands.orderer_args(),
        *peers,
        log_level="INFO",
    )  # fmt: skip


def query(ledger: Ledger, msp_id: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    return ledger.peer_cli(
        msp_id, "chaincode", "query", *CHANNEL_ARGS, "-c", json.dumps({"Args": args})
    )


def heights(ledger: Ledger) -> dict[str, int | None]:
    return {row.name: row.height for row in ledger.network.status() if row.kind == "peer"}


def test_every_node_healthy_and_chaincode_committed(fabric_ledger: Ledger) -> None:
    rows = fabric_ledger.network.status()
    kinds = sorted(row.kind for row in rows)
    assert kinds == ["chaincode"] * 3 + ["orderer"] + ["peer"] * 3
    assert all(row.running and row.healthy for row in rows), rows
    committed = fabric_ledger.peer_cli(
        "Org2MSP", "lifecycle", "chaincode", "querycommitted",
        "--channelID", "fedledger", "--name", "fedledger", "--output", "json",
    )  # fmt: skip
    assert committed.returncode == 0, committed.stderr
    definition = json.loads(committed.stdout)
    assert definition["sequence"] >= 1
    assert definition["approvals"] == {"Org1MSP": True, "Org2MSP": True, "Org3MSP": True}


def test_profile_written_and_loadable(fabric_ledger: Ledger) -> None:
    profile = ConnectionProfile.load(fabric_ledger.network.layout.profile)
    assert profile.ledger == "fabric"
    assert profile.msp_ids == ["Org1MSP", "Org2MSP", "Org3MSP"]
    org2 = profile.org("Org2MSP")
    assert org2.gateway.endpoint == f"127.0.0.1:{fabric_ledger.definition.peer_ports(1).listen}"
    assert org2.gateway.tls_ca_cert.is_file()
    assert (org2.identity("user") / "signcerts").is_dir()


def test_invoke_commits_valid_and_every_peer_reads_it(fabric_ledger: Ledger) -> None:
    name = f"cli-{time.monotonic_ns()}"
    result = invoke(fabric_ledger, "Org1MSP", ["health:Beat", name])
    assert result.returncode == 0, result.stderr
    assert "committed with status (VALID)" in result.stderr
    # A Beat's simulation reads the committed count, so every peer answers 2 after one commit.
    for msp_id in ("Org1MSP", "Org2MSP", "Org3MSP"):
        answer = query(fabric_ledger, msp_id, ["health:Beat", name])
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout) == 2


def test_killed_peer_restarts_catches_up_and_serves(fabric_ledger: Ledger) -> None:
    fabric_ledger.restart_peer("Org3MSP", kill=True)
    name = f"after-restart-{time.monotonic_ns()}"
    assert invoke(fabric_ledger, "Org1MSP", ["health:Beat", name]).returncode == 0
    expected = max(h or 0 for h in heights(fabric_ledger).values())
    peer3 = fabric_ledger.network.commands.peer_name(2)
    health.wait_for(
        lambda: heights(fabric_ledger)[peer3] == expected, f"{peer3} to catch up", timeout=30
    )

    def answers() -> bool:
        result = query(fabric_ledger, "Org3MSP", ["health:Beat", name])
        return result.returncode == 0 and json.loads(result.stdout) == 2

    health.wait_for(answers, "the restarted peer to answer", timeout=30)


def test_up_twice_says_already_running(fabric_ledger: Ledger) -> None:
    with pytest.raises(AlreadyRunningError, match="is already running"):
        fabric_ledger.network.up()


def test_chaincode_error_reaches_the_peer_cli(fabric_ledger: Ledger) -> None:
    result = query(fabric_ledger, "Org1MSP", ["GetTask", "no-such-task"])
    assert result.returncode != 0
    assert "no-such-task" in result.stderr


def test_port_in_use_is_named(tmp_path: Path) -> None:
    skip_without_fabric()
    definition = NetworkDefinition.load().with_overrides(port_base=free_port_base(), orgs=1)
    busy = definition.peer_ports(0).listen
    with socket.socket() as blocker:
        # As free_port_base probes: a port left in TIME_WAIT by an earlier network is free.
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", busy))
        blocker.listen()
        network = NativeNetwork(definition, tmp_path / "net", find_installation())
        try:
            with pytest.raises(
                NetworkError, match=rf"port {busy} \(peer0.org1.fedledger.local, listen\) is in use"
            ):
                network.up(timeout=30)
        finally:
            network.down()


def test_down_leaves_no_process_and_up_resumes_the_ledger(tmp_path: Path) -> None:
    skip_without_fabric()
    definition = NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), orgs=1, batch_timeout=0.1
    )
    network = NativeNetwork(definition, tmp_path / "net", find_installation())
    try:
        network.up(timeout=60)
        records = list(network.table.records.values())
        assert len(records) == 3  # orderer, peer, chaincode server
        stopped = network.down()
        assert sorted(stopped) == sorted(r.name for r in records)
        assert not any(processes.is_running(r) for r in records)
        assert network.table.records == {}
        network.up(timeout=60)
        height = next(r.height for r in network.status() if r.kind == "peer")
        assert height is not None
        assert height >= 2  # the old blocks are still there
    finally:
        network.down(purge=True)
    assert not (tmp_path / "net").exists()


def test_cli_up_status_down(tmp_path: Path) -> None:
    """The commands a user types: up prints the ledger it chose, status exits 0, down stops."""
    skip_without_fabric()
    run_dir = tmp_path / "cli-net"
    base = ["uv", "run", "--frozen", "fedledger", "network"]
    where = ["--run-dir", str(run_dir)]

    def fedledger(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args, *where], capture_output=True, text=True, timeout=180)

    up = fedledger("up", "--ledger", "fabric", "--orgs", "1", "--port-base", str(free_port_base()))
    try:
        assert up.returncode == 0, up.stderr
        assert "ledger: fabric (Fabric 2.5.16 found at" in up.stderr
        assert "connection profile:" in up.stderr
        status = fedledger("status")
        assert status.returncode == 0, status.stderr
        assert "peer0.org1.fedledger.local" in status.stdout
        assert "healthy" in status.stdout
        again = fedledger("up")
        assert again.returncode == 0, again.stderr
        assert "the network was already running; nothing of it changed" in again.stderr
    finally:
        down = fedledger("down", "--purge")
    assert down.returncode == 0, down.stderr
    assert "stopped 3 processes" in down.stderr
    assert not run_dir.exists()


@pytest.mark.parametrize("kind", ["ccaas", "node"])
def test_package_id_matches_fabrics_own_calculation(kind: str, tmp_path: Path) -> None:
    skip_without_fabric()
    printed = subprocess.run(
        ["uv", "run", "--frozen", "fedledger", "chaincode", "package", "--type", kind,
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.strip()  # fmt: skip
    (package,) = tmp_path.glob(f"*.{kind}.tar.gz")
    installation = find_installation()
    calculated = subprocess.run(
        [str(installation.binary("peer")), "lifecycle", "chaincode", "calculatepackageid",
         str(package)],
        capture_output=True, text=True, timeout=30, check=True,
        env={**os.environ, "FABRIC_CFG_PATH": str(installation.config_dir)},
    ).stdout.strip()  # fmt: skip
    assert printed == calculated


def test_a_changed_chaincode_is_deployed_at_the_next_sequence(tmp_path: Path) -> None:
    skip_without_fabric()
    real = NetworkDefinition.load().chaincode_source
    source = tmp_path / "chaincode"
    source.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(real / name, source / name)
    shutil.copytree(real / "dist", source / "dist")
    (source / "node_modules").symlink_to(real / "node_modules")
    definition = dataclasses.replace(
        NetworkDefinition.load().with_overrides(
            port_base=free_port_base(), orgs=1, batch_timeout=0.1
        ),
        chaincode_source=source,
    )
    network = NativeNetwork(definition, tmp_path / "net", find_installation())
    ledger = Ledger("fabric", network.up(timeout=60), network, definition)
    try:
        name = f"upgrade-{time.monotonic_ns()}"
        assert invoke(ledger, "Org1MSP", ["health:Beat", name]).returncode == 0
        unchanged = network.redeploy()
        assert (unchanged.changed, unchanged.sequence) == (False, 1)

        with (source / "dist" / "index.js").open("a") as main:
            main.write("\n// a changed build\n")
        upgraded = network.redeploy()
        assert upgraded.changed
        assert upgraded.sequence == 2
        assert upgraded.package_id != unchanged.package_id
        # The world state carries over the upgrade: the counter goes on from 1.
        assert invoke(ledger, "Org1MSP", ["health:Beat", name]).returncode == 0
        answer = query(ledger, "Org1MSP", ["health:Beat", name])
        assert json.loads(answer.stdout) == 3
        servers = [r for r in network.status() if r.kind == "chaincode"]
        assert [
            upgraded.package_id in " ".join(network.node_record(r.name).command) for r in servers
        ] == [True]
    finally:
        network.down(purge=True)
