"""fedledger.registry without a ledger: records, events, calls and errors over a fake contract."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from fedledger.fabric import ChaincodeEvent, EndorseError, ErrorDetail, EvaluateError
from fedledger.fabric.proposal import Argument
from fedledger.registry import (
    ChaincodeRefusalError,
    ChampionScored,
    Change,
    EventCounts,
    Origin,
    Policy,
    Proposal,
    ProposalDecided,
    ProposalSubmitted,
    RecordError,
    RefusalCode,
    Registry,
    Tally,
    TaskCreated,
    Vote,
    VoteCast,
    VoteSummary,
    parse_event,
    proposal_id_for,
)

SHA = "ab" * 32
PID = proposal_id_for("churn", SHA)
POLICY = {
    "quorum": 2,
    "approvalThreshold": 0.5,
    "minScore": 0.7,
    "maxRegression": None,
    "votingPeriodSeconds": 60,
    "maxModelBytes": 1000,
    "maxOpenProposalsPerOrg": 3,
}
PROPOSAL = {
    "docType": "proposal",
    "schemaVersion": 1,
    "id": PID,
    "taskId": "churn",
    "modelSha256": SHA,
    "uri": f"file:///m/sha256/{SHA}",
    "sizeBytes": 10,
    "format": "onnx",
    "proposer": "Org2MSP",
    "metrics": {"roc_auc": 0.8},
    "parent": None,
    "round": None,
    "electorate": ["Org1MSP", "Org2MSP"],
    "policy": POLICY,
    "metric": "roc_auc",
    "higherIsBetter": True,
    "status": "PENDING",
    "statusReason": "1 of 2 members voted (quorum 2); waiting for more votes",
    "tally": {
        "approve": 1,
        "reject": 0,
        "abstain": 0,
        "votes": {"Org1MSP": {"decision": "approve", "score": 0.9, "regression": None}},
    },
    "createdAt": "2026-01-02T03:04:05.678Z",
    "deadline": "2026-01-02T03:05:05.678Z",
    "decidedAt": None,
    "txId": "t1",
}
VOTE = {
    "docType": "vote",
    "schemaVersion": 1,
    "proposalId": PID,
    "taskId": "churn",
    "voter": "Org1MSP",
    "decision": "approve",
    "metrics": {"roc_auc": 0.9},
    "score": 0.9,
    "holdoutRows": 100,
    "evaluatorVersion": "e/1",
    "reason": "",
    "castAt": "2026-01-02T03:04:06.000Z",
    "txId": "t2",
}


class FakeContract:
    """Records calls and answers with canned bytes or errors, in order."""

    def __init__(self, *answers: Any, contract_name: str | None = None) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, list[Argument]]] = []
        self.contract_name = contract_name

    def _answer(self, kind: str, function: str, args: Sequence[Argument]) -> bytes:
        self.calls.append((kind, function, list(args)))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    def evaluate(self, function: str, args: Sequence[Argument] = ()) -> bytes:
        return self._answer("evaluate", function, args)

    def submit(self, function: str, args: Sequence[Argument] = ()) -> bytes:
        return self._answer("submit", function, args)


def refusal(message: str, error_type: type = EndorseError) -> Exception:
    detail = ErrorDetail("peer0:7051", "Org1MSP", f"chaincode response 500, {message}")
    error: Exception = error_type(
        "tx9", grpc.StatusCode.ABORTED, "failed to endorse transaction", [detail]
    )
    return error


def test_a_proposal_record_is_parsed_with_types() -> None:
    proposal = Proposal.from_dict(PROPOSAL)
    assert proposal.id == PID
    assert proposal.electorate == ("Org1MSP", "Org2MSP")
    assert proposal.policy == Policy(2, 0.5, 0.7, None, 60, 1000, 3)
    assert proposal.tally.cast == 1
    assert proposal.tally.votes["Org1MSP"].score == 0.9
    assert proposal.created_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert proposal.decided_at is None
    assert proposal.pending


def test_policy_round_trips_to_the_chaincode_field_names() -> None:
    assert Policy.from_dict(POLICY).to_dict() == POLICY


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("modelSha256"), "proposal.modelSha256 is missing"),
        (lambda d: d.update(sizeBytes="10"), "proposal.sizeBytes must be an integer, got '10'"),
        (lambda d: d.update(sizeBytes=True), "proposal.sizeBytes must be an integer, got True"),
        (
            lambda d: d.update(status="LOST"),
            "proposal.status must be one of PENDING, ACCEPTED, REJECTED, EXPIRED, REVOKED",
        ),
        (
            lambda d: d["policy"].update(quorum=None),
            "proposal.policy.quorum must be an integer, got None",
        ),
        (
            lambda d: d["tally"]["votes"]["Org1MSP"].update(decision="maybe"),
            "proposal.tally.votes.Org1MSP.decision must be one of approve, reject, abstain",
        ),
        (
            lambda d: d.update(deadline="tomorrow"),
            "proposal.deadline must be an ISO 8601 time, got 'tomorrow'",
        ),
        (lambda d: d.update(electorate=["Org1MSP", 2]), "proposal.electorate[1] must be a string"),
        (
            lambda d: d["metrics"].update(roc_auc="high"),
            "proposal.metrics.roc_auc must be a number, got 'high'",
        ),
        # bool is an int in Python; it is never read where a number belongs.
        (
            lambda d: d["metrics"].update(roc_auc=True),
            "proposal.metrics.roc_auc must be a number, got True",
        ),
        (
            lambda d: d["policy"].update(approvalThreshold=False),
            "proposal.policy.approvalThreshold must be a number, got False",
        ),
        (lambda d: d.update(sizeBytes=10.0), "proposal.sizeBytes must be an integer, got 10.0"),
        (lambda d: d.update(higherIsBetter=1), "proposal.higherIsBetter must be a boolean, got 1"),
        (lambda d: d.update(uri=5), "proposal.uri must be a string, got 5"),
        (lambda d: d.update(parent=5), "proposal.parent must be a string, got 5"),
        (lambda d: d.update(status=5), "proposal.status must be a string, got 5"),
        (lambda d: d.update(createdAt=5), "proposal.createdAt must be a string, got 5"),
        (
            lambda d: d.update(decidedAt="soon"),
            "proposal.decidedAt must be an ISO 8601 time, got 'soon'",
        ),
        (lambda d: d.update(electorate="Org1MSP"), "proposal.electorate must be a list, got"),
        (lambda d: d.update(metrics=[]), "proposal.metrics must be an object, got []"),
        (lambda d: d.update(policy=None), "proposal.policy must be a JSON object, got NoneType"),
        (lambda d: d["tally"].pop("abstain"), "proposal.tally.abstain is missing"),
        (lambda d: d.pop("txId"), "proposal.txId is missing"),
        (
            lambda d: d["tally"]["votes"]["Org1MSP"].update(score="0.9"),
            "proposal.tally.votes.Org1MSP.score must be a number, got '0.9'",
        ),
    ],
)
def test_a_record_the_package_cannot_read_names_the_field(change: Any, message: str) -> None:
    document = copy.deepcopy(PROPOSAL)
    change(document)
    with pytest.raises(RecordError) as error:
        Proposal.from_dict(document)
    assert str(error.value).startswith(message)


def test_a_record_that_is_not_an_object_is_named() -> None:
    with pytest.raises(RecordError, match=r"^proposal must be a JSON object, got list$"):
        Proposal.from_dict([PROPOSAL])
    with pytest.raises(RecordError, match=r"^GetVotes\[0\] must be a JSON object, got str$"):
        Vote.from_dict("vote", "GetVotes[0]")


def test_optional_fields_may_be_absent_or_null_and_numbers_are_floats() -> None:
    document = copy.deepcopy(PROPOSAL)
    for key in ("parent", "round", "decidedAt"):
        del document[key]
    del document["policy"]["maxRegression"]
    document["metrics"] = {"roc_auc": 1}
    document["tally"]["votes"]["Org1MSP"] = {"decision": "abstain"}
    proposal = Proposal.from_dict(document)
    assert (proposal.parent, proposal.round, proposal.decided_at) == (None, None, None)
    assert proposal.policy.max_regression is None
    assert proposal.metrics == {"roc_auc": 1.0}
    assert isinstance(proposal.metrics["roc_auc"], float)
    assert proposal.tally.votes["Org1MSP"] == VoteSummary("abstain", None, None)
    assert Proposal.from_dict({**PROPOSAL, "parent": "p-1"}).parent == "p-1"


def test_records_are_the_frozen_dataclasses_callers_build() -> None:
    proposal = Proposal.from_dict(PROPOSAL)
    assert type(proposal) is Proposal
    assert type(proposal.policy) is Policy
    assert type(proposal.tally) is Tally
    assert proposal.policy == Policy(2, 0.5, 0.7, None, 60, 1000, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        proposal.status = "ACCEPTED"  # type: ignore[misc]
    assert proposal == Proposal.from_dict(copy.deepcopy(PROPOSAL))


def test_a_change_names_its_policy_when_it_has_one() -> None:
    change = {
        "docType": "change",
        "id": "c-1",
        "taskId": "churn",
        "type": "updatePolicy",
        "policy": POLICY,
        "reason": "r",
        "proposer": "Org1MSP",
        "approvals": ["Org1MSP"],
        "rejections": [],
        "status": "PENDING",
        "statusReason": "waiting",
        "createdAt": "2026-01-02T03:04:05Z",
        "deadline": "2026-01-02T03:05:05Z",
        "txId": "t",
    }
    parsed = Change.from_dict(change)
    assert parsed.policy == Policy.from_dict(POLICY)
    assert (parsed.member, parsed.decided_at) == (None, None)
    assert Change.from_dict({**change, "type": "addMember", "policy": None}).policy is None
    with pytest.raises(RecordError, match=r"^change\.policy is missing$"):
        Change.from_dict({k: v for k, v in change.items() if k != "policy"})
    with pytest.raises(RecordError, match=r"^change\.type must be one of updatePolicy, addMember"):
        Change.from_dict({**change, "type": "rename"})


def test_calls_route_to_the_registry_contract_and_send_canonical_json() -> None:
    fake = FakeContract({"vote": VOTE, "proposal": PROPOSAL})
    result = Registry(fake).cast_vote(
        PID,
        decision="approve",
        metrics={"roc_auc": 0.9},
        holdout_rows=100,
        evaluator_version="e/1",
    )
    assert result.vote.voter == "Org1MSP"
    assert not result.decided
    [(kind, function, args)] = fake.calls
    assert (kind, function) == ("submit", "registry:CastVote")
    assert args == [
        '{"decision":"approve","evaluatorVersion":"e/1","holdoutRows":100,'
        f'"metrics":{{"roc_auc":0.9}},"proposalId":"{PID}","reason":""}}'
    ]


def test_a_late_vote_returns_the_champion_it_scored() -> None:
    accepted = {**PROPOSAL, "status": "ACCEPTED"}
    champion = {
        "docType": "champion",
        "schemaVersion": 1,
        "taskId": "churn",
        "proposalId": PID,
        "modelSha256": SHA,
        "uri": "file:///x",
        "sizeBytes": 10,
        "format": "onnx",
        "scores": {"Org1MSP": 0.8, "Org2MSP": 0.75},
        "lineage": [],
        "since": "2026-01-02T03:04:07.000Z",
        "txId": "tx9",
    }
    fake = FakeContract({"vote": VOTE, "proposal": accepted, "champion": champion})
    result = Registry(fake).cast_vote(
        PID, decision="approve", metrics={"roc_auc": 0.8}, holdout_rows=100, evaluator_version="e"
    )
    assert result.late
    assert result.champion is not None
    assert result.champion.scores == {"Org1MSP": 0.8, "Org2MSP": 0.75}
    counted = Registry(FakeContract({"vote": VOTE, "proposal": PROPOSAL})).cast_vote(
        PID, decision="approve", metrics={"roc_auc": 0.8}, holdout_rows=100, evaluator_version="e"
    )
    assert not counted.late
    assert counted.champion is None
    recorded = Registry(FakeContract({"vote": VOTE, "proposal": accepted, "late": True})).cast_vote(
        PID, decision="approve", metrics={"roc_auc": 0.8}, holdout_rows=100, evaluator_version="e"
    )
    assert (recorded.late, recorded.champion) == (True, None)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"proposal": PROPOSAL}, "CastVote result.vote is missing"),
        (
            {"vote": {**VOTE, "holdoutRows": "100"}, "proposal": PROPOSAL},
            "CastVote result.vote.holdoutRows must be an integer, got '100'",
        ),
        (
            {"vote": VOTE, "proposal": {**PROPOSAL, "tally": []}},
            "CastVote result.proposal.tally must be a JSON object, got list",
        ),
        ([], "CastVote result must be a JSON object, got list"),
    ],
)
def test_a_vote_result_the_package_cannot_read_names_the_field(reply: Any, message: str) -> None:
    with pytest.raises(RecordError) as error:
        Registry(FakeContract(reply)).cast_vote(
            PID, decision="approve", metrics={}, holdout_rows=1, evaluator_version="e"
        )
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            {"records": [PROPOSAL, {**PROPOSAL, "sizeBytes": True}], "bookmark": "", "fetched": 2},
            "ListProposals result.records[1].sizeBytes must be an integer, got True",
        ),
        (
            {"records": [], "bookmark": None, "fetched": 0},
            "ListProposals result.bookmark must be a string, got None",
        ),
        ({"records": {}, "bookmark": "", "fetched": 0}, "ListProposals result.records must be a"),
        ({"bookmark": "", "fetched": 0}, "ListProposals result.records is missing"),
    ],
)
def test_a_page_the_package_cannot_read_names_the_field(reply: Any, message: str) -> None:
    with pytest.raises(RecordError) as error:
        Registry(FakeContract(reply)).list_proposals()
    assert str(error.value).startswith(message)


def test_a_contract_already_named_registry_gets_bare_function_names() -> None:
    fake = FakeContract(PROPOSAL, contract_name="registry")
    Registry(fake).get_proposal(PID)
    assert fake.calls == [("evaluate", "GetProposal", [PID])]


def test_a_chaincode_refusal_carries_its_code_and_the_chaincode_message() -> None:
    text = f"vote refused: Org1MSP already voted on proposal {PID}"
    fake = FakeContract(refusal(f"[ALREADY_VOTED] {text}"))
    with pytest.raises(ChaincodeRefusalError) as refused:
        Registry(fake).cast_vote(
            PID, decision="reject", metrics={}, holdout_rows=1, evaluator_version="e"
        )
    assert refused.value.code is RefusalCode.ALREADY_VOTED
    assert str(refused.value) == text
    assert refused.value.message == text
    assert refused.value.chaincode_message == f"[ALREADY_VOTED] {text}"
    assert refused.value.function == "CastVote"
    assert refused.value.transaction_id == "tx9"
    assert isinstance(refused.value.__cause__, EndorseError)


def test_a_refusal_of_a_chaincode_without_codes_is_unknown_and_kept_whole() -> None:
    text = f"vote refused: Org1MSP already voted on proposal {PID}"
    with pytest.raises(ChaincodeRefusalError) as refused:
        Registry(FakeContract(refusal(text))).cast_vote(
            PID, decision="reject", metrics={}, holdout_rows=1, evaluator_version="e"
        )
    assert refused.value.code is RefusalCode.UNKNOWN
    assert refused.value.message == text


def test_failures_that_are_not_the_chaincode_pass_through_unchanged() -> None:
    unavailable = EvaluateError("tx8", grpc.StatusCode.UNAVAILABLE, "connection refused")
    with pytest.raises(EvaluateError) as raised:
        Registry(FakeContract(unavailable)).get_task("churn")
    assert raised.value is unavailable


def test_find_champion_is_none_only_when_there_is_none_yet() -> None:
    none_yet = refusal(
        "[NO_CHAMPION] query refused: task churn has no champion yet; "
        "none of its proposals has been accepted",
        EvaluateError,
    )
    assert Registry(FakeContract(none_yet)).find_champion("churn") is None
    missing = refusal(
        "[TASK_NOT_FOUND] query refused: task nope does not exist; list tasks", EvaluateError
    )
    with pytest.raises(ChaincodeRefusalError) as raised:
        Registry(FakeContract(missing)).find_champion("nope")
    assert raised.value.code is RefusalCode.TASK_NOT_FOUND
    # The English words alone no longer make a refusal "no champion": only the code does.
    uncoded = refusal("query refused: task churn has no champion yet", EvaluateError)
    with pytest.raises(ChaincodeRefusalError):
        Registry(FakeContract(uncoded)).find_champion("churn")


def test_list_queries_and_paging() -> None:
    page1 = {"records": [PROPOSAL], "bookmark": "b1", "fetched": 1}
    page2 = {"records": [PROPOSAL], "bookmark": "", "fetched": 1}
    fake = FakeContract(page1, page2)
    found = list(Registry(fake).all_proposals(task_id="churn", status="PENDING"))
    assert len(found) == 2
    assert [args for _, _, args in fake.calls] == [
        ['{"status":"PENDING","taskId":"churn"}'],
        ['{"bookmark":"b1","status":"PENDING","taskId":"churn"}'],
    ]
    empty = FakeContract({"records": [], "bookmark": "", "fetched": 0})
    assert Registry(empty).list_tasks().records == ()
    assert empty.calls == [("evaluate", "registry:ListTasks", [""])]


def test_all_changes_walks_every_page_and_close_expired_change_submits() -> None:
    change = {
        "docType": "change",
        "id": "c-1",
        "taskId": "churn",
        "type": "revokeChampion",
        "policy": None,
        "reason": "",
        "proposer": "Org1MSP",
        "approvals": ["Org1MSP"],
        "rejections": [],
        "status": "PENDING",
        "statusReason": "",
        "createdAt": "2026-01-02T03:04:05Z",
        "deadline": "2026-01-02T03:05:05Z",
        "txId": "t",
    }
    page1 = {"records": [change], "bookmark": "b1", "fetched": 1}
    page2 = {"records": [{**change, "id": "c-2"}], "bookmark": "", "fetched": 1}
    fake = FakeContract(page1, page2, {**change, "status": "EXPIRED"})
    registry = Registry(fake)
    assert [c.id for c in registry.all_changes("churn")] == ["c-1", "c-2"]
    assert registry.close_expired_change("c-1").status == "EXPIRED"
    assert [(kind, function, args) for kind, function, args in fake.calls] == [
        ("evaluate", "registry:ListChanges", ['{"taskId":"churn"}']),
        ("evaluate", "registry:ListChanges", ['{"bookmark":"b1","taskId":"churn"}']),
        ("submit", "registry:CloseExpired", ["c-1"]),
    ]


def test_history_is_parsed_by_doc_type_and_reversed_for_proposals() -> None:
    later = dict(PROPOSAL, status="ACCEPTED", txId="t3", decidedAt="2026-01-02T03:04:07Z")
    reply = {
        "key": f"proposal/{PID}",
        "entries": [
            {"txId": "t3", "timestamp": "2026-01-02T03:04:07Z", "isDelete": False, "value": later},
            {
                "txId": "t1",
                "timestamp": "2026-01-02T03:04:05Z",
                "isDelete": False,
                "value": PROPOSAL,
            },
        ],
    }
    registry = Registry(FakeContract(reply, reply))
    entries = registry.history("proposal", PID)
    assert [e.transaction_id for e in entries] == ["t3", "t1"]
    assert [p.status for p in registry.proposal_history(PID)] == ["PENDING", "ACCEPTED"]
    with pytest.raises(ValueError, match="history is kept for task, proposal, champion, change"):
        registry.history("vote", PID)


def test_history_refuses_a_record_of_another_type() -> None:
    reply = {
        "key": "k",
        "entries": [
            {"txId": "t", "timestamp": "2026-01-02T03:04:07Z", "isDelete": False, "value": VOTE}
        ],
    }
    with pytest.raises(RecordError, match=r"entries\[0\].value.docType is 'vote', expected"):
        Registry(FakeContract(reply)).history("proposal", PID)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"isDelete": "no"}, "GetHistory result.entries[0].isDelete must be a boolean, got 'no'"),
        ({"timestamp": "now"}, "GetHistory result.entries[0].timestamp must be an ISO 8601 time"),
        ({"value": {**PROPOSAL, "uri": None}}, "GetHistory result.entries[0].value.uri must be"),
    ],
)
def test_a_history_the_package_cannot_read_names_the_field(entry: Any, message: str) -> None:
    version = {"txId": "t", "timestamp": "2026-01-02T03:04:07Z", "isDelete": False}
    reply = {"key": "k", "entries": [{**version, "value": PROPOSAL, **entry}]}
    with pytest.raises(RecordError) as error:
        Registry(FakeContract(reply)).history("proposal", PID)
    assert str(error.value).startswith(message)
    with pytest.raises(RecordError, match=r"^GetHistory result\.entries must be a list, got 3$"):
        Registry(FakeContract({"entries": 3})).history("proposal", PID)


def test_a_deleted_record_has_no_value_in_history() -> None:
    reply = {
        "key": "k",
        "entries": [
            {"txId": "t", "timestamp": "2026-01-02T03:04:07Z", "isDelete": True, "value": None}
        ],
    }
    [entry] = Registry(FakeContract(reply)).history("champion", "churn")
    assert entry.is_delete
    assert entry.record is None


def test_proposal_ids_match_the_chaincode() -> None:
    # chaincode/src/proposals.ts: "p-" + sha256(taskId + "\0" + modelSha256)[:32]
    assert (
        proposal_id_for("t", "0" * 64)
        == "p-" + hashlib.sha256(b"t\x00" + b"0" * 64).hexdigest()[:32]
    )


def event(name: str, payload: Any) -> ChaincodeEvent:
    return ChaincodeEvent(7, "tx7", "fedledger", name, json.dumps(payload).encode())


def test_registry_events_are_parsed() -> None:
    created = parse_event(
        event(
            "TaskCreated",
            {
                "taskId": "churn",
                "schemaSha256": SHA,
                "metric": "roc_auc",
                "members": ["Org1MSP"],
                "createdBy": "Org1MSP",
            },
        )
    )
    assert isinstance(created, TaskCreated)
    assert created.origin.block_number == 7
    submitted = parse_event(
        event(
            "ProposalSubmitted",
            {
                "taskId": "churn",
                "proposalId": PID,
                "modelSha256": SHA,
                "uri": "file:///x",
                "sizeBytes": 10,
                "format": "onnx",
                "proposer": "Org2MSP",
                "parent": None,
                "round": None,
                "deadline": "2026-01-02T03:05:05.678Z",
                "electorate": ["Org1MSP", "Org2MSP"],
            },
        )
    )
    assert isinstance(submitted, ProposalSubmitted)
    assert submitted.electorate == ("Org1MSP", "Org2MSP")
    cast = parse_event(
        event(
            "VoteCast",
            {
                "taskId": "churn",
                "proposalId": PID,
                "voter": "Org1MSP",
                "decision": "abstain",
                "score": None,
                "tally": {"approve": 0, "reject": 0, "abstain": 1},
            },
        )
    )
    assert isinstance(cast, VoteCast)
    assert cast.score is None
    assert (cast.late, cast.tally) == (False, EventCounts(0, 0, 1))
    recorded = parse_event(
        event(
            "VoteCast",
            {
                "taskId": "churn",
                "proposalId": PID,
                "voter": "Org1MSP",
                "decision": "approve",
                "score": 0.8,
                "late": True,
            },
        )
    )
    assert isinstance(recorded, VoteCast)
    assert (recorded.late, recorded.tally) == (True, None)
    decided = parse_event(
        event(
            "ProposalDecided",
            {
                "taskId": "churn",
                "proposalId": PID,
                "modelSha256": SHA,
                "uri": "file:///x",
                "status": "ACCEPTED",
                "reason": "2 of 2",
                "decidedAt": "2026-01-02T03:04:07.000Z",
                "decidedBy": "Org2MSP",
                "champion": PID,
                "tally": {"approve": 2, "reject": 0, "abstain": 0},
            },
        )
    )
    assert isinstance(decided, ProposalDecided)
    assert decided.champion == PID
    scored = parse_event(
        event(
            "ChampionScored",
            {
                "taskId": "churn",
                "proposalId": PID,
                "voter": "Org3MSP",
                "decision": "reject",
                "score": 0.71,
            },
        )
    )
    assert isinstance(scored, ChampionScored)
    assert (scored.proposal_id, scored.voter, scored.decision, scored.score) == (
        PID,
        "Org3MSP",
        "reject",
        0.71,
    )


def test_other_events_are_not_registry_events() -> None:
    assert parse_event(event("Heartbeat", {"name": "x", "count": 1})) is None
    assert parse_event(event("ChangeProposed", {})) is None


def test_a_broken_event_payload_is_named() -> None:
    with pytest.raises(RecordError, match="VoteCast event of transaction tx7: the payload"):
        parse_event(ChaincodeEvent(7, "tx7", "fedledger", "VoteCast", b"{not json"))
    with pytest.raises(RecordError, match=r"VoteCast event of transaction tx7\.voter is missing"):
        parse_event(event("VoteCast", {"taskId": "churn", "proposalId": PID}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"voter": 5}, "VoteCast event of transaction tx7.voter must be a string, got 5"),
        ({"decision": True}, "VoteCast event of transaction tx7.decision must be a string, got"),
        ({"decision": "yes"}, "VoteCast event of transaction tx7.decision must be one of approve"),
        ({"score": True}, "VoteCast event of transaction tx7.score must be a number, got True"),
        ({"tally": 5}, "VoteCast event of transaction tx7.tally must be a JSON object, got"),
        ({"late": "yes"}, "VoteCast event of transaction tx7.late must be"),
        (
            {"tally": {"approve": 1, "reject": 0, "abstain": False}},
            "VoteCast event of transaction tx7.tally.abstain must be an integer, got False",
        ),
    ],
)
def test_an_event_the_package_cannot_read_names_the_field(change: Any, message: str) -> None:
    payload = {
        "taskId": "churn",
        "proposalId": PID,
        "voter": "Org1MSP",
        "decision": "approve",
        "score": 0.9,
        "tally": {"approve": 1, "reject": 0, "abstain": 0},
    }
    with pytest.raises(RecordError) as error:
        parse_event(event("VoteCast", {**payload, **change}))
    assert str(error.value).startswith(message)
    with pytest.raises(RecordError, match=r"^VoteCast event of transaction tx7 must be a JSON obj"):
        parse_event(event("VoteCast", [payload]))
    cast = parse_event(event("VoteCast", {k: v for k, v in payload.items() if k != "score"}))
    assert cast == VoteCast(
        Origin(7, "tx7"), "churn", PID, "Org1MSP", "approve", None, late=False, tally=counts()
    )


def counts() -> EventCounts:
    return EventCounts(1, 0, 0)


def test_every_error_of_the_package_has_one_root() -> None:
    """Callers catch RegistryError: a record the chaincode wrote and we cannot read is one."""
    from fedledger.registry.errors import ChaincodeRefusalError, RecordError, RegistryError

    assert issubclass(RecordError, RegistryError)
    assert issubclass(ChaincodeRefusalError, RegistryError)
    with pytest.raises(RegistryError, match="VoteCast event of transaction tx7: the payload"):
        parse_event(ChaincodeEvent(7, "tx7", "fedledger", "VoteCast", b"{not json"))


def test_an_expiry_with_unavailable_reports_reads_with_its_reason_and_count() -> None:
    """Chaincode 0.3's ProposalDecided: the reason names the reporting members, the tally
    counts their reports apart; a VoteCast may carry the decision `unavailable`."""
    reason = (
        "model bytes unavailable to Org1MSP, Org2MSP (hash_mismatch); "
        "re-upload the model and propose it again"
    )
    decided = parse_event(
        event(
            "ProposalDecided",
            {
                "taskId": "churn",
                "proposalId": PID,
                "modelSha256": SHA,
                "uri": "file:///x",
                "status": "EXPIRED",
                "reason": reason,
                "decidedAt": "2026-01-02T03:04:07.000Z",
                "decidedBy": "Org2MSP",
                "champion": None,
                "tally": {"approve": 1, "reject": 0, "abstain": 0, "unavailable": 2},
            },
        )
    )
    assert isinstance(decided, ProposalDecided)
    assert (decided.status, decided.reason, decided.tally) == (
        "EXPIRED",
        reason,
        EventCounts(1, 0, 0, unavailable=2),
    )
    reported = parse_event(
        event(
            "VoteCast",
            {
                "taskId": "churn",
                "proposalId": PID,
                "voter": "Org1MSP",
                "decision": "unavailable",
                "score": None,
                "late": False,
            },
        )
    )
    assert isinstance(reported, VoteCast)
    assert (reported.decision, reported.score) == ("unavailable", None)
