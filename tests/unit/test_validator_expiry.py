"""The validator's expirer without a ledger: what it closes and how long it sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fedledger.fabric import Backoff
from fedledger.registry import ChaincodeRefusalError
from fedledger.validator.expiry import Expirer
from fedledger.validator.metrics import ValidatorMetrics

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Open:
    def __init__(self, proposal_id: str, task_id: str, seconds_left: float) -> None:
        self.id = proposal_id
        self.task_id = task_id
        self.deadline = NOW + timedelta(seconds=seconds_left)
        self.status = "PENDING"

    @property
    def pending(self) -> bool:
        return self.status == "PENDING"


class Ledger:
    """Open proposals by task; `refuse` lists those whose CloseExpired the chaincode refuses."""

    def __init__(self, *proposals: Open, refuse: tuple[str, ...] = ()) -> None:
        self.proposals = {p.id: p for p in proposals}
        self.refuse = refuse
        self.closed: list[str] = []

    def all_proposals(self, *, task_id: str, status: str) -> list[Open]:
        return [p for p in self.proposals.values() if p.task_id == task_id and p.status == status]

    def close_expired(self, proposal_id: str) -> Open:
        if proposal_id in self.refuse:
            raise ChaincodeRefusalError("CloseExpired", "close refused: not yet", "t" * 64)
        self.closed.append(proposal_id)
        self.proposals[proposal_id].status = "EXPIRED"
        return self.proposals[proposal_id]

    def get_proposal(self, proposal_id: str) -> Open:
        return self.proposals[proposal_id]


def expirer(ledger: Ledger, metrics: ValidatorMetrics | None = None) -> Expirer:
    return Expirer(
        ledger,  # type: ignore[arg-type]
        ["t1", "t2"],
        lambda: NOW,
        metrics or ValidatorMetrics(),
        Backoff(0.1, 1.0),
        poll_seconds=30.0,
    )


@pytest.mark.parametrize(
    ("proposals", "closed", "sleep"),
    [
        ((), [], 30.0),  # nothing open: poll
        ((Open("p-a", "t1", -1), Open("p-b", "t2", 0)), ["p-a", "p-b"], 30.0),
        ((Open("p-a", "t1", -1), Open("p-b", "t2", 5)), ["p-a"], 5.05),  # until the next one
        ((Open("p-a", "t1", 90),), [], 30.0),  # never longer than the poll
        ((Open("p-a", "t3", -1),), [], 30.0),  # not a task it serves
    ],
)
def test_a_sweep_closes_what_expired_and_sleeps_until_the_next_deadline(
    proposals: tuple[Open, ...], closed: list[str], sleep: float
) -> None:
    ledger = Ledger(*proposals)
    assert expirer(ledger).sweep() == pytest.approx(sleep)
    assert ledger.closed == closed


def test_a_refused_close_is_counted_and_not_retried_at_once() -> None:
    metrics = ValidatorMetrics()
    ledger = Ledger(Open("p-a", "t1", -1), refuse=("p-a",))
    assert expirer(ledger, metrics).sweep() == 30.0  # not a busy loop on the refused one
    refused = metrics.errors.labels(kind="close_refused")._value.get()
    assert refused == 1
