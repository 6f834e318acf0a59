"""The file checkpointer: what a restarted listener resumes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedledger.fabric import ChaincodeEvent, Checkpoint, CheckpointError, FileCheckpointer


def test_a_new_checkpointer_has_no_position(tmp_path: Path) -> None:
    assert FileCheckpointer(tmp_path / "cp.json").checkpoint is None
    assert not (tmp_path / "cp.json").exists()


def test_checkpoint_event_persists_block_and_transaction(tmp_path: Path) -> None:
    path = tmp_path / "listener" / "cp.json"
    FileCheckpointer(path).checkpoint_event(ChaincodeEvent(12, "tx-1", "cc", "Heartbeat", b""))

    assert json.loads(path.read_text()) == {"blockNumber": 12, "transactionId": "tx-1"}
    assert FileCheckpointer(path).checkpoint == Checkpoint(12, "tx-1")


def test_checkpoint_block_resumes_at_the_next_block(tmp_path: Path) -> None:
    checkpointer = FileCheckpointer(tmp_path / "cp.json")
    checkpointer.checkpoint_block(41)
    assert FileCheckpointer(tmp_path / "cp.json").checkpoint == Checkpoint(42, "")


def test_saving_leaves_no_temporary_file(tmp_path: Path) -> None:
    checkpointer = FileCheckpointer(tmp_path / "cp.json")
    for block in range(5):
        checkpointer.save(Checkpoint(block, f"tx{block}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid"),
        ('{"transactionId": "x"}', "is not valid"),
        ('{"blockNumber": -1}', "blockNumber must be an int >= 0"),
        ('{"blockNumber": "7"}', "blockNumber must be an int >= 0"),
        ('{"blockNumber": 7, "transactionId": 3}', "transactionId must be a string"),
    ],
)
def test_an_unreadable_checkpoint_is_an_error_not_a_fresh_start(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "cp.json").write_text(content)
    with pytest.raises(CheckpointError, match=message):
        FileCheckpointer(tmp_path / "cp.json")


def test_reads_the_official_clients_format(tmp_path: Path) -> None:
    (tmp_path / "cp.json").write_text('{"blockNumber":3,"transactionId":"abc"}')
    assert FileCheckpointer(tmp_path / "cp.json").checkpoint == Checkpoint(3, "abc")
