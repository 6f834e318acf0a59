"""A task with real models on a running ledger, and a `fedledger serve` process, for the
serving tests and bench/bench_serve.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from tests.integration.everywhere import profile_caught_up

from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.proposing import propose_model
from fedledger.registry import Policy, open_registry
from fedledger.registry.errors import RegistryError
from fedledger.runtime.health import wait_for
from fedledger.store.factory import open_store

SCHEMA = synthetic_schema()
ROWS = synthetic_frame(SCHEMA, 1200, seed=5)
MEMBERS = ["Org1MSP", "Org2MSP", "Org3MSP"]


def new_task(ledger: Any) -> str:
    task_id = f"serve-{uuid.uuid4().hex[:8]}"
    with open_registry(ledger.profile, "Org1MSP") as registry:
        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=MEMBERS,
            policy=Policy(2, 0.5, None, None, 600, 1_000_000, 2),
        )
    return task_id


def models(task_id: str) -> tuple[bytes, bytes]:
    """Two different models of the task: a logistic regression and a boosted tree."""
    frame = ROWS.iloc[:900]
    first = convert(train(SCHEMA, frame, LogisticRegression(max_iter=500)), task_id)
    second = convert(
        train(SCHEMA, frame, HistGradientBoostingClassifier(max_iter=20, random_state=0)), task_id
    )
    return first, second


def accept(ledger: Any, store: Path, task_id: str, model: bytes) -> str:
    """Propose `model` as Org1; Org2 and Org3 approve and the last voter decides. Each acts once
    its own peer has what the step before committed (another organisation's peer commits the
    block in its own time: tests/integration/everywhere.py)."""
    with open_registry(ledger.profile, "Org1MSP") as registry:
        proposal = propose_model(registry, open_store(store), task_id, model)
    for voted, org in enumerate(("Org2MSP", "Org3MSP")):
        with open_registry(ledger.profile, org) as registry:
            wait_for(
                lambda r=registry, n=voted: (
                    len(r.get_votes(proposal.id)) >= n if _known(r, proposal.id) else False
                ),
                f"the proposal and {voted} vote(s) on {org}'s peer",
                60,
            )
            registry.cast_vote(
                proposal.id,
                decision="approve",
                metrics={"roc_auc": 0.9},
                holdout_rows=100,
                evaluator_version="test",
                reason="fine",
            )
            if org == "Org3MSP":
                registry.decide(proposal.id)
    return proposal.id


def _known(registry: Any, proposal_id: str) -> bool:
    try:
        registry.get_proposal(proposal_id)
    except RegistryError:
        return False
    return True


def wait_champion_seen(ledger: Any, msp_id: str, task_id: str, proposal_id: str) -> None:
    """Until `msp_id`'s peer holds `proposal_id` as the champion: a decision is committed on the
    decider's peer first, and on Fabric another peer commits the block on its own time."""
    with open_registry(ledger.profile, msp_id) as registry:

        def seen() -> bool:
            champion = registry.find_champion(task_id)
            return champion is not None and champion.proposal_id == proposal_id

        wait_for(seen, f"{msp_id}'s peer to see the champion {proposal_id}", timeout=30)


def revoke_champion(ledger: Any, task_id: str) -> str:
    """Every member approves a change revoking the champion, each once its own peer has the
    change and the approvals before; returns the change id."""
    with open_registry(ledger.profile, "Org2MSP") as registry:
        change = registry.propose_change(task_id, "revokeChampion", reason="leaks a feature")
    for org in ("Org1MSP", "Org3MSP"):
        profile_caught_up(ledger.profile)
        with open_registry(ledger.profile, org) as registry:
            registry.vote_change(change.id, "approve")
    return change.id


def _as_typed(path: Path, folder: Path) -> str:
    """Relative to `folder` when inside it, as a user in that folder types it."""
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)


class ServeProcess:
    """`fedledger serve` run as a user runs it, from `folder`, on `port`."""

    def __init__(self, ledger: Any, folder: Path, task_id: str, store: Path, port: int) -> None:
        command = [
            str(Path(sys.executable).parent / "fedledger"),
            "--log-json",
            "serve",
            "--task", task_id,
            "--org", "Org3MSP",
            "--port", str(port),
            "--store", _as_typed(store, folder),
            "--profile", str(ledger.profile.path),
        ]  # fmt: skip
        self.log = folder / "serve.log"
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, env={**os.environ}
            )
        wait_for(self._live, f"fedledger serve on {self.url} (log: {self.log})", 60)

    def _live(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"fedledger serve exited: {self.log.read_text()}")
        try:
            return httpx.get(self.url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def serving(self) -> str | None:
        """The proposal id in service, None when nothing is."""
        answer = httpx.get(self.url + "/model", timeout=5)
        return str(answer.json()["proposal_id"]) if answer.status_code == 200 else None

    def wait_serving(self, proposal_id: str | None, within: float) -> float:
        """Seconds until `proposal_id` is in service; fails after `within` seconds."""
        started = time.monotonic()
        wait_for(lambda: self.serving() == proposal_id, f"{proposal_id} in service", within)
        return time.monotonic() - started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
