"""Where the watcher's event stream starts: no proposal may fall between reconciling and the
first event (a validator that missed one never votes, and the proposal waits for its deadline)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from fedledger.fabric import Backoff
from fedledger.fabric.checkpoint import FileCheckpointer
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.watcher import Watcher


class Recorder:
    """The registry, the height and the event source a watcher uses, noting each call."""

    def __init__(self) -> None:
        self.calls: list[object] = []
        self.watcher: Watcher | None = None

    def all_proposals(self, task_id: str, status: str) -> list[Any]:
        self.calls.append("reconcile")
        return []

    def find_champion(self, task_id: str) -> None:
        return None

    def height(self) -> int:
        self.calls.append("height")
        return 7

    def events(self, start: int | None) -> Iterable[Any]:
        self.calls.append(("events from", start))
        assert self.watcher is not None
        self.watcher._stop.set()  # one pass of the loop is the whole test
        return ()


def watcher(recorder: Recorder, checkpoint: Path) -> Watcher:
    voter = type("Voter", (), {"organization": "Org1MSP"})()
    made = Watcher(
        cast(Any, voter),
        cast(Any, recorder),
        ["task-1"],
        recorder.events,
        recorder.height,
        FileCheckpointer(checkpoint),
        ValidatorMetrics(),
        workers=1,
        backoff=Backoff(0.01, 0.01),
    )
    recorder.watcher = made
    return made


def test_without_a_checkpoint_events_start_at_the_height_read_before_reconciling(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    watcher(recorder, tmp_path / "checkpoint.json")._run()
    assert recorder.calls == ["height", "reconcile", ("events from", 7)]


def test_with_a_checkpoint_events_resume_after_it(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    FileCheckpointer(path).checkpoint_block(12)
    recorder = Recorder()
    watcher(recorder, path)._run()
    assert recorder.calls == ["reconcile", ("events from", None)]
