"""The main job, end to end on every backend: validators vote, the policy decides, the
champion is fetched, verified and used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedledger.demo.story import run_demo
from fedledger.network.validators import NetworkValidators
from fedledger.runtime.layout import RunLayout

pytestmark = [pytest.mark.ledger, pytest.mark.slow]


def test_the_demo_accepts_two_models_and_rejects_the_poisoned_one(
    ledger: Any, tmp_path: Path
) -> None:
    lines: list[str] = []
    validators = NetworkValidators(ledger.definition, tmp_path)
    try:
        result = run_demo(
            ledger.profile,
            validators,
            tmp_path / "demo",
            RunLayout(tmp_path).store,
            lines.append,
            rows=3000,
        )
        serving = [row.name for row in validators.status() if row.healthy]
        assert len(serving) == 3, "the validators stopped with the demo"
    finally:
        validators.stop()
    statuses = [r.proposal.status for r in result.rounds]
    assert statuses == ["ACCEPTED", "ACCEPTED", "REJECTED"]
    first, second, poisoned = result.rounds
    assert sorted(v.voter for v in first.votes) == ["Org1MSP", "Org2MSP", "Org3MSP"]
    assert all(v.decision == "approve" for v in second.votes)
    assert any(v.decision == "reject" and "regresses" in v.reason for v in poisoned.votes), (
        poisoned.votes
    )
    assert result.champion == second.proposal.id
    assert result.consumer_auc is not None
    assert result.consumer_auc > 0.8
    assert any("created task" in line for line in lines)
