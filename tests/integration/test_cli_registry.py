"""The registry commands a person types: task, propose, proposal, models (every backend)."""

from __future__ import annotations

import csv
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from fedledger.cli.app import app
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.proposing import votes_in
from fedledger.registry import Policy, open_registry
from fedledger.schema.types import Schema

from .everywhere import profile_caught_up

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
runner = CliRunner()
SCHEMA = synthetic_schema()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from sklearn.linear_model import LogisticRegression

    def make(task_id: str) -> Path:
        trained = train(SCHEMA, synthetic_frame(SCHEMA, 400, seed=1), LogisticRegression())
        path = tmp_path_factory.mktemp("models") / f"{task_id}.onnx"
        path.write_bytes(convert(trained, task_id=task_id))
        return path

    return make


def fedledger(ledger: Any, store: Path, *args: str, org: str = "Org1MSP") -> Result:
    where = ["--profile", str(ledger.profile.path), "--org", org]
    if args[0] in ("propose",) or args[:2] == ("models", "fetch"):
        where += ["--store", str(store)]
    return runner.invoke(app, [*args, *where])


def new_task(ledger: Any, members: list[str]) -> str:
    """A fresh task of SCHEMA created by Org1MSP: quorum 2, approval threshold 0.5."""
    task_id = f"cli-{uuid.uuid4().hex[:8]}"
    with open_registry(ledger.profile, "Org1MSP") as registry:
        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=members,
            policy=Policy(2, 0.5, None, None, 600, 1_000_000, 2),
        )
    return task_id


def test_task_propose_vote_fetch_verify(ledger: Any, model_file: Any, tmp_path: Path) -> None:
    task_id = f"cli-{uuid.uuid4().hex[:8]}"
    spec = tmp_path / "task.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "id": task_id,
                "description": "CLI test",
                "schema": SCHEMA.to_dict(),
                "metric": "roc_auc",
                "policy": {"quorum": 2, "approvalThreshold": 0.5},
            }
        )
    )
    store = tmp_path / "store"
    created = fedledger(ledger, store, "task", "create", str(spec))
    assert created.exit_code == 0, created.output
    assert f"created task {task_id}" in created.output

    shown = json.loads(fedledger(ledger, store, "task", "show", task_id).stdout)
    assert shown["members"] == ["Org1MSP", "Org2MSP", "Org3MSP"]
    # The features a proposer's model must take, read from the ledger, not from the spec file.
    assert shown["schema"] == SCHEMA.to_dict()
    assert Schema.from_dict(shown["schema"]).sha256() == shown["schemaSha256"]

    model = model_file(task_id)
    proposed = fedledger(
        ledger, store, "propose", str(model), "--task", task_id, "--metric", "roc_auc=0.9"
    )
    assert proposed.exit_code == 0, proposed.output
    proposal_id = proposed.stdout.split()[1]
    assert proposal_id.startswith("p-")

    # Validators are another issue's; here two organisations vote by hand, each once its own
    # peer has the writes before (Fabric's other peers commit a block in their own time).
    for org in ("Org2MSP", "Org3MSP"):
        profile_caught_up(ledger.profile)
        with open_registry(ledger.profile, org) as registry:
            registry.cast_vote(
                proposal_id,
                decision="approve",
                metrics={"roc_auc": 0.9},
                holdout_rows=100,
                evaluator_version="test",
                reason="fine",
            )
    profile_caught_up(ledger.profile)

    # The votes decide; a Decide settles the proposal (validators submit it themselves).
    waiting = fedledger(ledger, store, "proposal", "show", proposal_id)
    assert "the votes decide ACCEPTED" in waiting.output, waiting.output
    decided = fedledger(ledger, store, "proposal", "decide", proposal_id, org="Org3MSP")
    assert decided.exit_code == 0, decided.output
    assert "status ACCEPTED" in decided.output
    again = fedledger(ledger, store, "proposal", "decide", proposal_id, org="Org3MSP")
    assert again.exit_code == 1
    assert f"proposal {proposal_id} is ACCEPTED, not PENDING" in again.output
    profile_caught_up(ledger.profile)  # Org1 reads the decision Org3's peer reported

    show = fedledger(ledger, store, "proposal", "show", proposal_id, "--history")
    assert show.exit_code == 0, show.output
    assert "status ACCEPTED" in show.output
    assert "Org2MSP" in show.output
    # The audit trail: submitted, decided (votes write their own keys).
    assert "PENDING   approve 0" in show.output
    assert "ACCEPTED  approve 2" in show.output

    listed = fedledger(ledger, store, "proposal", "list", "--task", task_id)
    assert proposal_id in listed.output

    # Org1 was not needed for the decision; its evaluation is still recorded, late.
    with open_registry(ledger.profile, "Org1MSP") as registry:
        late = registry.cast_vote(
            proposal_id,
            decision="reject",
            metrics={"roc_auc": 0.7},
            holdout_rows=50,
            evaluator_version="test",
            reason="worse here",
        )
        assert late.late
    matrix_csv = tmp_path / "scores.csv"
    scores = fedledger(ledger, store, "task", "scores", task_id, "--csv", str(matrix_csv))
    assert scores.exit_code == 0, scores.output
    (row,) = [line for line in scores.stdout.splitlines() if proposal_id in line]
    assert [cell.strip() for cell in row.split("│")[4:7]] == ["0.7000 reject", "0.9000", "0.9000"]
    (written,) = csv.DictReader(matrix_csv.open())
    assert {k: v for k, v in written.items() if k != "created_at"} == {
        "proposal": proposal_id,
        "status": "ACCEPTED",
        "proposer": "Org1MSP",
        "Org1MSP_score": "0.7",
        "Org1MSP_decision": "reject",
        "Org2MSP_score": "0.9",
        "Org2MSP_decision": "approve",
        "Org3MSP_score": "0.9",
        "Org3MSP_decision": "approve",
    }

    champion = json.loads(fedledger(ledger, store, "task", "show", task_id).stdout)["champion"]
    assert champion["proposalId"] == proposal_id
    assert champion["scores"] == {"Org1MSP": 0.7, "Org2MSP": 0.9, "Org3MSP": 0.9}
    assert champion["unscored"] == []

    fetched_path = tmp_path / "champion.onnx"
    fetched = fedledger(
        ledger, store, "models", "fetch", "--task", task_id, "--out", str(fetched_path)
    )
    assert fetched.exit_code == 0, fetched.output
    assert fetched_path.read_bytes() == model.read_bytes()
    verified = fedledger(ledger, store, "models", "verify", str(fetched_path), "--task", task_id)
    assert verified.exit_code == 0, verified.output
    assert f"is the champion of {task_id}" in verified.output


def test_propose_refuses_a_model_of_another_task(
    ledger: Any, model_file: Any, tmp_path: Path
) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"])
    store = tmp_path / "store"
    foreign = model_file("some-other-task")
    result = fedledger(ledger, store, "propose", str(foreign), "--task", task_id)
    assert result.exit_code == 1
    assert f"does not fit task {task_id}, nothing was proposed" in result.output
    assert "some-other-task" in result.output
    assert not store.exists() or not any(store.rglob("*"))


def test_verify_unknown_file_and_fetch_without_champion(ledger: Any, tmp_path: Path) -> None:
    task_id = f"cli-{uuid.uuid4().hex[:8]}"
    with open_registry(ledger.profile, "Org1MSP") as registry:
        from fedledger.registry import Policy

        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=["Org1MSP"],
            policy=Policy(1, 0.5, None, None, 600, 1_000_000, 2),
        )
    stranger = tmp_path / "stranger.onnx"
    stranger.write_bytes(b"not a model")
    verified = fedledger(ledger, tmp_path, "models", "verify", str(stranger), "--task", task_id)
    assert verified.exit_code == 1
    assert "was never proposed for task" in verified.output
    fetched = fedledger(ledger, tmp_path, "models", "fetch", "--task", task_id)
    assert fetched.exit_code == 1
    assert f"task {task_id} has no champion yet" in fetched.output


def _vote_when_proposed(ledger: Any, task_id: str, decision: str, voters: list[str]) -> None:
    """What the members' validators do: once the task has a proposal, each votes on it, and the
    last submits Decide. Each waits until its own peer has the proposal and the votes before its
    own (Fabric's other peers commit a block in their own time)."""
    deadline = time.monotonic() + 60
    for before, org in enumerate(voters):
        with open_registry(ledger.profile, org) as registry:
            while True:
                proposals = list(registry.all_proposals(task_id=task_id))
                if proposals and votes_in(proposals[0]) == before:
                    break
                assert time.monotonic() < deadline, f"{org} never saw the proposal"
                time.sleep(0.1)
            registry.cast_vote(
                proposals[0].id,
                decision=decision,
                metrics={"roc_auc": 0.9},
                holdout_rows=100,
                evaluator_version="test",
                reason="by hand",
            )
            if before == len(voters) - 1:
                registry.decide(proposals[0].id)


@pytest.mark.parametrize(
    ("decision", "status", "exit_code"), [("approve", "ACCEPTED", 0), ("reject", "REJECTED", 1)]
)
def test_propose_wait_shows_the_decision_and_exits_by_it(
    ledger: Any, model_file: Any, tmp_path: Path, decision: str, status: str, exit_code: int
) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP", "Org3MSP"])
    voters = threading.Thread(
        target=_vote_when_proposed, args=(ledger, task_id, decision, ["Org2MSP", "Org3MSP"])
    )
    voters.start()
    try:
        result = fedledger(
            ledger,
            tmp_path / "store",
            "propose",
            str(model_file(task_id)),
            "--task",
            task_id,
            "--wait",
            "--timeout",
            "90",
        )
    finally:
        voters.join()
    assert result.exit_code == exit_code, result.output
    assert "2 of 3 votes in" in result.stderr
    assert f"status {status}" in result.stdout
    assert result.stdout.count("by hand") == 2


def test_propose_wait_gives_up_after_the_timeout_and_says_how_to_follow(
    ledger: Any, model_file: Any, tmp_path: Path
) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"])
    result = fedledger(
        ledger,
        tmp_path / "store",
        "propose",
        str(model_file(task_id)),
        "--task",
        task_id,
        "--wait",
        "--timeout",
        "1",
    )
    assert result.exit_code == 1
    proposal_id = result.stdout.split()[1]
    assert (
        f"error: {proposal_id} was still PENDING after 1 s with 0 of 2 votes in; `fedledger "
        f"proposal show {proposal_id}` follows it (are the members' validators running?)"
    ) in " ".join(result.stderr.split())


def test_propose_warns_of_a_member_without_a_validator_and_task_show_lists_them(
    ledger: Any, model_file: Any, tmp_path: Path
) -> None:
    task_id = new_task(ledger, ["Org1MSP", "Org2MSP", "Org3MSP"])
    announced = {}
    for org, version in (("Org2MSP", "fedledger/test onnxruntime/1.32.0"), ("Org3MSP", "v3")):
        with open_registry(ledger.profile, org) as registry:
            announced[org] = registry.announce_validator([task_id], version)
    profile_caught_up(ledger.profile)  # Org1's propose reads Org2's and Org3's announcements
    store = tmp_path / "store"
    proposed = fedledger(ledger, store, "propose", str(model_file(task_id)), "--task", task_id)
    assert proposed.exit_code == 0, proposed.output
    assert proposed.stdout.startswith("proposed p-")
    assert " ".join(proposed.stderr.split()) == (
        f"warning: Org1MSP has no validator serving task {task_id} (none announced): its vote "
        "may not come before the deadline"
    )
    shown = fedledger(ledger, store, "task", "show", task_id)
    assert json.loads(shown.stdout)["validators"] == {
        "Org1MSP": None,
        **{
            org: {
                "servingSince": announcement.tasks[task_id].isoformat(),
                "evaluatorVersion": announcement.evaluator_version,
                "lastAnnounced": announcement.announced_at.isoformat(),
            }
            for org, announcement in announced.items()
        },
    }
    assert announced["Org3MSP"].evaluator_version == "v3"
    assert announced["Org3MSP"].organization == "Org3MSP"


def test_propose_refuses_a_model_for_an_opset_the_validators_cannot_load(
    ledger: Any, model_file: Any, tmp_path: Path
) -> None:
    import onnx

    from fedledger.evaluate.runtime_support import installed_support

    task_id = new_task(ledger, ["Org1MSP", "Org2MSP"])
    future = onnx.load(str(model_file(task_id)))
    kept = [o for o in future.opset_import if o.domain != "ai.onnx.ml"]
    del future.opset_import[:]
    future.opset_import.extend([*kept, onnx.helper.make_opsetid("ai.onnx.ml", 99)])
    path = tmp_path / "future.onnx"
    path.write_bytes(future.SerializeToString())
    store = tmp_path / "store"
    refused = fedledger(ledger, store, "propose", str(path), "--task", task_id)
    assert refused.exit_code == 1
    support = installed_support()
    assert " ".join(refused.stderr.split()) == (
        f"error: {path} does not fit task {task_id}, nothing was proposed: model imports "
        f"ai.onnx.ml opset 99; onnxruntime {support.onnxruntime}, which the validators evaluate "
        f"with, supports ai.onnx.ml up to opset {support.opsets['ai.onnx.ml']} (export the model "
        "for that opset)"
    )
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))
    with open_registry(ledger.profile, "Org1MSP") as registry:
        assert list(registry.all_proposals(task_id=task_id)) == []
