"""The demo, step by step: a task, three proposals, the validators' votes, a verified champion.

1. Org1 creates the task: the agreed schema, roc_auc, and the policy every member signs up to.
2. Each organisation's validator starts with its own private holdout.
3. Org1 proposes a logistic regression trained on its own rows: the validators evaluate it
   on their holdouts and vote; it becomes the champion.
4. Org2 proposes a gradient-boosted model: better on every holdout, it replaces the champion.
5. Org3 proposes a model trained on shuffled labels: the validators reject it.
6. Org3 fetches the champion, checks its hash against the ledger, and scores its own rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fedledger.demo.data import OrgData, demo_schema, poisoned, split_between
from fedledger.models.conversion import convert
from fedledger.models.inputs import encode_target
from fedledger.models.scoring import Scorer
from fedledger.models.train import train
from fedledger.network.validators import NetworkValidators
from fedledger.profile import ConnectionProfile
from fedledger.proposing import propose_model, votes_in, wait_for_decision
from fedledger.registry import Policy, Proposal, Registry, Vote, open_registry
from fedledger.schema.types import Schema
from fedledger.store.factory import open_store

DECISION_TIMEOUT = 180.0
Say = Callable[[str], None]


@dataclass
class Round:
    title: str
    proposer: str
    proposal: Proposal
    votes: tuple[Vote, ...]
    seconds: float


@dataclass
class DemoResult:
    task_id: str
    rounds: list[Round] = field(default_factory=list)
    champion: str | None = None
    consumer_auc: float | None = None


def policy(members: int) -> Policy:
    return Policy(
        quorum=members,
        approval_threshold=0.66,
        min_score=0.6,
        max_regression=0.02,
        voting_period_seconds=600,
        max_model_bytes=16 * 1024 * 1024,
        max_open_proposals_per_org=2,
    )


def new_task_id(registry: Registry) -> str:
    """The ledger keeps every earlier demo's task; each run gets the next free id."""
    taken = {task.id for task in registry.all_tasks()}
    number = 1
    while f"credit-risk-{number}" in taken:
        number += 1
    return f"credit-risk-{number}"


def propose(
    profile: ConnectionProfile,
    org: OrgData,
    task_id: str,
    model: bytes,
    store: Path,
    say: Say,
) -> tuple[Proposal, tuple[Vote, ...], float]:
    started = time.monotonic()
    with open_registry(profile, org.msp_id) as registry:
        proposal = propose_model(registry, open_store(store), task_id, model)
        say(f"{org.msp_id} proposed {proposal.id}; the validators are evaluating it")
        decided = wait_for_decision(
            registry,
            proposal.id,
            DECISION_TIMEOUT,
            lambda p: say(f"{p.id}: {votes_in(p)} of {len(p.electorate)} votes in"),
        )
        votes = registry.get_votes(proposal.id)
    return decided, votes, time.monotonic() - started


def score_locally(model: bytes, org: OrgData, schema: Schema) -> float:
    """What a consumer does with the champion: run it on its own rows."""
    import pandas as pd

    holdout = pd.read_parquet(org.holdout_path)
    probabilities = Scorer(model, schema).score(holdout).probabilities
    assert probabilities is not None  # the demo's task is a classification
    return float(roc_auc_score(encode_target(holdout, schema), probabilities[:, 1]))


def run_demo(
    profile: ConnectionProfile,
    validators: NetworkValidators,
    folder: Path,
    store: Path,
    say: Say,
    rows: int = 9000,
) -> DemoResult:
    """The demo's story on the network of `profile`, with its files in `folder` and the models
    in the store at `store` (the network's, so that `fedledger models fetch` finds them). The
    network's `validators` also serve the demo's task from then on, each on its organisation's
    holdout, as `fedledger network up --validators` would have them.

    Raises NotReadyError when a validator does not serve (ValidatorExitedError, with its log,
    when it died), DecisionTimeoutError when a proposal is not decided in time, and the
    registry's and the ledger's errors (RegistryError, FabricError).
    """
    schema = demo_schema()
    members = profile.msp_ids[:3]
    first, second, third = (members * 3)[:3]
    with open_registry(profile, first) as registry:
        task_id = new_task_id(registry)
        registry.create_task(
            task_id,
            schema=schema.to_dict(),
            metric="roc_auc",
            members=members,
            policy=policy(len(members)),
            description="Probability of default on consumer loans (synthetic demo data).",
        )
    say(f"{first} created task {task_id}: every member votes, 66 % must approve")
    # Each task's holdouts stay as they were: the validators keep serving earlier demo tasks.
    data = split_between(members, rows, folder / task_id)
    result = DemoResult(task_id)
    holdouts = {m: {task_id: data[m].holdout_path} for m in members}
    validators.add_tasks(profile, holdouts)
    say(f"validators of {', '.join(members)} are watching the ledger")
    candidates = [
        ("a logistic regression", first, LogisticRegression(max_iter=500), False),
        ("gradient-boosted trees", second, HistGradientBoostingClassifier(max_iter=150), False),
        (
            "a logistic regression on shuffled labels",
            third,
            LogisticRegression(max_iter=500),
            True,
        ),
    ]
    for title, proposer, estimator, poison in candidates:
        rows_of = data[proposer].train
        trained = train(schema, poisoned(rows_of, schema) if poison else rows_of, estimator)
        model = convert(trained, task_id=task_id)
        say(f"{proposer} trained {title} on its own {len(rows_of):,} rows")
        decided, votes, seconds = propose(profile, data[proposer], task_id, model, store, say)
        result.rounds.append(Round(title, proposer, decided, votes, seconds))
    with open_registry(profile, third) as registry:
        champion = registry.get_champion(task_id)
    model = open_store(store).get(champion.uri, champion.model_sha256)
    result.champion = champion.proposal_id
    result.consumer_auc = score_locally(model, data[third], schema)
    return result
