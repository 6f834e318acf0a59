"""The audit export: a task's events with where the ledger holds them, as JSON or CSV.

Both formats are deterministic: the same ledger gives the same bytes (no export time; events in
ledger order; JSON keys sorted). Every event carries `recordSha256`, the SHA-256 of the record
as written (canonical JSON), so that `fedledger audit verify` can compare a CSV row, which does
not carry the record itself, with what the transaction wrote. docs/governance.md describes both.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.audit.errors import ExportFileError
from fedledger.audit.trail import Event, iso

FORMAT = "fedledger-audit"
VERSION = 1
COLUMNS = (
    "block",
    "position",
    "transactionId",
    "timestamp",
    "event",
    "recordType",
    "recordId",
    "actor",
    "status",
    "summary",
    "recordSha256",
)


@dataclass(frozen=True)
class Row:
    """One event where the ledger holds it: block number and position in the block."""

    event: Event
    block: int
    position: int

    @property
    def order(self) -> tuple[int, int, int, str]:
        return (self.block, self.position, *self.event.order[2:])

    def columns(self) -> dict[str, Any]:
        event = self.event
        return {
            "block": self.block,
            "position": self.position,
            "transactionId": event.transaction_id,
            "timestamp": iso(event.timestamp),
            "event": event.event,
            "recordType": event.kind,
            "recordId": event.record_id,
            "actor": event.actor,
            "status": event.status,
            "summary": event.summary,
            "recordSha256": record_sha256(event.value),
        }


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_sha256(value: Any) -> str:
    """SHA-256 of the record's canonical JSON; "" for a deleted record."""
    if value is None:
        return ""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def to_json(task_id: str, channel: str, chaincode: str, rows: list[Row]) -> str:
    document = {
        "format": FORMAT,
        "version": VERSION,
        "taskId": task_id,
        "channel": channel,
        "chaincode": chaincode,
        "throughBlock": max((row.block for row in rows), default=0),
        "events": [{**row.columns(), "record": row.event.value} for row in rows],
    }
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def to_csv(rows: list[Row]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.columns())
    return text.getvalue()


@dataclass(frozen=True)
class ExportedEvent:
    """What verification needs of one exported event; `line` names it in messages."""

    line: str
    block: int
    position: int
    transaction_id: str
    timestamp: str
    record_type: str
    record_id: str
    record_sha256: str

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.transaction_id, self.record_type, self.record_id)


@dataclass(frozen=True)
class Export:
    """An export read back; `where` is the (channel, chaincode) a JSON export names (CSV: None)."""

    task_id: str
    events: tuple[ExportedEvent, ...]
    where: tuple[str, str] | None = None

    @property
    def through_block(self) -> int:
        return max((event.block for event in self.events), default=0)


def read_export(path: Path) -> Export:
    """An export file, JSON or CSV (by its first character).

    Raises ExportFileError naming the file and the row or field that is wrong.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ExportFileError(f"cannot read {path}: {error}") from error
    if text.lstrip().startswith("{"):
        return _read_json(path, text)
    return _read_csv(path, text)


def _read_json(path: Path, text: str) -> Export:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ExportFileError(f"{path} is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExportFileError(f'{path}: "format" must be "{FORMAT}"; is this an audit export?')
    if document.get("version") != VERSION:
        raise ExportFileError(
            f'{path}: "version" is {document.get("version")!r}; this fedledger reads version '
            f"{VERSION} exports"
        )
    events = document.get("events")
    if not isinstance(events, list):
        raise ExportFileError(f'{path}: "events" must be a list')
    task_id = document.get("taskId")
    if not isinstance(task_id, str):
        raise ExportFileError(f'{path}: "taskId" must be a string')
    read = [_event(f"{path}: events[{index}]", item) for index, item in enumerate(events)]
    where = (str(document.get("channel")), str(document.get("chaincode")))
    return Export(task_id, tuple(read), where)


def _read_csv(path: Path, text: str) -> Export:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or tuple(reader.fieldnames) != COLUMNS:
        raise ExportFileError(
            f"{path}: the header must be {','.join(COLUMNS)}; is this an audit export?"
        )
    read = [_event(f"{path}: line {index + 2}", row) for index, row in enumerate(reader)]
    task_ids = {e.record_id for e in read if e.record_type == "task"}
    if len(task_ids) != 1:
        raise ExportFileError(f"{path}: expected the events of one task, found {sorted(task_ids)}")
    return Export(task_ids.pop(), tuple(read))


def _event(line: str, item: Any) -> ExportedEvent:
    if not isinstance(item, dict):
        raise ExportFileError(f"{line} must be an object with the fields {', '.join(COLUMNS)}")
    return ExportedEvent(
        line,
        block=_number(line, item, "block"),
        position=_number(line, item, "position"),
        transaction_id=_text(line, item, "transactionId"),
        timestamp=_text(line, item, "timestamp"),
        record_type=_text(line, item, "recordType"),
        record_id=_text(line, item, "recordId"),
        record_sha256=_text(line, item, "recordSha256"),
    )


def _number(line: str, item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ExportFileError(f"{line}: {name} must be a whole number, got {value!r}")


def _text(line: str, item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise ExportFileError(f"{line}: {name} must be text, got {value!r}")
    return value
