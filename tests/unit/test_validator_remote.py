"""`fedledger validator evaluate` without a validator: how a report reads, and the errors raised
before any call (a running validator is tested in tests/integration/test_validator.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedledger.cli.validator import report_lines
from fedledger.validator.errors import ValidatorCallError
from fedledger.validator.remote import RemoteReport, config_of, load_config

NOT_SCORED = RemoteReport(
    organization="Org3MSP",
    address="127.0.0.1:7055",
    task_id="credit-risk",
    model_sha256="ab" * 32,
    decision="reject",
    reasons=("not scored, too_large: model is 812 bytes, over the task's 64 byte limit",),
    metric="roc_auc",
    score=None,
    champion_score=0.81,
    holdout_rows=0,
    duration_seconds=0.004,
    evaluator_version="fedledger-evaluate 0.1.0",
    error_code="too_large",
)


def test_a_model_that_could_not_be_scored_reads_as_such() -> None:
    assert report_lines(NOT_SCORED) == [
        "Org3MSP's validator would reject this model for task credit-risk (nothing was voted)",
        f"model {'ab' * 32}, 0 holdout rows, 0.00 s, fedledger-evaluate 0.1.0",
        "not scored: too_large",
        "reasons:",
        "  - not scored, too_large: model is 812 bytes, over the task's 64 byte limit",
    ]


def test_a_scored_report_gives_the_champion_score_and_the_other_metrics() -> None:
    scored = RemoteReport(
        **{
            **NOT_SCORED.__dict__,
            "decision": "approve",
            "reasons": ("roc_auc 0.8 meets the task's policy",),
            "score": 0.8,
            "error_code": "",
            "holdout_rows": 2500,
            "metrics": {"roc_auc": 0.8, "log_loss": 0.45, "accuracy": 0.75},
        }
    )
    lines = report_lines(scored)
    assert lines[2] == "roc_auc 0.8 (the task's metric; champion scores 0.81 here)"
    assert lines[-1] == "other metrics: accuracy 0.75, log_loss 0.45"
    assert scored.to_dict()["metrics"] == {"accuracy": 0.75, "log_loss": 0.45, "roc_auc": 0.8}
    assert scored.to_dict()["championScore"] == 0.81


def test_the_configuration_of_an_organisation_is_where_network_up_writes_it(
    tmp_path: Path,
) -> None:
    assert config_of(tmp_path, "Org2MSP") == tmp_path / "validators/Org2MSP/validator.yaml"
    with pytest.raises(ValidatorCallError) as missing:
        load_config(config_of(tmp_path, "Org2MSP"), "Org2MSP")
    assert str(missing.value) == (
        f"no validator configuration of Org2MSP at {tmp_path}/validators/Org2MSP/validator.yaml: "
        "no validator of this organisation was started with this run folder; start it with "
        "`fedledger network up --validators FILE`, or `fedledger validator serve --config FILE` "
        "for a validator of your own"
    )


def test_a_configuration_that_does_not_load_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "validator.yaml"
    path.write_text("organization: Org1MSP\ncolour: blue\n")
    with pytest.raises(ValidatorCallError) as broken:
        load_config(path, None)
    assert str(broken.value) == (
        f"{path}: colour is not a known field (known: organization, identity, channel, "
        "chaincode, gateway, tasks, store, listen, stateDir, limits, retry, decide, metrics)"
    )
