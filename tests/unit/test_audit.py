"""The audit export's format (JSON and CSV, deterministic) and reading it back, without a ledger;
and closing expired proposals when several members race (fedledger.registry.expiry)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fedledger.audit import COLUMNS, Event, ExportFileError, Row, read_export, to_csv, to_json
from fedledger.audit.export import record_sha256
from fedledger.audit.ledger import state_key
from fedledger.fabric import CommitError
from fedledger.registry import ChaincodeRefusalError
from fedledger.registry.expiry import close_one

TIME = datetime(2026, 11, 30, 12, 0, 1, 234567, tzinfo=UTC)
TX_A, TX_B = "a" * 64, "b" * 64
TASK = {"docType": "task", "id": "t1", "members": ["Org1MSP"], "ratio": 0.5, "name": "é"}
VOTE = {"docType": "vote", "voter": "Org1MSP", "decision": "approve"}


def rows() -> list[Row]:
    created = Event(
        "task.created", "task", "t1", TX_A, TIME, "Org1MSP", "", "members Org1MSP", TASK
    )
    vote = Event(
        "vote.cast",
        "vote",
        "p-1/Org1MSP",
        TX_B,
        TIME + timedelta(seconds=1),
        "Org1MSP",
        "approve",
        "approve, fine",
        VOTE,
    )
    removed = Event(
        "champion.removed",
        "champion",
        "t1",
        TX_B,
        TIME + timedelta(seconds=1),
        "",
        "",
        "champion t1 removed",
        None,
    )
    return [Row(created, 3, 0), Row(vote, 5, 1), Row(removed, 5, 1)]


def sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_json_export_has_a_version_and_every_field_of_each_event() -> None:
    document = json.loads(to_json("t1", "fedledger", "registry", rows()))
    assert [k for k in document if k != "events"] == [
        "chaincode",
        "channel",
        "format",
        "taskId",
        "throughBlock",
        "version",
    ]
    assert (document["format"], document["version"], document["throughBlock"]) == (
        "fedledger-audit",
        1,
        5,
    )
    assert document["events"][0] == {
        "actor": "Org1MSP",
        "block": 3,
        "event": "task.created",
        "position": 0,
        "record": TASK,
        "recordId": "t1",
        "recordSha256": sha(TASK),
        "recordType": "task",
        "status": "",
        "summary": "members Org1MSP",
        "timestamp": "2026-11-30T12:00:01.234Z",
        "transactionId": TX_A,
    }
    assert document["events"][2]["record"] is None
    assert document["events"][2]["recordSha256"] == ""


def test_exports_are_byte_for_byte_deterministic() -> None:
    assert to_json("t1", "c", "cc", rows()) == to_json("t1", "c", "cc", rows())
    assert to_csv(rows()) == to_csv(rows())
    assert to_json("t1", "c", "cc", []).count('"throughBlock": 0') == 1


def test_the_csv_export_is_one_row_per_event_under_a_fixed_header() -> None:
    text = to_csv(rows())
    lines = text.split("\n")
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1] == (
        f"3,0,{TX_A},2026-11-30T12:00:01.234Z,task.created,task,t1,Org1MSP,,members Org1MSP,"
        f"{sha(TASK)}"
    )
    assert lines[2] == (
        f"5,1,{TX_B},2026-11-30T12:00:02.234Z,vote.cast,vote,p-1/Org1MSP,Org1MSP,approve,"
        f'"approve, fine",{sha(VOTE)}'
    )
    assert lines[3].endswith(",champion t1 removed,")
    assert lines[4:] == [""]


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_an_export_reads_back_for_verification(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"audit.{suffix}"
    path.write_text(to_json("t1", "c", "cc", rows()) if suffix == "json" else to_csv(rows()))
    export = read_export(path)
    assert export.task_id == "t1"
    assert export.where == (("c", "cc") if suffix == "json" else None)
    assert export.through_block == 5
    assert [(e.block, e.position, e.record_type, e.record_id) for e in export.events] == [
        (3, 0, "task", "t1"),
        (5, 1, "vote", "p-1/Org1MSP"),
        (5, 1, "champion", "t1"),
    ]
    assert export.events[1].record_sha256 == record_sha256(VOTE)
    assert export.events[1].line == (
        f"{path}: events[1]" if suffix == "json" else f"{path}: line 3"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{",
            "{path} is not JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        ('{"format": "x"}', '{path}: "format" must be "fedledger-audit"; is this an audit export?'),
        (
            '{"format": "fedledger-audit", "version": 2}',
            '{path}: "version" is 2; this fedledger reads version 1 exports',
        ),
        (
            '{"format": "fedledger-audit", "version": 1, "taskId": "t", "events": [{"block": -1}]}',
            "{path}: events[0]: block must be a whole number, got -1",
        ),
        (
            '{"format": "fedledger-audit", "version": 1, "taskId": "t", "events": '
            '[{"block": 1, "position": 0, "transactionId": 7}]}',
            "{path}: events[0]: transactionId must be text, got 7",
        ),
        (
            "a,b\n1,2\n",
            "{path}: the header must be " + ",".join(COLUMNS) + "; is this an audit export?",
        ),
        (
            ",".join(COLUMNS) + "\nx,0,t,s,e,task,t1,a,s,s,h\n",
            "{path}: line 2: block must be a whole number, got 'x'",
        ),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_by_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "audit.txt"
    path.write_text(text)
    with pytest.raises(ExportFileError) as error:
        read_export(path)
    assert str(error.value) == message.format(path=path)


def test_state_keys_are_the_chaincodes_composite_keys() -> None:
    assert state_key("task", "t1") == "\x00task\x00t1\x00"
    assert state_key("vote", "p-1/Org1MSP") == "\x00vote\x00p-1\x00Org1MSP\x00"


class Racing:
    """A registry on which CloseExpired fails as given; the proposal then reads as `after`."""

    def __init__(self, error: Exception | None, after: str) -> None:
        self.error = error
        self.after = after

    def close_expired(self, proposal_id: str) -> Any:
        if self.error is not None:
            raise self.error
        return Proposal(proposal_id, "EXPIRED")

    def get_proposal(self, proposal_id: str) -> Any:
        return Proposal(proposal_id, self.after)


class Proposal:
    def __init__(self, proposal_id: str, status: str) -> None:
        self.id = proposal_id
        self.task_id = "t1"
        self.deadline = TIME
        self.status = status

    @property
    def pending(self) -> bool:
        return self.status == "PENDING"


REFUSED = ChaincodeRefusalError("CloseExpired", "close refused: something", TX_A)
CONFLICT = CommitError(TX_A, 11, 7)


@pytest.mark.parametrize(
    ("error", "after", "result", "message"),
    [
        (None, "EXPIRED", "closed", ""),
        (REFUSED, "EXPIRED", "closed elsewhere", ""),  # another member closed it first
        (CONFLICT, "EXPIRED", "closed elsewhere", ""),  # both endorsed, the other committed
        (REFUSED, "PENDING", "refused", "close refused: something"),
    ],
)
def test_closing_a_proposal_someone_else_closed_is_not_an_error(
    error: Exception | None, after: str, result: str, message: str
) -> None:
    closing = close_one(Racing(error, after), Proposal("p-1", "PENDING"))  # type: ignore[arg-type]
    assert (closing.record_id, closing.task_id) == ("p-1", "t1")
    assert (closing.result, closing.message) == (result, message)


def test_a_conflict_on_a_proposal_still_open_is_raised() -> None:
    with pytest.raises(CommitError):
        close_one(Racing(CONFLICT, "PENDING"), Proposal("p-1", "PENDING"))  # type: ignore[arg-type]
