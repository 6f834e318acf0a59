"""Exporting a task's history with block numbers, and verifying an export against the ledger.

Both read through one organisation's gateway peer: the registry for the records, the peer's
query system chaincode (qscc) for where each transaction is and what it wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc

from fedledger.audit.export import Export, ExportedEvent, Row, canonical, record_sha256
from fedledger.audit.trail import iso, task_events
from fedledger.fabric import EvaluateError, connect
from fedledger.fabric.qscc import CommittedTransaction, LedgerQueries
from fedledger.profile import ConnectionProfile
from fedledger.registry import Registry

# Peer answers that mean "ask again later", not "the ledger has no such transaction".
_UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def state_key(record_type: str, record_id: str) -> str:
    """The world-state key of a record, as the chaincode's createCompositeKey makes it: its
    object type (chaincode/src/records.ts KEYS, the record type itself) and attributes."""
    attributes = record_id.split("/") if record_type == "vote" else [record_id]
    return "\x00" + "\x00".join([record_type, *attributes]) + "\x00"


@dataclass
class AuditLedger:
    """The ledger as an auditor reads it: `registry` for records, `queries` for transactions."""

    registry: Registry
    queries: LedgerQueries
    channel: str
    chaincode: str
    _locations: dict[str, tuple[int, int]] = field(default_factory=dict)

    def rows(self, task_id: str) -> list[Row]:
        """Every event of the task with its block and position, in ledger order.

        Raises what `task_events` raises, and EvaluateError when the peer cannot find a
        transaction its own history names (a peer still catching up).
        """
        rows = [
            Row(event, *self.location(event.transaction_id))
            for event in task_events(self.registry, task_id)
        ]
        return sorted(rows, key=lambda row: row.order)

    def location(self, transaction_id: str) -> tuple[int, int]:
        """The block and position of the transaction, asked of the peer once per connection.
        Raises what `LedgerQueries.location` raises."""
        if transaction_id not in self._locations:
            self._locations[transaction_id] = self.queries.location(transaction_id)
        return self._locations[transaction_id]

    def locate(self, transaction_id: str, block: int, position: int) -> None:
        """Remember where a transaction is, read from its block (the first one wins: Fabric
        refuses a later transaction with the same id). Raises nothing."""
        self._locations.setdefault(transaction_id, (block, position))


@contextmanager
def open_audit_ledger(profile: ConnectionProfile, msp_id: str) -> Iterator[AuditLedger]:
    """The ledger as organisation `msp_id` reads it; the connection closes on exit.

    Raises ProfileError or MspFolderError when the organisation's material cannot be read.
    """
    with connect(profile, msp_id, "user") as gateway:
        network = gateway.network(profile.channel)
        registry = Registry(network.contract(profile.chaincode))
        yield AuditLedger(registry, LedgerQueries(network), profile.channel, profile.chaincode)


@dataclass(frozen=True)
class Verification:
    """What `verify` found: the events checked, every problem, and events newer than the export."""

    checked: int
    problems: tuple[str, ...]
    newer: int

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(export: Export, ledger: AuditLedger) -> Verification:
    """Re-read each exported event's transaction from the ledger and compare; then check that
    no event of the task up to the export's last block is missing from it.

    Raises the fabric package's errors when the peer cannot be reached (a transaction the peer
    does not know is a problem of the export, not an error).
    """
    problems: list[str] = []
    here = (ledger.channel, ledger.chaincode)
    if export.where is not None and export.where != here:
        problems.append(
            f"the export is of channel {export.where[0]}, chaincode {export.where[1]}; this "
            f"connection reads channel {here[0]}, chaincode {here[1]}"
        )
    committed: dict[str, CommittedTransaction | str] = {}
    for event in export.events:
        found = committed.get(event.transaction_id)
        if found is None:
            found = _committed(ledger, event.transaction_id)
            committed[event.transaction_id] = found
        if isinstance(found, str):
            problems.append(f"{event.line}: transaction {event.transaction_id} {found}")
        else:
            problems.extend(f"{event.line}: {p}" for p in _compare(event, found))
    missing, newer = _completeness(export, ledger)
    return Verification(len(export.events), tuple(problems + missing), newer)


def _committed(ledger: AuditLedger, transaction_id: str) -> CommittedTransaction | str:
    try:
        return ledger.queries.committed(transaction_id, ledger.chaincode)
    except EvaluateError as error:
        if error.code in _UNREACHABLE:
            raise
        return f"is not on the ledger ({error.chaincode_message or error.message})"


def _compare(event: ExportedEvent, tx: CommittedTransaction) -> Iterator[str]:
    if not tx.valid:
        yield f"transaction {tx.transaction_id} is {tx.validation_code}, not VALID"
    if (tx.block_number, tx.position) != (event.block, event.position):
        yield (
            f"transaction {tx.transaction_id} is in block {tx.block_number} at position "
            f"{tx.position}, the export says block {event.block} position {event.position}"
        )
    if iso(tx.timestamp) != event.timestamp:
        yield (
            f"transaction {tx.transaction_id} is of {iso(tx.timestamp)}, "
            f"the export says {event.timestamp}"
        )
    key = state_key(event.record_type, event.record_id)
    if key not in tx.writes:
        yield f"transaction {tx.transaction_id} did not write {event.record_type} {event.record_id}"
        return
    written = tx.writes[key]
    value = None if written is None else json.loads(written)
    if record_sha256(value) != event.record_sha256:
        shown = "a deletion" if value is None else canonical(value)[:120]
        yield (
            f"{event.record_type} {event.record_id} as transaction {tx.transaction_id} wrote it "
            f"does not match recordSha256 (the ledger has {shown})"
        )


def _completeness(export: Export, ledger: AuditLedger) -> tuple[list[str], int]:
    exported = {event.identity for event in export.events}
    missing: list[str] = []
    newer = 0
    for row in ledger.rows(export.task_id):
        event = row.event
        if (event.transaction_id, event.kind, event.record_id) in exported:
            continue
        if row.block > export.through_block:
            newer += 1
            continue
        missing.append(
            f"the export lacks {event.event} of {event.kind} {event.record_id} "
            f"(transaction {event.transaction_id}, block {row.block})"
        )
    return missing, newer
