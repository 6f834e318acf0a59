"""The validator built by `build_validator` from fakes (a ledger answering the registry's calls,
a store, an evaluator, a fixed clock): what the voter does with each proposal, and `assess`
behind both the voter and the Evaluate RPC, without a ledger or a sandbox."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import grpc
import pytest

from fedledger.evaluate.cancel import Cancellation
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.policy import Decision
from fedledger.evaluate.policy import Task as EvaluationTask
from fedledger.evaluate.report import EvaluationReport
from fedledger.fabric import (
    ChaincodeEvent,
    CommitError,
    ErrorDetail,
    EvaluateError,
    SubmitError,
)
from fedledger.fabric.proposal import Argument
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.registry import proposal_id_for
from fedledger.runtime.health import wait_for
from fedledger.store.errors import (
    HashMismatchError,
    InvalidUriError,
    ModelTooLargeError,
    ObjectNotFoundError,
    StoreUnavailableError,
)
from fedledger.validator.api import validator_pb2
from fedledger.validator.config import RetryConfig, ValidatorConfig
from fedledger.validator.errors import (
    InvalidRequestError,
    ModelBytesUnavailableError,
    ModelRejectedError,
    NotFoundError,
    UnavailableError,
)
from fedledger.validator.evaluation import Candidate, ModelReference
from fedledger.validator.factory import build_validator
from fedledger.validator.service import ValidatorService
from fedledger.validator.servicer import ValidatorServicer
from fedledger.validator.voting import Outcome

from .validator_documents import minimal_validator_document

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SCHEMA = synthetic_schema()
MODEL = b"an onnx model"
SHA = hashlib.sha256(MODEL).hexdigest()
URI = f"file:///store/sha256/{SHA}"
PID = proposal_id_for("churn", SHA)
POLICY = {
    "quorum": 2,
    "approvalThreshold": 0.5,
    "minScore": None,
    "maxRegression": None,
    "votingPeriodSeconds": 60,
    "maxModelBytes": 1000,
    "maxOpenProposalsPerOrg": 3,
}


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def task_record(**changes: Any) -> dict[str, Any]:
    record = {
        "id": "churn",
        "description": "",
        "schema": SCHEMA.to_dict(),
        "schemaSha256": SCHEMA.sha256(),
        "metric": "roc_auc",
        "higherIsBetter": True,
        "members": ["Org1MSP", "Org2MSP"],
        "policy": POLICY,
        "createdBy": "Org2MSP",
        "createdAt": stamp(NOW),
        "updatedAt": stamp(NOW),
        "txId": "t0",
    }
    return record | changes


def proposal_record(**changes: Any) -> dict[str, Any]:
    record = {
        "docType": "proposal",
        "schemaVersion": 1,
        "id": PID,
        "taskId": "churn",
        "modelSha256": SHA,
        "uri": URI,
        "sizeBytes": len(MODEL),
        "format": "onnx",
        "proposer": "Org2MSP",
        "metrics": {},
        "parent": None,
        "round": None,
        "electorate": ["Org1MSP", "Org2MSP"],
        "policy": POLICY,
        "metric": "roc_auc",
        "higherIsBetter": True,
        "status": "PENDING",
        "statusReason": "",
        "tally": {"approve": 0, "reject": 0, "abstain": 0, "votes": {}},
        "createdAt": stamp(NOW - timedelta(minutes=1)),
        "deadline": stamp(NOW + timedelta(minutes=1)),
        "decidedAt": None,
        "txId": "t1",
    }
    return record | changes


def vote_record(cast: dict[str, Any]) -> dict[str, Any]:
    return {
        "docType": "vote",
        "schemaVersion": 1,
        "proposalId": cast["proposalId"],
        "taskId": "churn",
        "voter": "Org1MSP",
        "decision": cast["decision"],
        "metrics": cast["metrics"],
        "score": cast["metrics"].get("roc_auc"),
        "holdoutRows": cast["holdoutRows"],
        "evaluatorVersion": cast["evaluatorVersion"],
        "reason": cast["reason"],
        "castAt": stamp(NOW),
        "txId": "t2",
    }


CAST = {
    "proposalId": PID,
    "decision": "approve",
    "metrics": {"roc_auc": 0.7},
    "holdoutRows": 10,
    "evaluatorVersion": "e",
    "reason": "",
}


def refusal(message: str, error_type: type = EvaluateError) -> Exception:
    detail = ErrorDetail("peer0:7051", "Org1MSP", f"chaincode response 500, {message}")
    error: Exception = error_type("tx9", grpc.StatusCode.ABORTED, "refused", [detail])
    return error


class FakeLedger:
    """The registry contract as the validator calls it: one task, its proposals, our votes."""

    contract_name = "registry"

    def __init__(self) -> None:
        self.task: dict[str, Any] | None = task_record()
        self.proposals: dict[str, dict[str, Any]] = {PID: proposal_record()}
        self.champion: dict[str, Any] | None = None
        self.votes: list[dict[str, Any]] = []
        self.cast_refusal: str | None = None
        self.down = False
        # Decide: refused as UNDECIDED unless set to the status the votes decide.
        self.decides_as: str | None = None
        self.decided: list[str] = []

    def evaluate(self, function: str, args: Sequence[Argument] = ()) -> bytes:
        if self.down:
            raise EvaluateError("", grpc.StatusCode.UNAVAILABLE, "the peer is down", [])
        arg = str(args[0])
        if function == "GetTask":
            if self.task is None or arg != self.task["id"]:
                raise refusal(f"[TASK_NOT_FOUND] query refused: task {arg} does not exist")
            return json.dumps(self.task).encode()
        if function == "GetProposal":
            return json.dumps(self.proposals[arg]).encode()
        if function == "GetVotes":
            return json.dumps([v for v in self.votes if v["proposalId"] == arg]).encode()
        if function == "GetChampion":
            if self.champion is None:
                raise refusal(f"[NO_CHAMPION] query refused: task {arg} has no champion yet")
            return json.dumps(self.champion).encode()
        if function == "Decide":
            return self.decide(arg)
        raise AssertionError(f"unexpected evaluate {function}")

    def decide(self, proposal_id: str) -> bytes:
        if self.decides_as is None:
            raise refusal(f"[UNDECIDED] decision refused: votes on {proposal_id} decide nothing")
        return json.dumps({**self.proposals[proposal_id], "status": self.decides_as}).encode()

    def submit(self, function: str, args: Sequence[Argument] = ()) -> bytes:
        if function == "Decide":
            decided = self.decide(str(args[0]))
            self.decided.append(str(args[0]))
            return decided
        assert function == "CastVote"
        if self.cast_refusal is not None:
            raise refusal(self.cast_refusal, SubmitError)
        cast = json.loads(str(args[0]))
        vote = vote_record(cast)
        # As the chaincode: an unavailable report is replaced by the voter's next record.
        self.votes = [v for v in self.votes if v["proposalId"] != cast["proposalId"]]
        self.votes.append(vote)
        proposal = self.proposals[cast["proposalId"]]
        return json.dumps({"vote": vote, "proposal": proposal}).encode()

    def champion_of(self, proposal_id: str, score: float) -> None:
        self.champion = {
            "taskId": "churn",
            "proposalId": proposal_id,
            "modelSha256": "cd" * 32,
            "uri": "file:///store/champion",
            "sizeBytes": 10,
            "format": "onnx",
            "scores": {"Org1MSP": score},
            "lineage": [proposal_id],
            "since": stamp(NOW - timedelta(hours=1)),
            "txId": "t3",
        }


class FakeNetwork:
    def __init__(self, ledger: FakeLedger) -> None:
        self.ledger = ledger

    def contract(self, chaincode: str) -> FakeLedger:
        return self.ledger

    def chaincode_events(self, chaincode: str, **_: Any) -> Iterable[ChaincodeEvent]:
        return iter(())

    def block_height(self) -> int:
        return 1


class FakeGateway:
    def __init__(self, ledger: FakeLedger) -> None:
        self.ledger = ledger
        self.closed = False

    def network(self, channel: str) -> FakeNetwork:
        return FakeNetwork(self.ledger)

    def close(self) -> None:
        self.closed = True


class FakeStore:
    """Holds MODEL; `fault` is raised instead when set."""

    def __init__(self) -> None:
        self.fault: Exception | None = None

    def get(self, uri: str, expected_sha256: str) -> bytes:
        if self.fault is not None:
            raise self.fault
        return MODEL

    def put(self, data: bytes | Path) -> str:
        raise AssertionError("a validator never writes to the store")

    def uri_for(self, sha256: str) -> str:
        return f"file:///store/sha256/{sha256}"


class FakeEvaluator:
    """Scores every model `score` (a REJECT with `error_code` when set), recording the calls.
    With `hang` set, an evaluation runs until it is cancelled (a CPU bomb, as the voter sees
    one)."""

    def __init__(self) -> None:
        self.score = 0.9
        self.error_code: str | None = None
        self.calls: list[tuple[bytes, str, int, float | None]] = []
        self.closed = False
        self.hang = False

    def evaluate(
        self,
        model_bytes: bytes,
        task: EvaluationTask,
        holdout: Holdout,
        *,
        champion_score: float | None = None,
        cancel: Cancellation | None = None,
    ) -> EvaluationReport:
        self.calls.append((model_bytes, task.task_id, holdout.rows, champion_score))
        if self.hang:
            assert cancel is not None, "a voter's evaluation can always be cancelled"
            cancelled = threading.Event()
            cancel.on_cancel(cancelled.set)
            assert cancelled.wait(30), "never cancelled"
            cancel.check(1.5)
        faulty = self.error_code is not None
        return EvaluationReport(
            model_sha256=hashlib.sha256(model_bytes).hexdigest(),
            task_id=task.task_id,
            decision=Decision.REJECT if faulty else Decision.APPROVE,
            reasons=(f"{self.error_code}: bad graph",) if faulty else ("meets the policy",),
            metric="roc_auc",
            score=None if faulty else self.score,
            metrics={} if faulty else {"roc_auc": self.score},
            rows=0 if faulty else holdout.rows,
            duration_seconds=0.01,
            evaluator_version="fake/1",
            error_code=self.error_code,
        )

    def close(self) -> None:
        self.closed = True


@dataclasses.dataclass
class Built:
    service: ValidatorService
    ledger: FakeLedger
    gateway: FakeGateway
    store: FakeStore
    evaluator: FakeEvaluator

    def vote(self, proposal_id: str = PID) -> Outcome:
        return self.service.parts.watcher.voter.vote_on(proposal_id, threading.Event())

    def errors(self, kind: str) -> float:
        value = self.service.metrics.registry.get_sample_value(
            "fedledger_validator_errors_total", {"kind": kind}
        )
        return value or 0.0


@pytest.fixture
def built(tmp_path: Path) -> Iterable[Built]:
    for name in ("ca.pem", "ca.key", "peer-ca.pem"):
        (tmp_path / name).write_text("x")
    synthetic_frame(SCHEMA, 200, seed=3).to_csv(tmp_path / "holdout.csv", index=False)
    document = minimal_validator_document()
    config = ValidatorConfig.from_dict(document, tmp_path)
    # Every fault of ours outlives a proposal one second from its deadline: no waiting.
    config = dataclasses.replace(config, retry=RetryConfig(initial_seconds=5, max_seconds=5))
    ledger, store, evaluator = FakeLedger(), FakeStore(), FakeEvaluator()
    gateway = FakeGateway(ledger)
    service = build_validator(
        config, clock=lambda: NOW, gateway=gateway, store=store, evaluator=evaluator
    )
    yield Built(service, ledger, gateway, store, evaluator)
    service.stop(grace=0)


def test_our_vote_hands_the_proposal_to_the_decider_which_decides_when_the_votes_do(
    built: Built,
) -> None:
    built.ledger.decides_as = "ACCEPTED"
    assert built.vote() == Outcome.VOTED
    wait_for(lambda: built.ledger.decided == [PID], "the Decide of our decider", 10)
    decisions = built.service.metrics.registry.get_sample_value(
        "fedledger_validator_decisions_total", {"status": "ACCEPTED"}
    )
    assert decisions == 1.0


def test_a_vote_that_decides_nothing_submits_no_decide(built: Built) -> None:
    assert built.vote() == Outcome.VOTED
    built.service.parts.watcher.decider.stop()  # type: ignore[union-attr]
    assert built.ledger.decided == []


def test_a_retry_that_begins_past_the_deadline_gives_up_as_at_the_deadline(built: Built) -> None:
    built.service.parts.watcher.voter.retry = RetryConfig(initial_seconds=0.01, max_seconds=0.01)
    built.ledger.proposals[PID] = proposal_record(deadline=stamp(NOW + timedelta(minutes=1)))

    class DeadlinePassesDuringTheFault(FakeStore):
        def get(self, uri: str, expected_sha256: str) -> bytes:
            built.ledger.proposals[PID] = proposal_record(deadline=stamp(NOW))
            raise StoreUnavailableError("connection refused")

    built.service.evaluation.store = DeadlinePassesDuringTheFault()
    assert built.vote() == Outcome.EXPIRED
    assert built.errors("gave_up") == 1.0
    gave_up = r"it gave up at the deadline after .*connection refused"
    with pytest.raises(NotFoundError, match=gave_up):
        built.service.parts.reports.get(PID)


def test_a_late_vote_is_given_up_after_a_few_faults_of_ours(built: Built) -> None:
    built.service.parts.watcher.voter.retry = RetryConfig(initial_seconds=0.01, max_seconds=0.01)
    built.ledger.proposals[PID] = proposal_record(status="EXPIRED")
    built.store.fault = StoreUnavailableError("connection refused")
    assert built.vote() == Outcome.GAVE_UP, "a decided proposal is not retried for ever"
    assert built.ledger.votes == []
    assert built.errors("gave_up") == 1.0
    assert built.errors("store_unavailable") == 5.0


def test_a_vote_invalidated_by_a_read_conflict_is_resubmitted_not_evaluated_again(
    built: Built,
) -> None:
    config = dataclasses.replace(
        built.service.config, retry=RetryConfig(initial_seconds=0.01, max_seconds=0.01)
    )
    built.service.parts.watcher.voter.retry = config.retry
    conflicts = iter([CommitError("tx-1", 11, 7)])  # 11: MVCC_READ_CONFLICT

    original = built.ledger.submit

    def submit_once_conflicting(function: str, args: Sequence[Argument] = ()) -> bytes:
        error = next(conflicts, None)
        if function == "CastVote" and error is not None:
            raise error
        return original(function, args)

    built.ledger.submit = submit_once_conflicting  # type: ignore[method-assign]
    assert built.vote() == Outcome.VOTED
    assert len(built.evaluator.calls) == 1
    assert len(built.ledger.votes) == 1
    conflicts_counted = built.service.metrics.registry.get_sample_value(
        "fedledger_validator_read_conflicts_total", {"path": "vote"}
    )
    assert conflicts_counted == 1.0


def test_a_proposal_is_fetched_scored_against_our_champion_score_and_voted(built: Built) -> None:
    built.ledger.champion_of("p-0", 0.85)
    assert built.vote() == Outcome.VOTED
    assert built.evaluator.calls == [(MODEL, "churn", 200, 0.85)]
    (vote,) = built.ledger.votes
    assert (vote["decision"], vote["metrics"], vote["holdoutRows"]) == (
        "approve",
        {"roc_auc": 0.9},
        200,
    )
    record = built.service.report(PID)
    assert (record.decision, record.champion_score, record.transaction_id) == (
        "approve",
        0.85,
        "t2",
    )


def test_a_uri_the_store_refuses_is_rejected_with_the_worst_score(built: Built) -> None:
    built.store.fault = InvalidUriError(f"{URI!r} is not an object of the store at /store")
    assert built.vote() == Outcome.VOTED
    (vote,) = built.ledger.votes
    assert vote["decision"] == "reject"
    assert vote["metrics"] == {"roc_auc": 0.0}
    assert vote["reason"] == (
        "not scored, invalid_uri: 'file://<path>' is not an object of the store at <path>"
    )
    assert built.evaluator.calls == []


@pytest.mark.parametrize(
    ("fault", "seen", "reason"),
    [
        (
            HashMismatchError(URI, SHA, "00" * 32),
            f"holds SHA-256 {'00' * 32}, expected SHA-256 {SHA}",
            f"hash_mismatch: the stored object has SHA-256 {'00' * 32}, not the proposal's {SHA}",
        ),
        (
            ObjectNotFoundError(URI),
            f"holds no object, expected SHA-256 {SHA}",
            "object_missing: the store has no object at the proposal's URI",
        ),
        (
            ModelTooLargeError(URI, 10**9, 10**8),
            "holds an object over the 100000000-byte limit, larger than the proposed model, "
            f"expected SHA-256 {SHA}",
            "unreadable: the stored object is over the 100000000-byte limit, larger than the model",
        ),
    ],
    ids=["hash-mismatch", "missing", "larger-than-proposed"],
)
def test_bytes_the_store_damaged_are_never_the_models_fault(
    built: Built, fault: Exception, seen: str, reason: str
) -> None:
    """Retried like any fault of ours; at the deadline an unavailable report, which counts for
    nothing and names the fault without the URI, and no vote, saying what was seen."""
    built.ledger.proposals[PID] = proposal_record(deadline=stamp(NOW + timedelta(seconds=1)))
    built.store.fault = fault
    assert built.vote() == Outcome.GAVE_UP
    assert [
        (v["decision"], v["metrics"], v["holdoutRows"], v["reason"]) for v in built.ledger.votes
    ] == [("unavailable", {}, 0, reason)]
    assert built.evaluator.calls == []
    assert (built.errors("model_bytes_unavailable"), built.errors("gave_up")) == (1.0, 1.0)
    with pytest.raises(NotFoundError) as info:
        built.service.report(PID)
    assert str(info.value) == (
        f"this validator did not vote on proposal {PID}: it gave up at the deadline after "
        f"model bytes unavailable: {URI} {seen}; putting the intact model in the store again "
        "repairs it"
    )


def fail_then_serve(store: FakeStore, faults: list[Exception]) -> None:
    """The store raises each of `faults` in turn, then serves the model."""
    original = store.get

    def get(uri: str, expected_sha256: str) -> bytes:
        if faults:
            raise faults.pop(0)
        return original(uri, expected_sha256)

    store.get = get  # type: ignore[method-assign]


def test_bytes_unavailable_attempts_in_a_row_are_reported_once_then_the_real_vote_replaces_it(
    built: Built,
) -> None:
    voter = built.service.parts.watcher.voter
    voter.retry = RetryConfig(initial_seconds=0.01, max_seconds=0.01, model_bytes_attempts=2)
    casts: list[str] = []
    original = built.ledger.submit

    def recording(function: str, args: Sequence[Argument] = ()) -> bytes:
        if function == "CastVote":
            casts.append(json.loads(str(args[0]))["decision"])
        return original(function, args)

    built.ledger.submit = recording  # type: ignore[method-assign]
    missing = ObjectNotFoundError(URI)
    fail_then_serve(built.store, [missing, missing, missing, missing])
    assert built.vote() == Outcome.VOTED
    assert casts == ["unavailable", "approve"]
    assert [v["decision"] for v in built.ledger.votes] == ["approve"]
    assert built.errors("model_bytes_unavailable") == 4.0
    counted = built.service.metrics.registry.get_sample_value(
        "fedledger_validator_votes_total", {"decision": "unavailable"}
    )
    assert counted == 1.0


def test_other_faults_between_bytes_faults_restart_the_count(built: Built) -> None:
    voter = built.service.parts.watcher.voter
    voter.retry = RetryConfig(initial_seconds=0.01, max_seconds=0.01, model_bytes_attempts=2)
    missing = ObjectNotFoundError(URI)
    down = StoreUnavailableError("connection refused")
    fail_then_serve(built.store, [missing, down, missing, down])
    assert built.vote() == Outcome.VOTED
    assert [v["decision"] for v in built.ledger.votes] == ["approve"]


def test_a_decided_proposal_gets_no_unavailable_report(built: Built) -> None:
    built.service.parts.watcher.voter.retry = RetryConfig(0.01, 0.01, model_bytes_attempts=1)
    built.ledger.proposals[PID] = proposal_record(status="EXPIRED")
    built.store.fault = HashMismatchError(URI, SHA, "00" * 32)
    assert built.vote() == Outcome.GAVE_UP
    assert built.ledger.votes == []


def test_an_unavailable_report_the_chaincode_refuses_is_logged_and_the_voter_goes_on(
    built: Built,
) -> None:
    built.service.parts.watcher.voter.retry = RetryConfig(0.01, 0.01, model_bytes_attempts=1)
    built.ledger.cast_refusal = "decision must be one of approve, reject, abstain, got x"
    missing = ObjectNotFoundError(URI)
    fail_then_serve(built.store, [missing, missing])
    # An older chaincode has no unavailable reports (its refusal carries no known code): the
    # voter retries the bytes and casts its real vote, which this ledger refuses too.
    assert built.vote() == Outcome.REFUSED
    assert built.ledger.votes == []


def test_a_schema_the_chaincode_hashes_otherwise_is_our_fault_not_the_models(
    built: Built,
) -> None:
    built.ledger.task = task_record(schemaSha256="ee" * 32)
    built.ledger.proposals[PID] = proposal_record(deadline=stamp(NOW + timedelta(seconds=1)))
    assert built.vote() == Outcome.GAVE_UP
    assert built.ledger.votes == []
    assert built.evaluator.calls == []
    assert (built.errors("schema"), built.errors("gave_up")) == (1.0, 1.0)


@pytest.mark.parametrize(
    ("setup", "outcome"),
    [
        (lambda b: None, Outcome.VOTED),
        (lambda b: b.ledger.votes.append(vote_record(CAST)), Outcome.ALREADY_VOTED),
        (
            lambda b: b.ledger.votes.append(
                vote_record(
                    CAST | {"decision": "unavailable", "metrics": {}, "reason": "unreadable"}
                )
            ),
            Outcome.VOTED,
        ),
        (
            lambda b: b.ledger.proposals.update({PID: proposal_record(electorate=["Org2MSP"])}),
            Outcome.NOT_IN_ELECTORATE,
        ),
        (
            lambda b: b.ledger.proposals.update({PID: proposal_record(deadline=stamp(NOW))}),
            Outcome.EXPIRED,
        ),
        # Decided before we voted: a late vote records our evaluation.
        (
            lambda b: b.ledger.proposals.update({PID: proposal_record(status="REJECTED")}),
            Outcome.VOTED,
        ),
        (
            lambda b: b.ledger.proposals.update(
                {PID: proposal_record(status="REJECTED", electorate=["Org2MSP"])}
            ),
            Outcome.CLOSED,
        ),
        # Accepted before we voted and still the champion: a late vote.
        (
            lambda b: (
                b.ledger.proposals.update({PID: proposal_record(status="ACCEPTED")}),
                b.ledger.champion_of(PID, 0.8),
            ),
            Outcome.VOTED,
        ),
        (
            lambda b: (
                b.ledger.proposals.update(
                    {PID: proposal_record(status="ACCEPTED", electorate=["Org2MSP"])}
                ),
                b.ledger.champion_of("p-2", 0.8),
            ),
            Outcome.CLOSED,
        ),
        (
            lambda b: setattr(
                b.ledger,
                "cast_refusal",
                f"[ALREADY_VOTED] vote refused: Org1MSP already voted on {PID}",
            ),
            Outcome.ALREADY_VOTED,
        ),
        (
            lambda b: setattr(
                b.ledger,
                "cast_refusal",
                f"[VOTING_ENDED] vote refused: voting on proposal {PID} ended",
            ),
            Outcome.REFUSED,
        ),
        # Decided while we evaluated (main's chaincode refuses a vote after the decision).
        (
            lambda b: setattr(
                b.ledger,
                "cast_refusal",
                f"[NOT_PENDING] vote refused: proposal {PID} is REJECTED, not PENDING",
            ),
            Outcome.CLOSED,
        ),
        (
            lambda b: b.ledger.proposals.update({PID: proposal_record(status="UNHEARD")}),
            Outcome.UNREADABLE,
        ),
        # Faults of ours one second before the deadline: retried no more.
        (
            lambda b: (
                b.ledger.proposals.update(
                    {PID: proposal_record(deadline=stamp(NOW + timedelta(seconds=1)))}
                ),
                setattr(b.store, "fault", StoreUnavailableError("connection refused")),
            ),
            Outcome.GAVE_UP,
        ),
        (
            lambda b: (
                b.ledger.proposals.update(
                    {PID: proposal_record(deadline=stamp(NOW + timedelta(seconds=1)))}
                ),
                (b.service.config.tasks["churn"]).write_text("not,the,schema\n1,2,3\n"),
            ),
            Outcome.GAVE_UP,
        ),
    ],
    ids=[
        "pending",
        "our-vote-on-the-ledger",
        "our-unavailable-report-on-the-ledger",
        "not-in-electorate",
        "deadline-passed",
        "decided",
        "decided-before-we-joined",
        "accepted-still-champion",
        "accepted-since-replaced",
        "chaincode-says-we-voted",
        "chaincode-refuses",
        "chaincode-says-decided",
        "unreadable-record",
        "store-down-near-deadline",
        "holdout-broken-near-deadline",
    ],
)
def test_what_the_voter_does_with_each_proposal(built: Built, setup: Any, outcome: Outcome) -> None:
    setup(built)
    assert built.vote() == outcome
    assert outcome.value == str(outcome)


def test_assess_scores_an_inline_model_without_the_store(built: Built) -> None:
    built.store.fault = StoreUnavailableError("never asked")
    assessment = built.service.evaluation.assess(Candidate("churn", b"inline"), wait=1)
    assert (assessment.report.score, assessment.champion_score, assessment.holdout_rows) == (
        0.9,
        None,
        200,
    )
    assert not assessment.model_fault


def test_assess_reports_the_models_fault_and_raises_ours(built: Built) -> None:
    candidate = Candidate("churn", ModelReference(URI, SHA))
    built.store.fault = InvalidUriError("not a URI")
    assert built.service.evaluation.assess(candidate, wait=1).report.error_code == "invalid_uri"
    built.store.fault = HashMismatchError(URI, SHA, "00" * 32)
    with pytest.raises(ModelBytesUnavailableError, match="model bytes unavailable") as info:
        built.service.evaluation.assess(candidate, wait=1)
    assert (info.value.expected, info.value.actual) == (SHA, "00" * 32)
    built.store.fault = StoreUnavailableError("connection refused")
    with pytest.raises(UnavailableError, match="the model store is unavailable"):
        built.service.evaluation.assess(candidate, wait=1)


def test_the_evaluate_call_turns_faults_into_its_errors(built: Built) -> None:
    evaluate = built.service.evaluate
    assert evaluate("churn", reference=(URI, SHA), inline=None).report.score == 0.9
    with pytest.raises(InvalidRequestError, match="either by reference"):
        evaluate("churn", reference=(URI, SHA), inline=MODEL)
    with pytest.raises(InvalidRequestError, match="64 lowercase hex"):
        evaluate("churn", reference=(URI, "ABC"), inline=None)
    with pytest.raises(NotFoundError, match="not served by this validator"):
        evaluate("other", reference=None, inline=MODEL)
    built.evaluator.error_code = "bad_graph"
    with pytest.raises(ModelRejectedError, match="bad_graph: bad graph"):
        evaluate("churn", reference=None, inline=MODEL)
    built.ledger.task = None
    with pytest.raises(NotFoundError, match="task churn does not exist"):
        evaluate("churn", reference=None, inline=MODEL)
    built.ledger.down = True
    with pytest.raises(UnavailableError, match="the ledger is unavailable"):
        evaluate("churn", reference=None, inline=MODEL)


def test_stopping_a_validator_that_never_started_closes_its_parts(built: Built) -> None:
    built.service.stop(grace=0)
    assert built.gateway.closed
    assert built.evaluator.closed


class AbortedError(Exception):
    pass


class Context:
    """The part of grpc.ServicerContext the servicer uses: abort ends the call."""

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise AbortedError(code, details)


def test_the_servicer_answers_with_the_report_or_the_status_code_of_the_error(
    built: Built,
) -> None:
    servicer = ValidatorServicer(built.service)
    request = validator_pb2.EvaluateRequest(task_id="churn", inline=MODEL)
    context = cast(grpc.ServicerContext, Context())
    reply = servicer.Evaluate(request, context)
    assert (reply.report.decision, reply.report.score, reply.report.holdout_rows) == (
        "approve",
        0.9,
        200,
    )
    built.evaluator.error_code = "bad_graph"
    with pytest.raises(AbortedError) as refused:
        servicer.Evaluate(request, context)
    assert refused.value.args == (grpc.StatusCode.INVALID_ARGUMENT, "bad_graph: bad graph")
    built.ledger.task = task_record(schemaSha256="ee" * 32)
    with pytest.raises(AbortedError) as not_ready:
        servicer.Evaluate(request, context)
    assert not_ready.value.args[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert "the two canonical encodings disagree" in not_ready.value.args[1]


def decided_event(status: str, proposal_id: str = PID) -> ChaincodeEvent:
    payload = {
        "taskId": "churn",
        "proposalId": proposal_id,
        "modelSha256": SHA,
        "uri": URI,
        "status": status,
        "reason": "vetoed by Org2MSP",
        "decidedAt": stamp(NOW),
        "decidedBy": "Org2MSP",
        "champion": None,
        "tally": {"approve": 0, "reject": 1, "abstain": 0},
    }
    return ChaincodeEvent(7, "t7", "fedledger", "ProposalDecided", json.dumps(payload).encode())


def _wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_decision_cancels_the_evaluation_which_is_cast_as_an_abstention(built: Built) -> None:
    built.evaluator.hang = True
    watcher = built.service.parts.watcher
    watcher.schedule(PID)
    _wait_until(lambda: built.evaluator.calls, "the evaluation never started")
    # Another proposal's decision, and this one's acceptance, cancel nothing.
    watcher._follow([decided_event("REJECTED", proposal_id="p-other"), decided_event("ACCEPTED")])
    time.sleep(0.1)
    assert watcher.pending == 1
    watcher._follow([decided_event("REJECTED")])
    _wait_until(lambda: watcher.pending == 0, "the voter did not finish")
    (vote,) = built.ledger.votes
    assert (vote["decision"], vote["metrics"], vote["holdoutRows"]) == ("abstain", {}, 1)
    assert re.fullmatch(
        r"evaluation cancelled: the proposal was decided \(REJECTED\) after \d+\.\d s",
        vote["reason"],
    ), vote["reason"]
    cancelled = built.service.metrics.registry.get_sample_value(
        "fedledger_validator_evaluations_cancelled_total", {"task": "churn"}
    )
    assert cancelled == 1.0
