"""fedledger.validator without a ledger: configuration errors, ballots, which proposals it votes
on, status codes, codegen."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import grpc
import pytest

from fedledger.evaluate.policy import Decision
from fedledger.evaluate.report import EvaluationReport
from fedledger.registry import Policy, Proposal, Tally
from fedledger.validator.codegen import is_current
from fedledger.validator.config import RetryConfig, ValidatorConfig
from fedledger.validator.errors import ModelBytesUnavailableError, ModelRejectedError, NotFoundError
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.reports import ReportBook
from fedledger.validator.servicer import status_code
from fedledger.validator.voting import Voter, ballot_for

from .validator_documents import minimal_validator_document


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("ca.pem", "ca.key", "holdout.csv", "peer-ca.pem"):
        (tmp_path / name).write_text("x")
    return tmp_path


def test_a_valid_configuration_resolves_paths_from_its_folder(files: Path) -> None:
    config = ValidatorConfig.from_dict(
        minimal_validator_document(limits={"maxConcurrentEvaluations": 2}), files
    )
    assert config.tasks == {"churn": files / "holdout.csv"}
    assert config.store.location == str(files / "store")
    assert config.limits.max_concurrent_evaluations == 2
    assert config.channel == "fedledger"
    assert "key" not in str(config.summary()).lower().replace("cakey", "")


def report(**changes: Any) -> EvaluationReport:
    fields: dict[str, Any] = {
        "model_sha256": "a" * 64,
        "task_id": "churn",
        "decision": Decision.APPROVE,
        "reasons": ("roc_auc 0.9 meets the task's policy",),
        "metric": "roc_auc",
        "score": 0.9,
        "metrics": {"roc_auc": 0.9, "log_loss": 0.3, "Bad-Name": 1.0},
        "rows": 100,
        "duration_seconds": 0.1,
        "evaluator_version": "e",
    }
    fields.update(changes)
    return EvaluationReport(**fields)


def test_a_scored_report_votes_its_decision_with_its_metrics() -> None:
    ballot = ballot_for(report(), "roc_auc", 100)
    assert ballot.decision == "approve"
    assert ballot.metrics == {"roc_auc": 0.9, "log_loss": 0.3}
    assert ballot.holdout_rows == 100


def test_a_model_fault_is_a_reject_with_the_worst_score_and_the_reason() -> None:
    fault = report(
        decision=Decision.REJECT,
        score=None,
        metrics={},
        rows=0,
        error_code="invalid_uri",
        reasons=("invalid_uri: 's3://b/k' is not an s3://bucket/key URI\n",),
    )
    ballot = ballot_for(fault, "rmse", 500)
    assert ballot.decision == "reject"
    assert ballot.metrics == {"rmse": 1e12}
    assert ballot.holdout_rows == 500
    assert ballot.reason == "not scored, invalid_uri: 's3://b/k' is not an s3://bucket/key URI"


def test_a_reason_names_no_local_path_and_keeps_the_error_first() -> None:
    fault = report(
        decision=Decision.REJECT,
        score=None,
        error_code="inference_failed",
        reasons=(
            "inference_failed: onnxruntime failed: Fail: Load model from "
            "/tmp/fedledger-eval-1x/model.onnx failed: " + "detail " * 60,
        ),
    )
    reason = ballot_for(fault, "roc_auc", 10).reason
    assert reason.startswith(
        "not scored, inference_failed: onnxruntime failed: Fail: Load model from <path> failed: "
    )
    assert "/tmp" not in reason
    assert len(reason) == 256


def test_an_undefined_metric_abstains() -> None:
    undefined = report(decision=Decision.REJECT, score=None, reasons=("roc_auc is undefined",))
    assert ballot_for(undefined, "roc_auc", 100).decision == "abstain"


def test_a_cancelled_evaluation_abstains_saying_why() -> None:
    reason = "evaluation cancelled: the proposal was decided (REJECTED) after 4.2 s"
    cancelled = report(
        error_code="cancelled", decision=Decision.REJECT, score=None, reasons=(reason,)
    )
    ballot = ballot_for(cancelled, "roc_auc", 0)
    assert (ballot.decision, ballot.metrics, ballot.holdout_rows, ballot.reason) == (
        "abstain",
        {},
        1,
        reason,
    )


def test_a_long_reason_is_cut_to_the_chaincode_limit() -> None:
    long = report(reasons=("x" * 400,))
    assert len(ballot_for(long, "roc_auc", 1).reason) == 256


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("invalid_uri", grpc.StatusCode.INVALID_ARGUMENT),
        ("too_large", grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("resource_limit", grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("unbounded_loop", grpc.StatusCode.RESOURCE_EXHAUSTED),
    ],
)
def test_model_faults_map_to_status_codes(code: str, status: grpc.StatusCode) -> None:
    error = ModelRejectedError(report(error_code=code, decision=Decision.REJECT, score=None))
    assert status_code(error) == status
    assert status_code(NotFoundError("x")) == grpc.StatusCode.NOT_FOUND


def test_model_bytes_the_store_cannot_give_are_unavailable_not_the_models_fault() -> None:
    error = ModelBytesUnavailableError(
        "s3://b/sha256/x", "aa" * 32, None, "no object", "object_missing", "no object"
    )
    assert status_code(error) == grpc.StatusCode.UNAVAILABLE
    assert error.report_reason == "object_missing: no object"
    assert str(error) == (
        f"model bytes unavailable: s3://b/sha256/x holds no object, expected SHA-256 {'aa' * 32}; "
        "putting the intact model in the store again repairs it"
    )


def test_the_generated_code_matches_the_proto() -> None:
    import fedledger.validator.api  # noqa: F401  (regenerates if needed)

    assert is_current()


NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def proposal(status: str, electorate: tuple[str, ...], deadline: datetime) -> Proposal:
    return Proposal(
        id="p-1",
        task_id="churn",
        model_sha256="ab" * 32,
        uri="file:///m",
        size_bytes=10,
        format="onnx",
        proposer="Org2MSP",
        metrics={},
        parent=None,
        round=None,
        electorate=electorate,
        policy=Policy(2, 0.5, None, None, 60, 1000, 3),
        metric="roc_auc",
        higher_is_better=True,
        status=status,  # type: ignore[arg-type]
        status_reason="",
        tally=Tally(0, 0, 0, {}),
        created_at=NOW - timedelta(minutes=1),
        deadline=deadline,
        decided_at=None,
        transaction_id="t1",
    )


class LedgerWithOneProposal:
    """The registry calls a voter makes before it evaluates; any vote found ends the attempt."""

    def __init__(self, found: Proposal, champion: str | None) -> None:
        self.found = found
        self.champion = champion

    def get_proposal(self, proposal_id: str) -> Proposal:
        return self.found

    def find_champion(self, task_id: str) -> Any:
        return None if self.champion is None else SimpleNamespace(proposal_id=self.champion)

    def vote_of(self, proposal_id: str, msp_id: str) -> Any:
        return SimpleNamespace(decision="approve", transaction_id="t2")


@pytest.mark.parametrize(
    ("status", "electorate", "deadline", "champion", "outcome"),
    [
        ("PENDING", ("Org1MSP", "Org2MSP"), NOW + timedelta(minutes=1), None, "already_voted"),
        ("PENDING", ("Org2MSP",), NOW + timedelta(minutes=1), None, "not_in_electorate"),
        ("PENDING", ("Org1MSP", "Org2MSP"), NOW, None, "expired"),
        # Accepted before we voted, still the champion: a late vote, whatever the deadline and
        # even if we joined the task after it was proposed.
        ("ACCEPTED", ("Org1MSP", "Org2MSP"), NOW - timedelta(hours=1), "p-1", "already_voted"),
        ("ACCEPTED", ("Org2MSP",), NOW - timedelta(hours=1), "p-1", "already_voted"),
        # Decided before we voted, in our electorate: a late vote records our evaluation.
        ("ACCEPTED", ("Org1MSP", "Org2MSP"), NOW, "p-2", "already_voted"),
        ("REJECTED", ("Org1MSP", "Org2MSP"), NOW, "p-1", "already_voted"),
        ("EXPIRED", ("Org1MSP", "Org2MSP"), NOW, None, "already_voted"),
        # Decided before we joined, and not the champion: nothing of ours to record.
        ("ACCEPTED", ("Org2MSP",), NOW, "p-2", "closed"),
        ("ACCEPTED", ("Org2MSP",), NOW, None, "closed"),
        ("REJECTED", ("Org2MSP",), NOW, "p-1", "closed"),
    ],
)
def test_which_proposals_a_validator_votes_on(
    tmp_path: Path,
    status: str,
    electorate: tuple[str, ...],
    deadline: datetime,
    champion: str | None,
    outcome: str,
) -> None:
    ledger = LedgerWithOneProposal(proposal(status, electorate, deadline), champion)
    service = SimpleNamespace(organization="Org1MSP", registry=ledger)
    voter = Voter(
        cast(Any, service), ReportBook(tmp_path), ValidatorMetrics(), RetryConfig(), lambda: NOW
    )
    assert voter.vote_on("p-1", threading.Event()) == outcome
