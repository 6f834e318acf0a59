"""Each pass of the watcher says what it saw and did, also when nothing was new
(upload/summary.py): the line `fedledger watch --once` prints, the record the loop logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, cast

import pytest

from fedledger.upload.objects import UploadedObject
from fedledger.upload.proposer import (
    ALREADY_PROPOSED,
    FAILED,
    PROPOSED,
    REFUSED,
    Outcome,
    Proposer,
)
from fedledger.upload.state import WatchState
from fedledger.upload.summary import PassSummary
from fedledger.upload.watcher import Watcher


class ListedSource:
    def __init__(self, objects: list[UploadedObject]) -> None:
        self.objects = objects

    def listing(self) -> list[UploadedObject]:
        return self.objects

    def __repr__(self) -> str:
        return "uploads"


class ScriptedProposer:
    """Answers each object with the outcome its key names."""

    def handle(self, uploaded: UploadedObject) -> Outcome:
        return Outcome(uploaded.location, uploaded.etag, uploaded.key.split("/")[0])


def uploaded(key: str) -> UploadedObject:
    return UploadedObject(f"uploads/{key}", key, "etag-1", fetch=lambda: cast(Any, None))


def watcher(objects: list[UploadedObject], state: Path) -> Watcher:
    proposer = cast(Proposer, ScriptedProposer())
    return Watcher(proposer, ListedSource(objects), WatchState(state), report=lambda _: None)


def test_a_pass_counts_what_it_saw_and_what_became_of_the_new_objects(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    objects = [
        uploaded(f"{PROPOSED}/a.onnx"),
        uploaded(f"{PROPOSED}/b.onnx"),
        uploaded(f"{REFUSED}/junk.onnx"),
        uploaded(f"{ALREADY_PROPOSED}/again.onnx"),
        uploaded(f"{FAILED}/unreachable.onnx"),
    ]
    watching = watcher(objects, tmp_path / "state.json")
    with caplog.at_level(logging.INFO, logger="fedledger.upload.passes"):
        first = watching.sweep_summary()
        again = watching.sweep_summary()
    assert first.line() == (
        "uploads: 5 objects seen, 5 new: 2 proposed, 1 refused, 1 already proposed, 1 failed"
    )
    # What was recorded is not new again; the failed object is tried again.
    assert again.line() == (
        "uploads: 5 objects seen, 1 new: 0 proposed, 0 refused, 0 already proposed, 1 failed"
    )
    records = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "fedledger.upload.passes"
    ]
    assert records == [first.record(), again.record()]
    assert records[0] == {
        "event": "pass",
        "source": "uploads",
        "seen": 5,
        "new": 5,
        "proposed": 2,
        "refused": 1,
        "alreadyProposed": 1,
        "failed": 1,
    }


def test_a_pass_that_finds_nothing_new_still_says_what_it_saw(tmp_path: Path) -> None:
    assert watcher([], tmp_path / "s.json").sweep_summary().line() == (
        "uploads: 0 objects seen, 0 new: 0 proposed, 0 refused, 0 already proposed, 0 failed"
    )
    one = watcher([uploaded(f"{PROPOSED}/a.onnx")], tmp_path / "t.json")
    assert one.sweep() != []
    assert one.sweep_summary().line() == (
        "uploads: 1 object seen, 0 new: 0 proposed, 0 refused, 0 already proposed, 0 failed"
    )


def test_the_summary_is_built_from_the_outcomes_alone() -> None:
    outcomes = (Outcome("x", "e", REFUSED, code="MODEL_MISFIT", detail="wrong inputs"),)
    summary = PassSummary("s3://b/incoming", 3, outcomes)
    assert (summary.count(REFUSED), summary.count(PROPOSED)) == (1, 0)
    assert summary.record()["new"] == 1
