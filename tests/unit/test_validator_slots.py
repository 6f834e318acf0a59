"""The evaluation slots: a bound on evaluations at once, a share per proposer, waiting that ends
on a deadline or a cancellation. Fake work: threads that hold a slot until the test lets go."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from fedledger.evaluate.cancel import Cancellation
from fedledger.evaluate.errors import EvaluationCancelledError
from fedledger.validator.errors import LimitExceededError
from fedledger.validator.slots import Slots, default_share


class FakeWork:
    """Holds a slot of `slots` in a thread of its own until `finish()`."""

    def __init__(self, slots: Slots, owner: str | None) -> None:
        self.holding = threading.Event()
        self._done = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(slots, owner))
        self._thread.start()

    def _run(self, slots: Slots, owner: str | None) -> None:
        try:
            with slots.hold(None, owner):
                self.holding.set()
                self._done.wait(10)
        except BaseException as error:  # handed to the test
            self.error = error

    def finish(self) -> None:
        self._done.set()
        self._thread.join(10)


@contextmanager
def working(slots: Slots, *owners: str | None) -> Iterator[list[FakeWork]]:
    works = [FakeWork(slots, owner) for owner in owners]
    try:
        for work in works:
            assert work.holding.wait(5), "a slot that should be free was not given"
        yield works
    finally:
        for work in works:
            work.finish()


@pytest.mark.parametrize(
    ("size", "share"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (8, 4), (16, 8)]
)
def test_one_proposer_gets_half_the_slots_rounded_up_and_never_all_of_two_or_more(
    size: int, share: int
) -> None:
    assert default_share(size) == share
    assert Slots(size).per_owner == share
    assert Slots(size, per_owner=size + 5).per_owner == size


def test_a_proposer_at_its_share_waits_while_another_proposer_is_served() -> None:
    slots = Slots(2)
    with working(slots, "Bomber"):
        with pytest.raises(LimitExceededError) as refused, slots.hold(0, "Bomber"):
            pass
        assert str(refused.value) == (
            "Bomber already holds 1 of the 2 evaluation slot(s) of this validator, its share; "
            "retry later"
        )
        with slots.hold(0, "Honest"):
            assert (slots.running, slots.held_by("Bomber"), slots.held_by("Honest")) == (2, 1, 1)
            with pytest.raises(LimitExceededError, match="all 2 evaluation slot"), slots.hold(0):
                pass
    assert slots.running == 0


def test_a_waiting_proposer_takes_the_slot_its_own_evaluation_frees() -> None:
    slots = Slots(3)  # share 2
    with working(slots, "A", "A") as (first, _):
        waiting = FakeWork(slots, "A")
        assert not waiting.holding.wait(0.2)
        with slots.hold(0, "B"):  # the third slot is free for another proposer
            pass
        first.finish()
        assert waiting.holding.wait(5)
        assert slots.held_by("A") == 2
        waiting.finish()
    assert waiting.error is None


def test_waiting_gives_up_after_wait_seconds() -> None:
    slots = Slots(1)
    with working(slots, "A"):
        started = time.monotonic()
        with pytest.raises(LimitExceededError, match="all 1 evaluation slot"), slots.hold(0.3):
            pass
        assert 0.25 < time.monotonic() - started < 2


def test_a_cancellation_ends_the_wait_at_once() -> None:
    slots = Slots(1)
    cancel = Cancellation()
    raised: list[BaseException] = []

    def wait_for_slot() -> None:
        try:
            with slots.hold(None, "A", cancel):
                pass
        except EvaluationCancelledError as error:
            raised.append(error)

    with working(slots, "B"):
        thread = threading.Thread(target=wait_for_slot)
        thread.start()
        time.sleep(0.2)
        cancel.cancel("the proposal was decided (REJECTED)")
        thread.join(2)
        assert not thread.is_alive()
    [error] = raised
    assert str(error).startswith("evaluation cancelled: the proposal was decided (REJECTED)")
    assert slots.running == 0


def test_the_wait_is_measured_on_the_injected_clock() -> None:
    readings = [0.0]
    slots = Slots(1, clock=lambda: readings.pop(0) if len(readings) > 1 else readings[0])
    with working(slots, "A"):
        # The next reading starts the wait; every later one is 100 s on: no real time passes.
        readings[:] = [0.0, 100.0]
        started = time.monotonic()
        with pytest.raises(LimitExceededError), slots.hold(50):
            pass
        assert time.monotonic() - started < 1
