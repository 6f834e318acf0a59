"""The registry facade against a running ledger (every backend available); also issue 11's tests.

Each organisation connects once, from the connection profile, with its own identity: what the
ledger records as voter, proposer or creator is whatever organisation signed the transaction.
Every test uses its own task ids, since the ledger is shared by the whole session.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from fedledger.fabric import ChaincodeEvent, CommitError, Contract, EndorseError, Network, connect
from fedledger.models.synthetic import synthetic_schema
from fedledger.registry import (
    ChaincodeRefusalError,
    ChampionScored,
    Policy,
    Proposal,
    ProposalDecided,
    ProposalSubmitted,
    RefusalCode,
    Registry,
    RegistryEvent,
    TaskCreated,
    VoteCast,
    parse_event,
    proposal_id_for,
)
from fedledger.runtime.health import wait_for

from .everywhere import CommittedEverywhere

pytestmark = [pytest.mark.ledger, pytest.mark.slow, pytest.mark.fabric22]

ORGS = ("Org1MSP", "Org2MSP", "Org3MSP")
SCHEMA = synthetic_schema().to_dict()
EVALUATOR = "fedledger-test/1"


def policy(**overrides: Any) -> Policy:
    fields: dict[str, Any] = {
        "quorum": 3,
        "approval_threshold": 0.6,
        "min_score": None,
        "max_regression": None,
        "voting_period_seconds": 3600,
        "max_model_bytes": 1_000_000,
        "max_open_proposals_per_org": 5,
    }
    fields.update(overrides)
    return Policy(**fields)


@pytest.fixture(scope="module", params=["gateway", "peer"])
def protocol(request: pytest.FixtureRequest, ledger: Any) -> str:
    """The registry over each protocol: its refusal codes must read the same on both."""
    if request.param == "gateway" and ledger.backend == "fabric-2.2":
        pytest.skip("Fabric 2.2 has no Gateway service: its peers speak the older protocol only")
    return str(request.param)


@pytest.fixture(scope="module")
def networks(ledger: Any, protocol: str) -> Iterator[dict[str, Network]]:
    """One connection per organisation, as its own user, for the whole module."""
    with ExitStack() as stack:
        yield {
            msp_id: stack.enter_context(connect(ledger.profile, msp_id, protocol=protocol)).network(
                ledger.profile.channel
            )
            for msp_id in ORGS
        }


@pytest.fixture(scope="module")
def contracts(ledger: Any, networks: dict[str, Network]) -> dict[str, Contract]:
    return {msp: network.contract(ledger.profile.chaincode) for msp, network in networks.items()}


@pytest.fixture(scope="module")
def registries(contracts: dict[str, Contract], networks: dict[str, Network]) -> dict[str, Registry]:
    """Each organisation's registry; a write returns once every peer has committed it, as the
    tests act as one organisation after another."""
    peers = list(networks.values())
    return {msp: Registry(CommittedEverywhere(c, peers)) for msp, c in contracts.items()}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def model_hash() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def new_task(registries: dict[str, Registry], **policy_overrides: Any) -> str:
    task_id = unique("task")
    registries["Org1MSP"].create_task(
        task_id,
        schema=SCHEMA,
        metric="roc_auc",
        members=list(ORGS),
        policy=policy(**policy_overrides),
        description="registry integration test",
    )
    return task_id


def propose(registry: Registry, task_id: str, **extra: Any) -> Proposal:
    sha = model_hash()
    return registry.submit_proposal(
        task_id,
        model_sha256=sha,
        uri=f"file:///models/sha256/{sha}",
        size_bytes=1234,
        metrics={"roc_auc": 0.8},
        **extra,
    )


def approve(registry: Registry, proposal_id: str, score: float = 0.81) -> Any:
    return registry.cast_vote(
        proposal_id,
        decision="approve",
        metrics={"roc_auc": score},
        holdout_rows=1000,
        evaluator_version=EVALUATOR,
        reason="meets the policy",
    )


class Collector:
    """Registry events from a block on, parsed, on a thread."""

    def __init__(self, ledger: Any, start_block: int, protocol: str) -> None:
        self._gateway = connect(ledger.profile, "Org3MSP", protocol=protocol)
        network = self._gateway.network(ledger.profile.channel)
        self.stream = network.chaincode_events(ledger.profile.chaincode, start_block=start_block)
        self.events: list[tuple[ChaincodeEvent, RegistryEvent]] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for event in self.stream:
            parsed = parse_event(event)
            if parsed is not None:
                with self._changed:
                    self.events.append((event, parsed))
                    self._changed.notify_all()

    def wait_for(self, proposal_id: str, kind: type, timeout: float = 30.0) -> RegistryEvent:
        def found() -> RegistryEvent | None:
            for _, event in self.events:
                if isinstance(event, kind) and getattr(event, "proposal_id", None) == proposal_id:
                    return event
            return None

        with self._changed:
            self._changed.wait_for(lambda: found() is not None, timeout)
            event = found()
        assert event is not None, f"no {kind.__name__} for {proposal_id} within {timeout} s"
        return event

    def close(self) -> None:
        self.stream.close()
        self._thread.join(timeout=10)
        self._gateway.close()


def test_three_organisations_accept_a_proposal_and_the_champion_changes(
    ledger: Any, protocol: str, registries: dict[str, Registry]
) -> None:
    events = Collector(ledger, block_height(ledger), protocol)
    try:
        task_id = new_task(registries)
        assert registries["Org2MSP"].find_champion(task_id) is None

        first = propose(registries["Org2MSP"], task_id)
        assert first.id == proposal_id_for(task_id, first.model_sha256)
        assert first.proposer == "Org2MSP"
        assert first.status == "PENDING"
        assert first.electorate == ORGS
        assert first.parent is None

        scores = (0.80, 0.81, 0.82)
        outcomes = [
            approve(registries[msp], first.id, s) for msp, s in zip(ORGS, scores, strict=True)
        ]
        assert [o.vote.voter for o in outcomes] == list(ORGS)
        assert [(o.proposal.status, o.late) for o in outcomes] == [("PENDING", False)] * 3
        counted = registries["Org1MSP"].get_proposal(first.id)
        assert (counted.status, counted.tally.approve) == ("PENDING", 3)
        assert counted.status_reason.startswith("the votes decide ACCEPTED")
        accepted = registries["Org3MSP"].decide(first.id)
        assert accepted == registries["Org2MSP"].get_proposal(first.id)
        assert (accepted.status, accepted.tally.approve) == ("ACCEPTED", 3)
        assert accepted.decided_at is not None
        assert accepted.status_reason.startswith("3 of 3 approve or reject votes approve")

        champion = registries["Org1MSP"].get_champion(task_id)
        assert champion.proposal_id == first.id
        assert champion.model_sha256 == first.model_sha256
        assert champion.scores == {"Org1MSP": 0.80, "Org2MSP": 0.81, "Org3MSP": 0.82}
        assert champion.lineage == ()

        second = propose(registries["Org3MSP"], task_id, parent=first.id)
        assert second.parent == first.id
        for msp in ORGS:
            approve(registries[msp], second.id, 0.85)
        registries["Org1MSP"].decide(second.id)
        replaced = registries["Org2MSP"].get_champion(task_id)
        assert replaced.proposal_id == second.id
        assert replaced.lineage == (first.id,)

        submitted = events.wait_for(first.id, ProposalSubmitted)
        assert isinstance(submitted, ProposalSubmitted)
        assert submitted.model_sha256 == first.model_sha256
        assert submitted.proposer == "Org2MSP"
        assert submitted.deadline == first.deadline
        assert submitted.origin.transaction_id == first.transaction_id
        decided = events.wait_for(first.id, ProposalDecided)
        assert isinstance(decided, ProposalDecided)
        assert decided.status == "ACCEPTED"
        assert decided.champion == first.id
        assert decided.decided_by == "Org3MSP"
        assert (decided.tally.approve, decided.tally.reject, decided.tally.abstain) == (3, 0, 0)
        assert champion.transaction_id == decided.origin.transaction_id
        parsed = [event for _, event in events.events]
        votes = [e for e in parsed if isinstance(e, VoteCast) and e.proposal_id == first.id]
        assert [(v.voter, v.score, v.late, v.tally) for v in votes] == [
            (msp, score, False, None) for msp, score in zip(ORGS, scores, strict=True)
        ]
        tasks = [e for e in parsed if isinstance(e, TaskCreated) and e.task_id == task_id]
        assert len(tasks) == 1
        assert tasks[0].created_by == "Org1MSP"
        assert tasks[0].members == ORGS
    finally:
        events.close()


def block_height(ledger: Any) -> int:
    with connect(ledger.profile, "Org3MSP") as gateway:
        return gateway.network(ledger.profile.channel).block_height()


def test_a_member_outvoted_by_speed_scores_the_champion_late_and_can_veto_its_successor(
    ledger: Any, protocol: str, registries: dict[str, Registry]
) -> None:
    events = Collector(ledger, block_height(ledger), protocol)
    try:
        task_id = new_task(registries, quorum=2, max_regression=0.02)
        first = propose(registries["Org1MSP"], task_id)
        approve(registries["Org1MSP"], first.id, 0.80)
        approve(registries["Org2MSP"], first.id, 0.81)
        assert registries["Org2MSP"].decide(first.id).status == "ACCEPTED"
        assert registries["Org1MSP"].get_champion(task_id).scores == {
            "Org1MSP": 0.80,
            "Org2MSP": 0.81,
        }

        late = approve(registries["Org3MSP"], first.id, 0.90)
        assert late.late
        assert late.proposal.status == "ACCEPTED"
        assert late.proposal.tally.approve == 2, "a late vote decides nothing"
        assert registries["Org3MSP"].get_proposal(first.id).tally.approve == 2
        champion = registries["Org2MSP"].get_champion(task_id)
        assert champion.scores == {"Org1MSP": 0.80, "Org2MSP": 0.81, "Org3MSP": 0.90}
        scored = events.wait_for(first.id, ChampionScored)
        assert isinstance(scored, ChampionScored)
        assert (scored.voter, scored.score) == ("Org3MSP", 0.90)
        assert scored.origin.transaction_id == late.vote.transaction_id

        successor = propose(registries["Org2MSP"], task_id)
        approve(registries["Org3MSP"], successor.id, 0.85)
        vetoed = registries["Org3MSP"].decide(successor.id)
        assert vetoed.status == "REJECTED", "a veto decides at once, on one vote"
        assert vetoed.status_reason.startswith(
            f"veto: Org3MSP's roc_auc is {0.90 - 0.85} worse than its champion score"
        )
        assert registries["Org1MSP"].get_champion(task_id).proposal_id == first.id
    finally:
        events.close()


def test_a_member_that_joined_after_the_champion_was_proposed_scores_it_late(
    registries: dict[str, Registry],
) -> None:
    task_id = unique("task")
    registries["Org1MSP"].create_task(
        task_id,
        schema=SCHEMA,
        metric="roc_auc",
        members=["Org1MSP", "Org2MSP"],
        policy=policy(quorum=2),
    )
    champion = propose(registries["Org1MSP"], task_id)
    approve(registries["Org1MSP"], champion.id, 0.80)
    approve(registries["Org2MSP"], champion.id, 0.81)
    registries["Org1MSP"].decide(champion.id)
    change = registries["Org1MSP"].propose_change(task_id, "addMember", member="Org3MSP")
    assert registries["Org2MSP"].vote_change(change.id, "approve").status == "APPLIED"

    late = approve(registries["Org3MSP"], champion.id, 0.78)
    assert late.late
    assert late.proposal.electorate == ("Org1MSP", "Org2MSP")
    assert registries["Org1MSP"].get_champion(task_id).scores["Org3MSP"] == 0.78


def test_a_second_vote_from_the_same_organisation_is_refused(
    registries: dict[str, Registry],
) -> None:
    task_id = new_task(registries)
    proposal = propose(registries["Org1MSP"], task_id)
    first = approve(registries["Org2MSP"], proposal.id).vote

    with pytest.raises(ChaincodeRefusalError) as refused:
        registries["Org2MSP"].cast_vote(
            proposal.id,
            decision="reject",
            metrics={"roc_auc": 0.1},
            holdout_rows=10,
            evaluator_version=EVALUATOR,
            reason="changed my mind",
        )
    cast_at = first.cast_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert refused.value.message == (
        f"vote refused: Org2MSP already voted on proposal {proposal.id} "
        f"(approve at {cast_at}, transaction {first.transaction_id})"
    )
    assert refused.value.code is RefusalCode.ALREADY_VOTED
    assert refused.value.function == "CastVote"
    assert refused.value.transaction_id
    assert isinstance(refused.value.__cause__, EndorseError)

    votes = registries["Org3MSP"].get_votes(proposal.id)
    assert [(v.voter, v.decision, v.transaction_id) for v in votes] == [
        ("Org2MSP", "approve", first.transaction_id)
    ]
    assert registries["Org3MSP"].get_proposal(proposal.id).tally.approve == 1


def test_a_vote_is_recorded_for_the_signing_organisation_only(
    registries: dict[str, Registry], contracts: dict[str, Contract], networks: dict[str, Network]
) -> None:
    task_id = new_task(registries)
    proposal = propose(registries["Org3MSP"], task_id)
    org1 = CommittedEverywhere(contracts["Org1MSP"], list(networks.values()))

    # Org1 names Org2 as the voter: the chaincode has no such field and refuses the whole vote.
    ballot = {
        "proposalId": proposal.id,
        "decision": "reject",
        "metrics": {"roc_auc": 0.5},
        "holdoutRows": 10,
        "evaluatorVersion": EVALUATOR,
        "reason": "",
        "voter": "Org2MSP",
    }
    with pytest.raises(EndorseError) as refused:
        org1.submit("registry:CastVote", [json.dumps(ballot)])
    assert refused.value.chaincode_message == (
        "[INVALID_ARGUMENT] vote refused: unknown field voter "
        "(allowed: proposalId, decision, metrics, holdoutRows, evaluatorVersion, reason)"
    )
    assert registries["Org2MSP"].vote_of(proposal.id, "Org2MSP") is None

    # Org1's vote, endorsed only by Org2's and Org3's peers, is still Org1's: the voter comes
    # from the signed proposal's creator, whichever peers run the chaincode.
    del ballot["voter"]
    reply = json.loads(
        org1.submit(
            "registry:CastVote",
            [json.dumps(ballot)],
            endorsing_organizations=["Org2MSP", "Org3MSP"],
        )
    )
    assert reply["vote"]["voter"] == "Org1MSP"

    votes = registries["Org2MSP"].get_votes(proposal.id)
    assert [(v.voter, v.decision) for v in votes] == [("Org1MSP", "reject")]
    assert registries["Org1MSP"].vote_of(proposal.id, "Org2MSP") is None
    tally = registries["Org3MSP"].get_proposal(proposal.id).tally
    assert set(tally.votes) == {"Org1MSP"}
    assert (tally.approve, tally.reject) == (0, 1)

    # Org2's own vote is then still open to Org2, and recorded as Org2's.
    mine = approve(registries["Org2MSP"], proposal.id).vote
    assert mine.voter == "Org2MSP"
    voters = [v.voter for v in registries["Org1MSP"].get_votes(proposal.id)]
    assert sorted(voters) == ["Org1MSP", "Org2MSP"]


def test_the_history_of_a_proposal_shows_its_submission_and_its_decision(
    registries: dict[str, Registry],
) -> None:
    task_id = new_task(registries)
    proposal = propose(registries["Org2MSP"], task_id)
    for msp in ORGS:
        approve(registries[msp], proposal.id)
    registries["Org3MSP"].decide(proposal.id)

    entries = registries["Org1MSP"].history("proposal", proposal.id)
    assert len(entries) == 2, "votes write their own keys, never the proposal"
    assert entries[1].transaction_id == proposal.transaction_id, "newest first"
    assert not any(e.is_delete for e in entries)

    versions = registries["Org1MSP"].proposal_history(proposal.id)
    assert [(p.status, p.tally.approve) for p in versions] == [("PENDING", 0), ("ACCEPTED", 3)]
    assert versions[0].status_reason == "0 of 3 members voted (quorum 3); waiting for votes"
    assert (versions[0].decided_at, versions[-1].decided_at is not None) == (None, True)
    assert sorted(versions[-1].tally.votes) == list(ORGS)

    champion = registries["Org1MSP"].history("champion", task_id)
    assert [e.transaction_id for e in champion] == [entries[0].transaction_id]
    task = registries["Org1MSP"].history("task", task_id)
    assert len(task) == 1


def test_votes_submitted_at_once_all_commit_and_two_racing_decides_settle_once(
    networks: dict[str, Network], contracts: dict[str, Contract], registries: dict[str, Registry]
) -> None:
    task_id = new_task(registries)
    proposal = propose(registries["Org2MSP"], task_id)
    ballot = {
        "proposalId": proposal.id,
        "decision": "approve",
        "metrics": {"roc_auc": 0.8},
        "holdoutRows": 10,
        "evaluatorVersion": EVALUATOR,
        "reason": "",
    }
    commits = [
        contracts[msp].submit_async("registry:CastVote", [json.dumps(ballot)]) for msp in ORGS
    ]
    statuses = [commit.status() for commit in commits]
    assert [s.code_name for s in statuses] == ["VALID"] * 3, "no vote conflicts with another"
    last = max(s.block_number for s in statuses)
    for network in networks.values():
        wait_for(lambda n=network: n.block_height() > last, f"block {last} on every peer", 60)

    outcomes: list[Any] = []

    def decide(msp: str) -> None:
        # Through `registries`: the decision is on every peer before Org2 reads the history.
        try:
            outcomes.append(registries[msp].decide(proposal.id).status)
        except (ChaincodeRefusalError, CommitError) as error:
            outcomes.append(error)

    racers = [threading.Thread(target=decide, args=(msp,)) for msp in ("Org1MSP", "Org3MSP")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert outcomes.count("ACCEPTED") == 1, outcomes
    (loser,) = [o for o in outcomes if o != "ACCEPTED"]
    if isinstance(loser, CommitError):
        assert loser.code_name in {"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"}
    else:
        assert loser.code is RefusalCode.NOT_PENDING
    history = registries["Org2MSP"].proposal_history(proposal.id)
    assert [p.status for p in history] == ["PENDING", "ACCEPTED"], "decided once"


def test_decide_refuses_while_the_votes_decide_nothing(registries: dict[str, Registry]) -> None:
    task_id = new_task(registries)
    proposal = propose(registries["Org2MSP"], task_id)
    approve(registries["Org1MSP"], proposal.id)
    with pytest.raises(ChaincodeRefusalError) as refused:
        registries["Org2MSP"].decide(proposal.id)
    assert refused.value.code is RefusalCode.UNDECIDED
    assert refused.value.message == (
        f"decision refused: the votes on proposal {proposal.id} decide nothing yet: 1 of 3 "
        f"members voted (quorum 3); waiting for more votes; voting runs until "
        f"{iso(proposal.deadline)}"
    )
    with pytest.raises(ChaincodeRefusalError) as previewed:
        registries["Org2MSP"].preview_decision(proposal.id)
    assert previewed.value.code is RefusalCode.UNDECIDED
    assert len(registries["Org1MSP"].history("proposal", proposal.id)) == 1


def test_a_reject_vote_that_makes_acceptance_impossible_rejects_at_once(
    registries: dict[str, Registry],
) -> None:
    task_id = new_task(registries, approval_threshold=1.0)
    proposal = propose(registries["Org1MSP"], task_id)
    result = registries["Org3MSP"].cast_vote(
        proposal.id,
        decision="reject",
        metrics={"roc_auc": 0.4},
        holdout_rows=500,
        evaluator_version=EVALUATOR,
        reason="roc_auc 0.4 is below the task's minimum 0.7",
    )
    assert result.vote.reason == "roc_auc 0.4 is below the task's minimum 0.7"
    preview = registries["Org1MSP"].preview_decision(proposal.id)
    assert registries["Org1MSP"].get_proposal(proposal.id).status == "PENDING", "only previewed"
    rejected = registries["Org1MSP"].decide(proposal.id)
    assert rejected.status == preview.status == "REJECTED"
    assert rejected.status_reason == "at most 2 of 3 votes can approve, below the threshold 1"
    assert registries["Org1MSP"].find_champion(task_id) is None

    # The others' evaluations are recorded after the decision: the audit trail has all three.
    late = approve(registries["Org2MSP"], proposal.id)
    assert late.late
    assert late.proposal.status == "REJECTED"
    votes = registries["Org3MSP"].get_votes(proposal.id)
    assert [(v.voter, v.decision) for v in votes] == [
        ("Org2MSP", "approve"),
        ("Org3MSP", "reject"),
    ]
    assert registries["Org3MSP"].get_proposal(proposal.id) == rejected


def test_an_expired_proposal_is_closed_and_takes_late_votes_only(
    registries: dict[str, Registry],
) -> None:
    task_id = new_task(registries, voting_period_seconds=1)
    proposal = propose(registries["Org1MSP"], task_id)
    approve(registries["Org1MSP"], proposal.id)
    wait_until_past(proposal)

    closed = registries["Org2MSP"].close_expired(proposal.id)
    assert closed.status == "EXPIRED"
    assert closed.status_reason.startswith(
        f"the voting period ended at {iso(proposal.deadline)} with 1 of 3 members voted"
    )
    late = approve(registries["Org3MSP"], proposal.id)
    assert (late.late, late.proposal.status) == (True, "EXPIRED")
    with pytest.raises(ChaincodeRefusalError) as again:
        registries["Org2MSP"].close_expired(proposal.id)
    assert again.value.code is RefusalCode.NOT_PENDING
    assert again.value.message == (
        f"close refused: proposal {proposal.id} is EXPIRED, not PENDING "
        f"(decided at {iso(closed.decided_at)}: {closed.status_reason})"
    )


def test_an_expired_proposal_is_reopened_by_proposing_its_model_again(
    registries: dict[str, Registry],
) -> None:
    """Its votes stay (they scored the same bytes); its voters cannot vote again."""
    task_id = new_task(registries, voting_period_seconds=1, quorum=2)
    sha = model_hash()
    fields: dict[str, Any] = {"model_sha256": sha, "size_bytes": 1234}
    first = registries["Org1MSP"].submit_proposal(task_id, uri=f"s3://a/sha256/{sha}", **fields)
    approve(registries["Org2MSP"], first.id)
    wait_until_past(first)
    expired = registries["Org3MSP"].decide(first.id)
    assert expired.status == "EXPIRED"

    checked = registries["Org1MSP"].check_proposal(task_id, uri=f"s3://b/sha256/{sha}", **fields)
    assert (checked.id, checked.status) == (first.id, "PENDING")
    assert registries["Org1MSP"].get_proposal(first.id).status == "EXPIRED", "nothing written"

    again = registries["Org1MSP"].submit_proposal(task_id, uri=f"s3://b/sha256/{sha}", **fields)
    assert (again.id, again.status, again.uri) == (first.id, "PENDING", f"s3://b/sha256/{sha}")
    assert again.deadline > first.deadline
    assert (again.tally.approve, again.tally.reject, again.tally.abstain) == (1, 0, 0)
    assert again.status_reason == (
        f"reopened after it expired at {iso(expired.decided_at)}; 1 of 3 members voted "
        "(quorum 2); waiting for votes"
    )
    assert [
        p.id for p in registries["Org2MSP"].all_proposals(task_id=task_id, status="PENDING")
    ] == [first.id]
    with pytest.raises(ChaincodeRefusalError) as voted:
        approve(registries["Org2MSP"], first.id)
    assert voted.value.code is RefusalCode.ALREADY_VOTED
    approve(registries["Org3MSP"], first.id)
    assert registries["Org3MSP"].decide(first.id).status == "ACCEPTED"
    with pytest.raises(ChaincodeRefusalError) as refused:
        registries["Org2MSP"].submit_proposal(task_id, uri=f"s3://c/sha256/{sha}", **fields)
    assert refused.value.code is RefusalCode.ALREADY_PROPOSED
    assert refused.value.message == (
        f"proposal refused: model {sha[:12]}… was already proposed for task {task_id} as "
        f"{first.id} (ACCEPTED); a model is proposed once per task, and again only after its "
        "proposal expired"
    )


def test_closing_an_open_proposal_early_is_refused(registries: dict[str, Registry]) -> None:
    task_id = new_task(registries)
    proposal = propose(registries["Org2MSP"], task_id)
    with pytest.raises(ChaincodeRefusalError) as refused:
        registries["Org1MSP"].close_expired(proposal.id)
    assert refused.value.message == (
        f"close refused: voting on proposal {proposal.id} runs until {iso(proposal.deadline)}; "
        "close it after that"
    )


def test_queries_name_what_is_missing(registries: dict[str, Registry]) -> None:
    missing = unique("missing")
    with pytest.raises(ChaincodeRefusalError) as refused:
        registries["Org1MSP"].get_task(missing)
    assert refused.value.message == (
        f"query refused: task {missing} does not exist; list tasks with ListTasks"
    )
    task_id = new_task(registries)
    with pytest.raises(ChaincodeRefusalError) as no_champion:
        registries["Org1MSP"].get_champion(task_id)
    assert no_champion.value.code is RefusalCode.NO_CHAMPION
    assert no_champion.value.message == (
        f"query refused: task {task_id} has no champion yet; "
        "none of its proposals has been accepted"
    )
    absent = proposal_id_for(task_id, model_hash())
    with pytest.raises(ChaincodeRefusalError) as no_proposal:
        registries["Org1MSP"].get_votes(absent)
    assert no_proposal.value.message == (
        f"query refused: proposal {absent} does not exist; list proposals with ListProposals"
    )


def test_a_task_is_created_by_one_of_its_members_only(registries: dict[str, Registry]) -> None:
    task_id = unique("outsider")
    with pytest.raises(ChaincodeRefusalError) as refused:
        registries["Org3MSP"].create_task(
            task_id,
            schema=SCHEMA,
            metric="roc_auc",
            members=["Org1MSP", "Org2MSP"],
            policy=policy(quorum=2),
        )
    assert refused.value.message == (
        f"task refused: Org3MSP is not among the members of task {task_id}; "
        "a task is created by one of its members"
    )
    task_id = new_task(registries)
    task = registries["Org2MSP"].get_task(task_id)
    assert task.created_by == "Org1MSP"
    assert task.members == ORGS
    assert task.policy == policy()
    assert task.higher_is_better is True
    assert task.schema_sha256 == synthetic_schema().sha256()


def test_lists_filter_and_page(registries: dict[str, Registry]) -> None:
    task_id = new_task(registries)
    made = [propose(registries[msp], task_id) for msp in ORGS]
    approve(registries["Org1MSP"], made[0].id)

    registry = registries["Org2MSP"]
    listed = list(registry.all_proposals(task_id=task_id))
    assert sorted(p.id for p in listed) == sorted(p.id for p in made)
    pending = registry.list_proposals(task_id=task_id, status="PENDING", proposer="Org3MSP")
    assert [p.id for p in pending.records] == [made[2].id]

    first = registry.list_proposals(task_id=task_id, page_size=2)
    assert len(first.records) == 2
    assert first.bookmark
    rest = registry.list_proposals(task_id=task_id, page_size=2, bookmark=first.bookmark)
    assert {p.id for p in first.records + rest.records} == {p.id for p in made}

    assert task_id in {t.id for t in registry.all_tasks()}


def wait_until_past(proposal: Proposal) -> None:
    import time
    from datetime import UTC, datetime

    remaining = (proposal.deadline - datetime.now(UTC)).total_seconds()
    time.sleep(max(0.0, remaining) + 0.3)


def iso(moment: Any) -> str:
    return str(moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def test_a_validator_announces_for_its_signing_organisation_only(
    registries: dict[str, Registry],
) -> None:
    task_id = unique("served")
    registries["Org1MSP"].create_task(
        task_id,
        schema=SCHEMA,
        metric="roc_auc",
        members=["Org1MSP", "Org2MSP"],
        policy=policy(quorum=2),
    )
    with pytest.raises(ChaincodeRefusalError) as refused:
        registries["Org3MSP"].announce_validator([task_id], "v")
    assert refused.value.code is RefusalCode.NOT_A_MEMBER
    assert refused.value.message == (
        f"announcement refused: Org3MSP is not a member of task {task_id} "
        "(members: Org1MSP, Org2MSP)"
    )
    first = registries["Org2MSP"].announce_validator([task_id], "fedledger/x onnxruntime/y")
    again = registries["Org2MSP"].announce_validator([task_id], "fedledger/x2 onnxruntime/y")
    [serving] = registries["Org1MSP"].list_validators(task_id)
    assert (serving.organization, serving.task_id) == ("Org2MSP", task_id)
    assert serving.since == first.tasks[task_id] == again.tasks[task_id]
    assert serving.announced_at == again.announced_at >= first.announced_at
    assert serving.evaluator_version == "fedledger/x2 onnxruntime/y"
    assert serving.transaction_id == again.transaction_id
    with pytest.raises(ChaincodeRefusalError) as unknown:
        registries["Org1MSP"].list_validators(unique("nothing"))
    assert unknown.value.code is RefusalCode.TASK_NOT_FOUND
