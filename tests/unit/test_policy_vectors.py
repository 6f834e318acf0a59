"""The validator's rules against the vectors the chaincode's tests read too.

testdata/policy-vectors.json: the minimum score and the regression veto at their boundaries
(the chaincode's tolerance included), and the chaincode's decisions, whose vetoes the validator
must see the same way. testdata/metrics.json: the metrics a task may be decided on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fedledger.evaluate.metrics import classification_metrics, regression_metrics
from fedledger.evaluate.policy import (
    CLASSIFICATION_METRICS,
    LOWER_IS_BETTER,
    METRIC_RANGES,
    REGRESSION_METRICS,
    REGRESSION_TOLERANCE,
    TASK_METRICS,
    Decision,
    Rule,
    TaskPolicy,
)
from fedledger.registry.records import (
    COUNTED_DECISIONS,
    DECISIONS,
    UNAVAILABLE_FAULTS,
    Tally,
)
from fedledger.schema.task_file import check_policy
from fedledger.store.errors import HashMismatchError, ModelTooLargeError, ObjectNotFoundError
from fedledger.validator.errors import ModelBytesUnavailableError

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
VECTORS = json.loads((TESTDATA / "policy-vectors.json").read_text("utf-8"))
METRICS = json.loads((TESTDATA / "metrics.json").read_text("utf-8"))


def rules_for(metric: str, change: dict[str, Any]) -> TaskPolicy:
    policy = {**VECTORS["policy"], **change}
    return TaskPolicy(
        metric,
        higher_is_better=TASK_METRICS[metric][0],
        min_score=policy["minScore"],
        max_regression=policy["maxRegression"],
    )


def test_the_tolerance_is_the_chaincodes() -> None:
    assert VECTORS["regressionTolerance"] == REGRESSION_TOLERANCE


@pytest.mark.parametrize("ballot", VECTORS["ballots"], ids=lambda b: b["name"])
def test_a_ballot_is_judged_as_the_chaincode_judges_it(ballot: dict[str, Any]) -> None:
    rules = rules_for(ballot["metric"], ballot["policy"])
    decision, reasons = rules.decide(ballot["score"], ballot["championScore"])
    assert rules.broken(ballot["score"], ballot["championScore"]) == [
        Rule(name) for name in ballot["expected"]["broken"]
    ]
    assert decision == Decision(ballot["expected"]["decision"])
    assert len(reasons) == max(1, len(ballot["expected"]["broken"]))


def test_the_float_case_of_the_issue_approves() -> None:
    rules = TaskPolicy("roc_auc", True, max_regression=0.05)
    assert rules.regression(0.75, 0.80) > 0.05
    assert rules.decide(0.75, 0.80) == (Decision.APPROVE, ["roc_auc 0.75 meets the task's policy"])


def test_a_veto_names_the_regression_and_the_limit() -> None:
    rules = TaskPolicy("log_loss", False, max_regression=0.05)
    assert rules.decide(0.5501, 0.5) == (
        Decision.REJECT,
        ["log_loss 0.5501 regresses 0.0501 from the champion's 0.5, more than the allowed 0.05"],
    )


def vetoed_voter(tally: dict[str, Any]) -> str | None:
    reason: str = tally["expected"]["reason"]
    return reason.split("'")[0].removeprefix("veto: ") if reason.startswith("veto: ") else None


@pytest.mark.parametrize("tally", VECTORS["tallies"], ids=lambda t: t["name"])
def test_the_validator_vetoes_exactly_the_votes_the_chaincode_vetoes(
    tally: dict[str, Any],
) -> None:
    rules = rules_for(tally["metric"], tally["policy"])
    vetoes = [
        voter
        for voter, vote in sorted(tally["votes"].items())
        if vote["decision"] in ("approve", "reject")
        and vote["score"] is not None
        and Rule.MAX_REGRESSION in rules.broken(vote["score"], vote["championScore"])
    ]
    assert vetoes[:1] == ([] if vetoed_voter(tally) is None else [vetoed_voter(tally)])


def test_the_task_metrics_are_the_shared_list_in_its_order() -> None:
    shared = METRICS["taskMetrics"]
    assert [m["name"] for m in shared] == list(TASK_METRICS)
    for metric in shared:
        assert TASK_METRICS[metric["name"]] == (
            metric["higherIsBetter"],
            metric["target"] == "classification",
        )
    assert {m["name"] for m in shared if not m["higherIsBetter"]} == LOWER_IS_BETTER


def test_brier_is_reported_but_no_task_is_decided_on_it() -> None:
    assert [m["name"] for m in METRICS["reportedOnly"]] == ["brier"]
    with pytest.raises(ValueError) as refused:
        TaskPolicy("brier", False)
    assert str(refused.value) == (
        "policy.metric 'brier' is not one of "
        "['roc_auc', 'accuracy', 'f1', 'log_loss', 'rmse', 'mae', 'r2']"
    )


def test_the_evaluator_computes_every_task_metric_and_the_reported_ones() -> None:
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4]])
    classified = classification_metrics(y, proba.argmax(axis=1), proba)
    reported = {m["name"] for m in METRICS["reportedOnly"]}
    assert set(classified) == set(CLASSIFICATION_METRICS) | reported
    regressed = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.5]))
    assert set(regressed) == set(REGRESSION_METRICS)


def test_metric_ranges_are_the_shared_ones() -> None:
    shared = {m["name"]: (m["range"]["min"], m["range"]["max"]) for m in METRICS["taskMetrics"]}
    assert shared == METRIC_RANGES


@pytest.mark.parametrize("case", VECTORS["bounds"], ids=lambda c: c["name"])
def test_policy_bounds_outside_the_metric_range_are_refused_in_the_chaincodes_words(
    case: dict[str, Any],
) -> None:
    problems: list[str] = []
    policy = check_policy(
        {**VECTORS["policy"], **case["policy"]}, 3, problems, metric=case["metric"]
    )
    assert problems == ([] if case["error"] is None else [case["error"]])
    assert (policy is None) == (case["error"] is not None)


def test_the_unavailable_faults_are_the_shared_list_in_its_order() -> None:
    assert list(UNAVAILABLE_FAULTS) == VECTORS["unavailable"]["faults"]


def test_an_unavailable_report_is_a_decision_the_policy_does_not_count() -> None:
    assert [d for d in DECISIONS if d not in COUNTED_DECISIONS] == ["unavailable"]
    decisions = {v["decision"] for t in VECTORS["tallies"] for v in t["votes"].values()}
    assert decisions == set(DECISIONS)


@pytest.mark.parametrize(
    "tally",
    [
        t
        for t in VECTORS["tallies"]
        if any(v["decision"] == "unavailable" for v in t["votes"].values())
    ],
    ids=lambda t: t["name"],
)
def test_members_with_an_unavailable_report_count_as_not_voted(tally: dict[str, Any]) -> None:
    """The chaincode's reasons count the members who voted: the reports are not among them."""
    counted = sum(1 for v in tally["votes"].values() if v["decision"] in COUNTED_DECISIONS)
    reason: str = tally["expected"]["reason"]
    assert f"{counted} of {tally['electorate']} members voted" in reason


@pytest.mark.parametrize(
    "store_error",
    [
        HashMismatchError("file:///home/me/store/x", "aa" * 32, "00" * 32),
        ObjectNotFoundError("s3://key:secret@bucket/x"),
        ModelTooLargeError("file:///home/me/store/x", 10, 5),
    ],
    ids=["hash-mismatch", "missing", "too-large"],
)
def test_the_validators_report_starts_with_a_fault_the_chaincode_reads(
    store_error: Exception,
) -> None:
    """Its reason starts with a shared fault followed by ": " and never holds the URI."""
    error = ModelBytesUnavailableError.of(store_error, "aa" * 32)  # type: ignore[arg-type]
    readable = {c["reason"] for c in VECTORS["unavailable"]["reasons"] if c["fault"] is not None}
    assert error.fault in UNAVAILABLE_FAULTS
    assert error.report_reason.startswith(f"{error.fault}: ")
    assert any(r.split(":")[0] == error.fault for r in readable)
    assert "/home/me" not in error.report_reason
    assert "secret" not in error.report_reason


def test_a_tally_written_before_chaincode_0_3_reads_with_no_unavailable_reports() -> None:
    old = Tally.from_dict({"approve": 1, "reject": 0, "abstain": 0, "votes": {}})
    new = Tally.from_dict({"approve": 1, "reject": 0, "abstain": 0, "unavailable": 2, "votes": {}})
    assert (old.unavailable, new.unavailable, new.cast) == (0, 2, 1)
