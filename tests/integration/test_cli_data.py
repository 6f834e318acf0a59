"""`data check` and `data sanitise` with `--task <id>`: the schema read from the ledger, on
every backend, with the relative paths a user types."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fedledger.cli.app import app
from fedledger.registry import Policy, open_registry

from .everywhere import profile_caught_up

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
runner = CliRunner()
SCHEMA = {
    "features": [
        {
            "name": "country",
            "type": "category",
            "categories": ["BR", "US"],
            "format": "iso3166-alpha2",
        },
        {"name": "income", "type": "float", "nullable": True},
        {"name": "paid", "type": "bool"},
    ],
    "target": {"name": "default", "type": "category", "classes": ["no", "yes"]},
}
ROWS = "country,income,paid,default\nBrazil, 12.5,yes,no\nUSA,,N,YES\nFrance,3,true,no\n"


def fedledger(ledger: Any, *args: str) -> Result:
    return runner.invoke(app, [*args, "--profile", str(ledger.profile.path), "--org", "Org2MSP"])


def test_check_and_sanitise_read_the_schema_from_the_ledger(
    ledger: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id = f"data-{uuid.uuid4().hex[:8]}"
    with open_registry(ledger.profile, "Org1MSP") as registry:
        task = registry.create_task(
            task_id,
            schema=SCHEMA,
            metric="roc_auc",
            members=["Org1MSP", "Org2MSP"],
            policy=Policy(
                quorum=2,
                approval_threshold=0.5,
                min_score=None,
                max_regression=None,
                voting_period_seconds=3600,
                max_model_bytes=1_000_000,
                max_open_proposals_per_org=3,
            ),
        )
    assert task.schema["features"][0]["format"] == "iso3166-alpha2"  # the ledger keeps it
    profile_caught_up(ledger.profile)  # the commands read it as Org2, from Org2's peer
    monkeypatch.chdir(tmp_path)
    Path("rows.csv").write_text(ROWS)

    checked = fedledger(ledger, "data", "check", "--task", task_id, "rows.csv")
    assert checked.exit_code == 1, checked.output
    assert checked.stdout.splitlines() == [
        "row 2, country 'Brazil' -> 'BR' (country name to alpha-2)",
        "row 2, income ' 12.5' -> '12.5' (trimmed whitespace)",
        "row 2, paid 'yes' -> 'true' (boolean word to true/false)",
        "row 3, country 'USA' -> 'US' (alpha-3 code to alpha-2)",
        "row 3, paid 'N' -> 'false' (boolean word to true/false)",
        "row 3, default 'YES' -> 'yes' (matched ignoring case)",
        "row 4, country 'France': the country FR is not one of the categories (BR, US)",
        "rows.csv: 3 rows; 1 value(s) cannot be used (1 rows), 6 value(s) `fedledger data "
        "sanitise` would normalise",
    ]

    sanitised = fedledger(
        ledger,
        "data",
        "sanitise",
        "--task",
        task_id,
        "rows.csv",
        "--out",
        "clean.csv",
        "--rejects",
        "rejects.csv",
    )
    assert sanitised.exit_code == 0, sanitised.output
    assert Path("clean.csv").read_text() == (
        "country,income,paid,default\nBR,12.5,true,no\nUS,,false,yes\n"
    )
    assert Path("rejects.csv").read_text().splitlines()[1].startswith("4,France,3,true,no,")
    clean = fedledger(ledger, "data", "check", "--task", task_id, "clean.csv")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout == "clean.csv: 2 rows, all in the task's agreed shape\n"

    unknown = fedledger(ledger, "data", "check", "--task", "no-such-task", "rows.csv")
    assert unknown.exit_code == 1
    assert "no-such-task" in unknown.output
