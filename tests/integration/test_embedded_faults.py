"""Faults: the embedded ledger killed mid-stream, the chaincode killed under load.

A ledger SIGKILLed while clients submit restarts with a verified hash chain and state; every
transaction a client saw committed is there, none twice. A chaincode SIGKILLed under load makes
the transactions in flight fail at once with a clear error, and is restarted.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2
from google.rpc import status_pb2

from fedledger.embedded import EmbeddedLedger, verify_ledger
from fedledger.embedded.probe import GatewayProbe
from fedledger.profile import ConnectionProfile
from fedledger.runtime import processes
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
WORKERS = 4


def definition() -> NetworkDefinition:

    return NetworkDefinition.load().with_overrides(port_base=free_port_base(), batch_timeout=0.05)


class Submitter(threading.Thread):
    """Submits health:Beat on its own name until stopped or the ledger goes away."""

    def __init__(self, profile: ConnectionProfile, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.profile = profile
        self.stop = stop
        self.name = f"fault{uuid.uuid4().hex[:10]}"
        self.committed: list[str] = []
        self.errors: list[grpc.RpcError] = []

    def run(self) -> None:
        with GatewayProbe.from_profile(self.profile, "Org1MSP") as probe:
            while not self.stop.is_set():
                try:
                    result = probe.submit("health:Beat", self.name)
                except grpc.RpcError as error:
                    self.errors.append(error)
                    if error.code() == grpc.StatusCode.UNAVAILABLE:
                        return
                    continue
                if result.code == transaction_pb2.VALID:
                    self.committed.append(result.txid)


def detail_messages(error: grpc.RpcError) -> list[str]:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            messages = []
            for packed in status_pb2.Status.FromString(value).details:
                detail = gateway_pb2.ErrorDetail()
                packed.Unpack(detail)
                messages.append(detail.message)
            return messages
    return []


def server_pid(ledger: EmbeddedLedger) -> int:
    return ledger.recorded()["embedded-ledger"].pid


def chaincode_pid(ledger: EmbeddedLedger) -> int:
    """The chaincode the server started, found as the server's child (not from its record)."""
    pid = server_pid(ledger)
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        if b"fabric-chaincode-node" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise AssertionError(f"no chaincode process among {children}")


def valid_occurrences(run_dir: Path) -> Counter[str]:
    database = run_dir / "embedded" / "ledger.sqlite"
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    counts: Counter[str] = Counter()
    try:
        for (raw,) in connection.execute("SELECT block FROM blocks WHERE number > 0"):
            block = common_pb2.Block.FromString(raw)
            codes = block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER]
            for position, envelope in enumerate(block.data.data):
                if codes[position] == transaction_pb2.VALID:
                    payload = common_pb2.Payload.FromString(
                        common_pb2.Envelope.FromString(envelope).payload
                    )
                    header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
                    counts[header.tx_id] += 1
    finally:
        connection.close()
    return counts


def test_a_ledger_killed_during_submits_keeps_every_commit_once(tmp_path: Path) -> None:
    ledger = EmbeddedLedger(definition(), tmp_path / "run")
    profile = ledger.up()
    stop = threading.Event()
    workers = [Submitter(profile, stop) for _ in range(WORKERS)]
    try:
        for worker in workers:
            worker.start()
        # The kill must land mid-stream with 40 commits behind it; on a loaded machine (xdist
        # workers, CI) reaching them can take far longer than the ~3 s it takes alone.
        deadline = time.monotonic() + 180
        while sum(len(w.committed) for w in workers) < 40:
            assert time.monotonic() < deadline, "40 submits did not commit within 180 s"
            time.sleep(0.05)
        orphan = ledger.recorded()["chaincode"]
        os.kill(server_pid(ledger), signal.SIGKILL)  # the server alone: its chaincode lives on
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
            assert not worker.is_alive(), "a client hung on a killed ledger"
        assert not ledger.running()
        assert processes.is_running(orphan)

        profile = ledger.up()
        assert not processes.is_running(orphan), "up left the dead ledger's chaincode running"
        assert ledger.recorded()["chaincode"].pid == chaincode_pid(ledger)
        report = verify_ledger(ledger.run_dir)
        assert report.ok, report.summary()
        occurrences = valid_occurrences(ledger.run_dir)
        seen = [txid for worker in workers for txid in worker.committed]
        assert len(seen) >= 40
        assert all(occurrences[txid] == 1 for txid in seen)
        assert max(occurrences.values()) == 1
        with GatewayProbe.from_profile(profile, "Org1MSP") as probe:
            for worker in workers:
                count = int(probe.submit("health:Beat", worker.name).result)
                assert count >= len(worker.committed) + 1
    finally:
        stop.set()
        ledger.down()
    assert ledger.recorded() == {}
    _verify_finds_tampering(ledger.run_dir)


def _verify_finds_tampering(run_dir: Path) -> None:
    database = run_dir / "embedded" / "ledger.sqlite"
    connection = sqlite3.connect(database)
    try:
        key = connection.execute("SELECT key FROM state ORDER BY key LIMIT 1").fetchone()[0]
        connection.execute("UPDATE state SET value = ? WHERE key = ?", (b"forged", key))
        connection.commit()
        report = verify_ledger(run_dir)
        assert not report.ok
        assert "holds a value no valid transaction wrote last" in (report.first_mismatch or "")

        connection.execute("UPDATE blocks SET block = ? WHERE number = 3", (b"",))
        connection.commit()
        report = verify_ledger(run_dir)
        assert report.first_mismatch is not None
        assert report.first_mismatch.startswith("block 3:")
    finally:
        connection.close()


def test_a_killed_chaincode_fails_in_flight_transactions_and_is_restarted(
    tmp_path: Path,
) -> None:
    ledger = EmbeddedLedger(definition(), tmp_path / "run")
    profile = ledger.up()
    stop = threading.Event()
    workers = [Submitter(profile, stop) for _ in range(WORKERS)]
    try:
        first = chaincode_pid(ledger)
        for worker in workers:
            worker.start()
        while sum(len(w.committed) for w in workers) < 20:
            time.sleep(0.05)
        os.kill(first, signal.SIGKILL)
        time.sleep(0.5)
        stop.set()
        for worker in workers:
            worker.join(timeout=40)
            assert not worker.is_alive(), "a client hung on a killed chaincode"
        errors = [error for worker in workers for error in worker.errors]
        for error in errors:
            assert error.code() == grpc.StatusCode.ABORTED, error
            assert "see attached details" in error.details()
            assert any(
                "chaincode stream terminated" in m or "is not running" in m
                for m in detail_messages(error)
            ), detail_messages(error)
        deadline = time.monotonic() + 15
        while True:
            try:
                with GatewayProbe.from_profile(profile, "Org1MSP") as probe:
                    assert probe.submit("health:Beat", "afterrestart").code == 0
                break
            except grpc.RpcError:
                assert time.monotonic() < deadline, "the chaincode was not restarted"
                time.sleep(0.2)
        assert chaincode_pid(ledger) != first
        assert ledger.recorded()["chaincode"].pid == chaincode_pid(ledger)
        log = (ledger.run_dir / "embedded" / "server.log").read_text()
        assert "chaincode exited; restarting" in log
        assert verify_ledger(ledger.run_dir).ok
    finally:
        stop.set()
        ledger.down()
