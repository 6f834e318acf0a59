"""The validator's announcer without a ledger: which tasks it announces, and that a ledger that
cannot be reached is retried rather than fatal."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, cast

import grpc

from fedledger.fabric import Backoff
from fedledger.fabric.errors import EndorseError
from fedledger.registry import ChaincodeRefusalError, Registry, ValidatorAnnouncement
from fedledger.validator.announcer import Announcer

NOW = datetime(2026, 1, 2, tzinfo=UTC)


class FakeRegistry:
    def __init__(self, failures: int = 0) -> None:
        self.members = {"a": ("Org1MSP", "Org2MSP"), "b": ("Org2MSP",), "c": ("Org1MSP",)}
        self.announced: list[tuple[list[str], str]] = []
        self.failures = failures
        self.done = threading.Event()

    def get_task(self, task_id: str) -> Any:
        if task_id not in self.members:
            raise ChaincodeRefusalError(
                "GetTask", f"[TASK_NOT_FOUND] query refused: task {task_id} does not exist", "t"
            )
        return type("T", (), {"members": self.members[task_id]})

    def announce_validator(self, task_ids: list[str], version: str) -> ValidatorAnnouncement:
        if self.failures:
            self.failures -= 1
            raise EndorseError("t", grpc.StatusCode.UNAVAILABLE, "peer unavailable")
        self.announced.append((list(task_ids), version))
        self.done.set()
        return ValidatorAnnouncement("Org1MSP", dict.fromkeys(task_ids, NOW), version, NOW, "t")


def announcer(registry: FakeRegistry, tasks: list[str]) -> Announcer:
    return Announcer(
        cast(Registry, registry),
        "Org1MSP",
        tasks,
        "fedledger/0.1 onnxruntime/1.32.0",
        Backoff(0.01, 0.02),
    )


def test_only_existing_tasks_the_organisation_is_a_member_of_are_announced() -> None:
    registry = FakeRegistry()
    announcement = announcer(registry, ["c", "b", "a", "missing", "a"]).announce()
    assert registry.announced == [(["a", "c"], "fedledger/0.1 onnxruntime/1.32.0")]
    assert sorted(announcement.tasks) == ["a", "c"]


def test_an_unreachable_ledger_is_retried_until_the_announcement_is_made() -> None:
    registry = FakeRegistry(failures=2)
    running = announcer(registry, ["a"])
    running.start()
    try:
        assert registry.done.wait(5)
    finally:
        running.stop()
    assert registry.announced == [(["a"], "fedledger/0.1 onnxruntime/1.32.0")]
    assert registry.failures == 0
