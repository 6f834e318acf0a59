"""Governance from the command line on every backend: changes, histories, closing expired
proposals, and the audit export with its verification (docs/governance.md)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fedledger.audit import COLUMNS
from fedledger.cli.app import app
from fedledger.models.synthetic import synthetic_schema
from fedledger.registry import (
    ChaincodeRefusalError,
    Policy,
    Proposal,
    RefusalCode,
    Registry,
    open_registry,
)

from .everywhere import profile_caught_up

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
runner = CliRunner()
SCHEMA = synthetic_schema()
CHANGE_ID = re.compile(r"c-[0-9a-f]{32}")


def everywhere(ledger: Any) -> None:
    """Wait until every organisation's peer has every block: the next command may act as
    another organisation, whose peer endorses on what it has committed."""
    profile_caught_up(ledger.profile)


def fedledger(ledger: Any, *args: str, org: str = "Org1MSP") -> Result:
    result = runner.invoke(app, [*args, "--profile", str(ledger.profile.path), "--org", org])
    everywhere(ledger)
    return result


def new_task(ledger: Any, members: list[str], **policy: Any) -> str:
    task_id = f"gov-{uuid.uuid4().hex[:8]}"
    values = {
        "quorum": 1,
        "approval_threshold": 0.5,
        "min_score": None,
        "max_regression": None,
        "voting_period_seconds": 600,
        "max_model_bytes": 1_000_000,
        "max_open_proposals_per_org": 5,
    } | policy
    with open_registry(ledger.profile, members[0]) as registry:
        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=members,
            policy=Policy(**values),
        )
    everywhere(ledger)
    return task_id


def submit(registry: Registry, task_id: str) -> Proposal:
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    return registry.submit_proposal(
        task_id, model_sha256=sha, uri=f"file:///models/{sha}", size_bytes=100
    )


def approve(ledger: Any, msp: str, proposal_id: str) -> None:
    with open_registry(ledger.profile, msp) as registry:
        registry.cast_vote(
            proposal_id,
            decision="approve",
            metrics={"roc_auc": 0.8},
            holdout_rows=10,
            evaluator_version="test",
        )
    everywhere(ledger)


def decide(ledger: Any, msp: str, proposal_id: str) -> None:
    """What a validator does once the votes decide: submit Decide."""
    with open_registry(ledger.profile, msp) as registry:
        registry.decide(proposal_id)
    everywhere(ledger)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(result: Result) -> str:
    assert result.exit_code == 1, result.output
    return " ".join(result.stderr.split())


def test_members_and_policy_change_by_every_members_approval(ledger: Any) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"])
    proposed = ok(
        fedledger(
            ledger, "change", "propose", "add-member", "--task", task_id, "--msp-id", "Org3MSP"
        )
    )
    change_id = CHANGE_ID.search(proposed).group(0)  # type: ignore[union-attr]
    assert proposed.startswith(
        f"proposed change {change_id} (addMember Org3MSP) on task {task_id}: PENDING "
        "(waiting for approval by Org2MSP); voting until "
    )
    shown = json.loads(ok(fedledger(ledger, "change", "show", change_id, org="Org2MSP")))
    assert {k: shown[k] for k in ("type", "member", "proposer", "approvals", "status")} == {
        "type": "addMember",
        "member": "Org3MSP",
        "proposer": "Org1MSP",
        "approvals": ["Org1MSP"],
        "status": "PENDING",
    }
    pending = ok(fedledger(ledger, "change", "list", "--task", task_id, "--status", "PENDING"))
    assert change_id in pending
    assert "addMember Org3MSP" in pending

    voted = ok(fedledger(ledger, "change", "vote", change_id, "approve", org="Org2MSP"))
    assert voted.strip() == (
        f"approved change {change_id} (addMember Org3MSP) on task {task_id}: APPLIED "
        "(approved by every member)"
    )
    again = refused(fedledger(ledger, "change", "vote", change_id, "approve", org="Org2MSP"))
    assert again == (
        f"error: change refused: change {change_id} is APPLIED, not PENDING "
        "(approved by every member)"
    )
    members = json.loads(ok(fedledger(ledger, "task", "show", task_id)))["members"]
    assert members == ["Org1MSP", "Org2MSP", "Org3MSP"]

    policy = ok(
        fedledger(
            ledger,
            "change",
            "propose",
            "policy",
            "--task",
            task_id,
            "--quorum",
            "2",
            "--min-score",
            "0.6",
            "--reason",
            "stricter",
        )
    )
    policy_id = CHANGE_ID.search(policy).group(0)  # type: ignore[union-attr]
    assert "(waiting for approval by Org2MSP, Org3MSP)" in policy
    shown = json.loads(ok(fedledger(ledger, "change", "show", policy_id)))
    assert shown["policy"]["quorum"] == 2
    assert shown["policy"]["minScore"] == 0.6
    assert shown["policy"]["votingPeriodSeconds"] == 600  # unchanged fields kept
    assert shown["reason"] == "stricter"
    ok(fedledger(ledger, "change", "vote", policy_id, "approve", org="Org2MSP"))
    rejected = ok(fedledger(ledger, "change", "vote", policy_id, "reject", org="Org3MSP"))
    assert rejected.strip().endswith(
        ": REJECTED (rejected by Org3MSP; a change needs every member's approval)"
    )
    listed = ok(fedledger(ledger, "change", "list", "--task", task_id, "--status", "REJECTED"))
    assert policy_id in listed
    assert change_id not in listed
    everything = ok(fedledger(ledger, "change", "list"))  # every task's
    assert policy_id in everything
    assert change_id in everything

    history = ok(fedledger(ledger, "task", "history", task_id)).splitlines()
    assert len(history) == 2
    assert "task.created" in history[0]
    assert "members Org1MSP, Org2MSP  [created by Org1MSP]" in history[0]
    assert "task.updated" in history[1]
    assert f"member Org3MSP added  [change {change_id} applied (addMember Org3MSP)]" in history[1]


def test_change_refusals_and_bad_input(ledger: Any) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"])
    own = refused(
        fedledger(
            ledger, "change", "propose", "remove-member", "--task", task_id, "--msp-id", "Org1MSP"
        )
    )
    assert (
        own == "error: change refused: Org1MSP cannot propose its own removal; ask another member"
    )
    outsider = refused(
        fedledger(ledger, "change", "propose", "revoke-champion", "--task", task_id, org="Org3MSP")
    )
    assert outsider.startswith("error: change refused: ")
    assert "Org3MSP" in outsider
    no_champion = refused(
        fedledger(ledger, "change", "propose", "revoke-champion", "--task", task_id)
    )
    assert no_champion == f"error: change refused: task {task_id} has no champion to revoke"
    unknown = "c-" + "0" * 32
    missing = refused(fedledger(ledger, "change", "show", unknown))
    assert missing == (
        f"error: query refused: change {unknown} does not exist; list changes with ListChanges"
    )
    assert refused(fedledger(ledger, "change", "vote", unknown, "maybe")) == (
        "error: decision 'maybe': approve or reject"
    )
    assert refused(fedledger(ledger, "change", "list", "--task", task_id, "--status", "DONE")) == (
        "error: --status 'DONE': one of PENDING, APPLIED, REJECTED, EXPIRED"
    )
    assert refused(fedledger(ledger, "change", "propose", "policy", "--task", task_id)) == (
        "error: give at least one policy option to change (see --help)"
    )
    assert (
        refused(
            fedledger(
                ledger, "change", "propose", "policy", "--task", task_id, "--min-score", "high"
            )
        )
        == "error: --min-score 'high': give a number, or none for no bound"
    )


def test_policy_bounds_outside_the_metric_range_are_refused(ledger: Any) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"])
    propose = ("change", "propose", "policy", "--task", task_id)
    assert refused(fedledger(ledger, *propose, "--min-score", "-1")) == (
        f"error: the proposed policy for task {task_id}: policy.minScore must be from 0 to 1 "
        "for roc_auc, got -1"
    )
    assert refused(fedledger(ledger, *propose, "--max-regression", "2")) == (
        f"error: the proposed policy for task {task_id}: policy.maxRegression must be at most 1, "
        "the width of roc_auc's range (or null for no veto), got 2"
    )
    # What the command line checks, the chaincode refuses too, for any client.
    with open_registry(ledger.profile, "Org1MSP") as registry:
        bad = Policy(1, 0.5, 1.5, None, 600, 1_000_000, 5)
        with pytest.raises(ChaincodeRefusalError) as change:
            registry.propose_change(task_id, "updatePolicy", policy=bad)
        with pytest.raises(ChaincodeRefusalError) as task:
            registry.create_task(
                f"{task_id}-r2",
                schema=SCHEMA.to_dict(),
                metric="r2",
                members=["Org1MSP"],
                policy=bad,
            )
    assert change.value.code is RefusalCode.INVALID_ARGUMENT
    assert change.value.message == (
        "change refused: policy.minScore must be from 0 to 1 for roc_auc, got 1.5"
    )
    assert task.value.message == "task refused: policy.minScore must be at most 1 for r2, got 1.5"


def test_revoking_the_champion_and_champion_history(ledger: Any) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"])
    assert ok(fedledger(ledger, "champion", "history", task_id)).strip() == (
        f"task {task_id} has had no champion"
    )
    with open_registry(ledger.profile, "Org1MSP") as registry:
        first = submit(registry, task_id)
    everywhere(ledger)
    approve(ledger, "Org2MSP", first.id)
    decide(ledger, "Org2MSP", first.id)
    with open_registry(ledger.profile, "Org1MSP") as registry:
        second = submit(registry, task_id)
    everywhere(ledger)
    approve(ledger, "Org2MSP", second.id)
    decide(ledger, "Org1MSP", second.id)

    proposed = ok(
        fedledger(
            ledger,
            "change",
            "propose",
            "revoke-champion",
            "--task",
            task_id,
            "--reason",
            "leaks a feature",
            org="Org2MSP",
        )
    )
    change_id = CHANGE_ID.search(proposed).group(0)  # type: ignore[union-attr]
    ok(fedledger(ledger, "change", "vote", change_id, "approve"))
    champion = json.loads(ok(fedledger(ledger, "task", "show", task_id)))["champion"]
    assert champion["proposalId"] == first.id

    lines = ok(fedledger(ledger, "champion", "history", task_id)).splitlines()
    assert len(lines) == 3, lines
    assert "champion.crowned" in lines[0]
    assert f"[proposal {first.id} accepted]" in lines[0]
    assert "champion.crowned" in lines[1]
    assert f"[proposal {second.id} accepted]" in lines[1]
    assert "champion.restored" in lines[2]
    assert f"{first.id} again, after {second.id}" in lines[2]
    assert f"[change {change_id} applied (revokeChampion)]" in lines[2]
    shown = ok(fedledger(ledger, "proposal", "show", second.id))
    assert f"status REVOKED (revoked by change {change_id}: leaks a feature)" in shown


def test_close_expired_frees_the_open_proposal_limit(ledger: Any) -> None:
    task_id = new_task(
        ledger,
        ["Org1MSP", "Org2MSP"],
        quorum=2,
        voting_period_seconds=2,
        max_open_proposals_per_org=1,
    )
    with open_registry(ledger.profile, "Org1MSP") as registry:
        first = submit(registry, task_id)
    everywhere(ledger)
    early = ok(fedledger(ledger, "proposal", "close-expired", "--task", task_id))
    assert early.strip() == "no pending proposal is past its deadline"
    time.sleep(max(0.0, first.deadline.timestamp() - time.time()) + 0.2)
    closed = ok(fedledger(ledger, "proposal", "close-expired", org="Org2MSP"))
    # Without --task it closes every task's expired proposals (other tests' too, on this ledger).
    assert (
        f"closed {first.id} (task {task_id}, voting ended {first.deadline:%Y-%m-%d %H:%M:%S} UTC)"
    ) in closed.splitlines()
    assert "status EXPIRED" in ok(fedledger(ledger, "proposal", "show", first.id))
    with open_registry(ledger.profile, "Org1MSP") as registry:
        assert submit(registry, task_id).pending


def audit_story(ledger: Any) -> tuple[str, Proposal, str]:
    """A task with a proposal decided by two votes and an applied change."""
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"], quorum=2)
    with open_registry(ledger.profile, "Org1MSP") as registry:
        proposal = submit(registry, task_id)
    everywhere(ledger)
    approve(ledger, "Org1MSP", proposal.id)
    approve(ledger, "Org2MSP", proposal.id)
    decide(ledger, "Org2MSP", proposal.id)
    out = ok(
        fedledger(
            ledger, "change", "propose", "add-member", "--task", task_id, "--msp-id", "Org3MSP"
        )
    )
    change_id = CHANGE_ID.search(out).group(0)  # type: ignore[union-attr]
    ok(fedledger(ledger, "change", "vote", change_id, "approve", org="Org2MSP"))
    return task_id, proposal, change_id


def test_audit_export_is_complete_deterministic_and_verifies(ledger: Any, tmp_path: Path) -> None:
    task_id, proposal, change_id = audit_story(ledger)
    path = tmp_path / "audit.json"
    ok(fedledger(ledger, "audit", "export", "--task", task_id, "--out", str(path)))
    document = json.loads(path.read_text())
    assert {k: document[k] for k in ("format", "version", "taskId", "channel", "chaincode")} == {
        "format": "fedledger-audit",
        "version": 1,
        "taskId": task_id,
        "channel": ledger.profile.channel,
        "chaincode": ledger.profile.chaincode,
    }
    events = document["events"]
    assert [(e["event"], e["recordId"]) for e in events] == [
        ("task.created", task_id),
        ("proposal.submitted", proposal.id),
        ("vote.cast", f"{proposal.id}/Org1MSP"),
        ("vote.cast", f"{proposal.id}/Org2MSP"),
        ("proposal.accepted", proposal.id),
        ("champion.crowned", task_id),
        ("change.proposed", change_id),
        ("change.applied", change_id),
        ("task.updated", task_id),
    ]
    blocks = [(e["block"], e["position"]) for e in events]
    assert blocks == sorted(blocks)
    assert events[1]["transactionId"] == proposal.transaction_id
    assert events[4]["transactionId"] == events[5]["transactionId"], "Decide accepts and crowns"
    assert events[3]["transactionId"] != events[4]["transactionId"], "votes do not decide"
    assert events[-1]["record"]["members"] == ["Org1MSP", "Org2MSP", "Org3MSP"]
    assert document["throughBlock"] == events[-1]["block"]
    again = ok(fedledger(ledger, "audit", "export", "--task", task_id))
    assert again == path.read_text()  # the same ledger, the same bytes

    table = ok(fedledger(ledger, "audit", "export", "--task", task_id, "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(table)))
    assert tuple(rows[0]) == COLUMNS
    assert [r["event"] for r in rows] == [e["event"] for e in events]
    assert [int(r["block"]) for r in rows] == [e["block"] for e in events]
    csv_path = tmp_path / "audit.csv"
    csv_path.write_text(table)

    for exported in (path, csv_path):
        verified = ok(fedledger(ledger, "audit", "verify", str(exported), org="Org2MSP"))
        assert verified.strip().startswith(
            f"{exported}: all {len(events)} events of task {task_id} match the ledger"
        )


def test_audit_verify_names_each_difference(ledger: Any, tmp_path: Path) -> None:
    task_id, proposal, _ = audit_story(ledger)
    path = tmp_path / "audit.json"
    ok(fedledger(ledger, "audit", "export", "--task", task_id, "--out", str(path)))
    document = json.loads(path.read_text())
    events = document["events"]
    events[1]["recordSha256"] = "0" * 64
    events[2]["block"] += 1
    dropped = events.pop(3)
    forged = "f" * 64
    created_tx, created_block = events[0]["transactionId"], events[0]["block"]
    events[0]["transactionId"] = forged
    path.write_text(json.dumps(document))
    result = fedledger(ledger, "audit", "verify", str(path))
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {path}: 5 differences from the ledger"
    assert lines[1].startswith(
        f"  - {path}: events[0]: transaction {forged} is not on the ledger ("
    )
    assert lines[2].startswith(
        f"  - {path}: events[1]: proposal {proposal.id} as transaction "
        f"{proposal.transaction_id} wrote it does not match recordSha256 (the ledger has {{"
    )
    block = events[2]["block"]
    assert lines[3] == (
        f"  - {path}: events[2]: transaction {events[2]['transactionId']} is in block "
        f"{block - 1} at position {events[2]['position']}, the export says block {block} "
        f"position {events[2]['position']}"
    )
    assert lines[4] == (
        f"  - the export lacks task.created of task {task_id} (transaction {created_tx}, "
        f"block {created_block})"
    )
    assert f"the export lacks vote.cast of vote {dropped['recordId']}" in lines[5]

    elsewhere = tmp_path / "elsewhere.json"
    ok(fedledger(ledger, "audit", "export", "--task", task_id, "--out", str(elsewhere)))
    moved = json.loads(elsewhere.read_text())
    moved["chaincode"] = "other"
    elsewhere.write_text(json.dumps(moved))
    result = fedledger(ledger, "audit", "verify", str(elsewhere))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[1:] == [
        f"  - the export is of channel {ledger.profile.channel}, chaincode other; this "
        f"connection reads channel {ledger.profile.channel}, chaincode {ledger.profile.chaincode}"
    ]

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    assert refused(fedledger(ledger, "audit", "verify", str(bad))) == (
        f'error: {bad}: "format" must be "fedledger-audit"; is this an audit export?'
    )


def test_expired_changes_are_closed_and_a_non_member_is_refused(ledger: Any) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"], voting_period_seconds=1)
    proposed = ok(
        fedledger(
            ledger, "change", "propose", "add-member", "--task", task_id, "--msp-id", "Org3MSP"
        )
    )
    change_id = CHANGE_ID.search(proposed).group(0)  # type: ignore[union-attr]
    with open_registry(ledger.profile, "Org1MSP") as registry:
        proposal = submit(registry, task_id)
        deadline = max(registry.get_change(change_id).deadline, proposal.deadline)
    everywhere(ledger)
    time.sleep(max(0.0, deadline.timestamp() - time.time()) + 0.2)

    late = refused(fedledger(ledger, "change", "vote", change_id, "approve", org="Org2MSP"))
    assert late.startswith(f"error: change refused: voting on change {change_id} ended at ")
    outsider = refused(
        fedledger(ledger, "proposal", "close-expired", "--task", task_id, org="Org3MSP")
    )
    assert outsider == (
        f"error: {proposal.id}: close refused: Org3MSP is not a member of task {task_id} "
        "(members: Org1MSP, Org2MSP)"
    )
    closed = ok(fedledger(ledger, "change", "close-expired", "--task", task_id, org="Org2MSP"))
    assert closed.startswith(f"closed {change_id} (task {task_id}, voting ended ")
    shown = json.loads(ok(fedledger(ledger, "change", "show", change_id)))
    assert shown["status"] == "EXPIRED"
    assert shown["statusReason"].startswith("the voting period ended at ")
    again = ok(fedledger(ledger, "change", "close-expired", "--task", task_id))
    assert again.strip() == "no pending change is past its deadline"


def test_histories_and_export_of_an_unknown_task_are_refused(ledger: Any) -> None:
    for command in (
        ("task", "history", "no-such-task"),
        ("champion", "history", "no-such-task"),
        ("audit", "export", "--task", "no-such-task"),
    ):
        assert refused(fedledger(ledger, *command)).startswith(
            "error: query refused: task no-such-task does not exist"
        ), command
