"""The decider: when a validator submits Decide, and what it makes of the answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import grpc
import pytest

from fedledger.fabric import Backoff, CommitError, EndorseError
from fedledger.registry import ChaincodeRefusalError, Registry
from fedledger.runtime.health import wait_for
from fedledger.validator.deciding import Decider, Decision
from fedledger.validator.metrics import ValidatorMetrics

PID = "p-" + "a" * 32
ME = "Org2MSP"

Answer = Callable[[], Any]


def refused(code: str) -> ChaincodeRefusalError:
    return ChaincodeRefusalError("Decide", f"[{code}] decision refused: {PID} ...", "tx")


def votes(*voters: str) -> SimpleNamespace:
    """A previewed proposal whose votes were cast by `voters`."""
    return SimpleNamespace(
        status="ACCEPTED",
        status_reason="2 of 2 approve",
        tally=SimpleNamespace(votes={voter: object() for voter in voters}),
    )


@dataclass
class ScriptedRegistry:
    """Answers each preview and decide with the next of its answers (a value, or raises it)."""

    previews: list[Any]
    decides: list[Any] = field(default_factory=list)
    calls: list[tuple[str, float]] = field(default_factory=list)

    def _answer(self, kind: str, answers: list[Any]) -> Any:
        self.calls.append((kind, time.monotonic()))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def preview_decision(self, proposal_id: str) -> Any:
        return self._answer("preview", self.previews)

    def decide(self, proposal_id: str) -> Any:
        return self._answer("decide", self.decides)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]


def decider(registry: ScriptedRegistry, stagger: float = 0.2) -> tuple[Decider, ValidatorMetrics]:
    metrics = ValidatorMetrics()
    built = Decider(cast(Registry, registry), ME, metrics, stagger, Backoff(0.01, 0.01))
    return built, metrics


def sample(metrics: ValidatorMetrics, name: str, labels: dict[str, str]) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_the_first_voter_in_msp_order_decides_at_once() -> None:
    registry = ScriptedRegistry([votes("Org2MSP", "Org3MSP")], [votes("Org2MSP", "Org3MSP")])
    settle, metrics = decider(registry, stagger=5)
    started = time.monotonic()
    assert settle.settle(PID) is Decision.DECIDED
    assert time.monotonic() - started < 1
    assert registry.kinds() == ["preview", "decide"]
    assert sample(metrics, "fedledger_validator_decisions_total", {"status": "ACCEPTED"}) == 1


def test_a_later_voter_waits_its_turn_and_leaves_a_settled_proposal_alone() -> None:
    registry = ScriptedRegistry([votes("Org1MSP", "Org2MSP"), refused("NOT_PENDING")])
    settle, _ = decider(registry, stagger=0.2)
    assert settle.settle(PID) is Decision.SETTLED_ELSEWHERE
    assert registry.kinds() == ["preview", "preview"]
    (_, first), (_, second) = registry.calls
    assert second - first >= 0.2


def test_a_later_voter_decides_when_the_first_did_not() -> None:
    decided = votes("Org1MSP", "Org2MSP")
    registry = ScriptedRegistry([decided, decided], [decided])
    settle, _ = decider(registry, stagger=0.05)
    assert settle.settle(PID) is Decision.DECIDED
    assert registry.kinds() == ["preview", "preview", "decide"]


def test_a_member_that_has_not_voted_goes_after_every_voter() -> None:
    registry = ScriptedRegistry([votes("Org1MSP", "Org3MSP"), refused("NOT_PENDING")])
    settle, _ = decider(registry, stagger=0.1)
    assert settle.settle(PID) is Decision.SETTLED_ELSEWHERE
    (_, first), (_, second) = registry.calls
    assert second - first >= 0.2


@pytest.mark.parametrize(
    ("code", "decision"),
    [
        ("UNDECIDED", Decision.UNDECIDED),
        ("NOT_PENDING", Decision.SETTLED_ELSEWHERE),
        ("NOT_A_MEMBER", Decision.REFUSED),
    ],
)
def test_a_refused_preview_submits_nothing(code: str, decision: Decision) -> None:
    registry = ScriptedRegistry([refused(code)])
    assert decider(registry)[0].settle(PID) is decision
    assert registry.kinds() == ["preview"]


def test_a_chaincode_without_decide_is_left_to_its_deciding_votes() -> None:
    old = ChaincodeRefusalError(
        "Decide", "You've asked to invoke a function that does not exist: Decide", "tx"
    )
    registry = ScriptedRegistry([old, old])
    settle, metrics = decider(registry)
    assert settle.settle(PID) is Decision.UNSUPPORTED
    assert settle.settle(PID) is Decision.UNSUPPORTED
    assert registry.kinds() == ["preview", "preview"]
    assert sample(metrics, "fedledger_validator_errors_total", {"kind": "decide_refused"}) == 0


def test_a_decide_invalidated_by_a_racing_one_is_counted_and_not_repeated() -> None:
    mine = votes("Org2MSP")
    registry = ScriptedRegistry([mine, refused("NOT_PENDING")], [CommitError("tx", 11, 9)])
    settle, metrics = decider(registry)
    assert settle.settle(PID) is Decision.SETTLED_ELSEWHERE
    assert registry.kinds() == ["preview", "decide", "preview"]
    assert sample(metrics, "fedledger_validator_read_conflicts_total", {"path": "decide"}) == 1


def test_a_ledger_fault_is_retried_after_a_backoff() -> None:
    mine = votes("Org2MSP")
    down = EndorseError("tx", grpc.StatusCode.UNAVAILABLE, "peer down")
    registry = ScriptedRegistry([down, mine], [mine])
    settle, metrics = decider(registry)
    assert settle.settle(PID) is Decision.DECIDED
    assert sample(metrics, "fedledger_validator_errors_total", {"kind": "ledger"}) == 1


def test_a_burst_of_requests_makes_one_look_and_requests_while_busy_one_more() -> None:
    entered, gate = threading.Event(), threading.Event()
    mine = votes("Org2MSP")

    class SlowRegistry(ScriptedRegistry):
        def preview_decision(self, proposal_id: str) -> Any:
            entered.set()
            gate.wait(5)
            return super().preview_decision(proposal_id)

    registry = SlowRegistry([mine, refused("NOT_PENDING")], [mine])
    settle, _ = decider(registry)
    for _ in range(5):  # one block's votes arrive together: one look
        settle.consider(PID)
    assert entered.wait(5)
    for _ in range(3):  # votes of a later block, while that look is on: one more
        settle.consider(PID)
    gate.set()
    wait_for(lambda: len(registry.calls) == 3, "two rounds of the decider", 5)
    settle.stop()
    assert registry.kinds() == ["preview", "decide", "preview"]
