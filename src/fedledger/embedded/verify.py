"""`verify_ledger`: re-compute the hash chain and the world state from the stored blocks.

Checks, block by block: the number sequence, the data hash against the block's envelopes, the
previous hash against the previous block's header hash, and the stored header hash. Then it
replays the write sets of the transactions each block marks VALID and compares the result with
the stored world state, key by key, value and version. The first mismatch is reported.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import transaction_pb2

from fedledger.embedded.blocks import data_hash, header_hash
from fedledger.embedded.config import RunPaths
from fedledger.embedded.messages import chaincode_action

State = dict[tuple[str, str], tuple[bytes, tuple[int, int]]]


@dataclass
class VerifyReport:
    database: Path
    blocks: int = 0
    transactions: int = 0
    valid_transactions: int = 0
    keys: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_mismatch(self) -> str | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        head = (
            f"{self.database}: {self.blocks} blocks, {self.transactions} transactions "
            f"({self.valid_transactions} valid), {self.keys} keys in world state"
        )
        if self.ok:
            return f"{head}: hash chain and world state verified"
        return f"{head}: FAILED: {self.problems[0]}"


def verify_ledger(run_dir: Path) -> VerifyReport:
    """Recompute the hash chain and the world state; every mismatch (and a missing database)
    is a problem in the report, not an exception."""
    database = RunPaths(run_dir).database
    report = VerifyReport(database)
    if not database.exists():
        report.problems.append(f"no embedded ledger database at {database}")
        return report
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        state = _check_chain(connection, report)
        if report.ok:
            _compare_state(connection, state, report)
    finally:
        connection.close()
    return report


def _check_chain(connection: sqlite3.Connection, report: VerifyReport) -> State:
    state: State = {}
    previous: bytes | None = None
    rows = connection.execute(
        "SELECT number, header_hash, previous_hash, data_hash, block FROM blocks ORDER BY number"
    )
    for number, stored_hash, stored_previous, stored_data_hash, raw in rows:
        block = common_pb2.Block.FromString(raw)
        header = block.header
        where = f"block {number}"
        expected_data_hash = data_hash(list(block.data.data))
        if number != report.blocks:
            report.problems.append(f"{where}: expected block number {report.blocks}")
        elif header.number != number:
            report.problems.append(f"{where}: its header says number {header.number}")
        elif header.data_hash != expected_data_hash:
            report.problems.append(f"{where}: data hash does not match its transactions")
        elif bytes(stored_data_hash) != header.data_hash:
            report.problems.append(f"{where}: stored data hash differs from the block header")
        elif previous is not None and header.previous_hash != previous:
            report.problems.append(
                f"{where}: previous hash {header.previous_hash.hex()[:16]}… does not match "
                f"block {number - 1}'s header hash {previous.hex()[:16]}…"
            )
        elif bytes(stored_previous) != header.previous_hash:
            report.problems.append(f"{where}: stored previous hash differs from the block header")
        elif bytes(stored_hash) != header_hash(header):
            report.problems.append(f"{where}: stored header hash does not match the header")
        if report.problems:
            return state
        previous = header_hash(header)
        report.blocks += 1
        _replay(block, state, report)
    return state


def _replay(block: common_pb2.Block, state: State, report: VerifyReport) -> None:
    number = block.header.number
    codes = block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER]
    for position, envelope_bytes in enumerate(block.data.data):
        if _is_config(envelope_bytes):
            continue  # a configuration block: no world state
        report.transactions += 1
        if position >= len(codes):
            report.problems.append(f"block {number}: no validation code for transaction {position}")
            return
        if codes[position] != transaction_pb2.VALID:
            continue
        report.valid_transactions += 1
        action = chaincode_action(common_pb2.Envelope.FromString(envelope_bytes))
        txrw = rwset_pb2.TxReadWriteSet.FromString(action.results)
        for ns in txrw.ns_rwset:
            kv = kv_rwset_pb2.KVRWSet.FromString(ns.rwset)
            for write in kv.writes:
                if write.is_delete:
                    state.pop((ns.namespace, write.key), None)
                else:
                    state[(ns.namespace, write.key)] = (write.value, (number, position))


def _is_config(envelope_bytes: bytes) -> bool:
    payload = common_pb2.Payload.FromString(common_pb2.Envelope.FromString(envelope_bytes).payload)
    header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    return bool(header.type == common_pb2.CONFIG)


def _compare_state(connection: sqlite3.Connection, state: State, report: VerifyReport) -> None:
    stored: State = {
        (namespace, bytes(key).decode()): (bytes(value), (block, tx))
        for namespace, key, value, block, tx in connection.execute(
            "SELECT namespace, key, value, block, tx FROM state"
        )
    }
    report.keys = len(stored)
    for entry in sorted(set(state) | set(stored)):
        namespace, key = entry
        name = f"key {key!r} of {namespace}"
        if entry not in stored:
            report.problems.append(f"{name} is missing from the world state")
        elif entry not in state:
            report.problems.append(
                f"{name} is in the world state but no valid transaction wrote it"
            )
        elif stored[entry][0] != state[entry][0]:
            report.problems.append(f"{name} holds a value no valid transaction wrote last")
        elif stored[entry][1] != state[entry][1]:
            report.problems.append(
                f"{name} is at version {stored[entry][1]}, the blocks say {state[entry][1]}"
            )
        if report.problems:
            return
