"""Upgrading the chaincode from 0.1 to 0.2 with proposals in flight, on each backend.

Chaincode 0.1 counted each vote in the proposal's tally, in the vote's transaction; 0.2 records
votes under their own keys and counts them in Decide. The test deploys the build of 0.1 (from
this repository's history: tests/integration/chaincode_builds.py), records a decided proposal, a
late vote on its champion and pending proposals with votes, upgrades, and decides the pending
ones under 0.2 from the votes 0.1 recorded. Fabric upgrades by its lifecycle (the new package
approved and committed at the next sequence, the chaincode servers restarted on it); the
embedded ledger, which has no lifecycle, restarts on the new build with its ledger kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from fedledger.fabric import connect
from fedledger.installation import find_installation
from fedledger.models.synthetic import synthetic_schema
from fedledger.network.native import NativeNetwork
from fedledger.profile import ConnectionProfile
from fedledger.registry import ChaincodeRefusalError, Policy, Proposal, RefusalCode, Registry
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

from .chaincode_builds import (
    CHAINCODE,
    VOTES_IN_THE_PROPOSAL,
    VOTES_UNDER_THEIR_KEYS,
    build_chaincode,
    replace_build,
)
from .conftest import skip_without_fabric
from .everywhere import CommittedEverywhere

pytestmark = [pytest.mark.ledger, pytest.mark.slow]

ORGS = ("Org1MSP", "Org2MSP", "Org3MSP")
POLICY = Policy(2, 0.5, None, 0.02, 3600, 1_000_000, 5)


def start(backend: str, source: Path, run_dir: Path) -> tuple[Any, ConnectionProfile]:
    definition = dataclasses.replace(
        NetworkDefinition.load().with_overrides(port_base=free_port_base(), batch_timeout=0.1),
        chaincode_source=source,
    )
    network: Any
    if backend == "fabric":
        network = NativeNetwork(definition, run_dir, find_installation())
    else:
        from fedledger.embedded import EmbeddedLedger

        network = EmbeddedLedger(definition, run_dir)
    return network, network.up()


@contextmanager
def registries(profile: ConnectionProfile) -> Iterator[dict[str, Registry]]:
    with ExitStack() as stack:
        networks = {
            msp: stack.enter_context(connect(profile, msp)).network(profile.channel) for msp in ORGS
        }
        peers = list(networks.values())
        yield {
            msp: Registry(CommittedEverywhere(n.contract(profile.chaincode), peers))
            for msp, n in networks.items()
        }


def propose(registry: Registry, task_id: str) -> Proposal:
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    return registry.submit_proposal(task_id, model_sha256=sha, uri=f"file:///m/{sha}", size_bytes=9)


def vote(registry: Registry, proposal_id: str, score: float) -> Any:
    return registry.cast_vote(
        proposal_id,
        decision="approve",
        metrics={"roc_auc": score},
        holdout_rows=100,
        evaluator_version="upgrade-test",
    )


@pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("fabric", marks=[pytest.mark.fabric])]
)
def test_proposals_recorded_by_chaincode_0_1_decide_after_the_upgrade(
    backend: str, tmp_path: Path
) -> None:
    if backend == "fabric":
        skip_without_fabric()
    source = build_chaincode(VOTES_IN_THE_PROPOSAL, tmp_path)
    network, profile = start(backend, source, tmp_path / "network")
    try:
        task_id = f"upgrade-{uuid.uuid4().hex[:8]}"
        with registries(profile) as registry:
            registry["Org1MSP"].create_task(
                task_id,
                schema=synthetic_schema().to_dict(),
                metric="roc_auc",
                members=list(ORGS),
                policy=POLICY,
            )
            first = propose(registry["Org1MSP"], task_id)
            vote(registry["Org1MSP"], first.id, 0.80)
            assert vote(registry["Org2MSP"], first.id, 0.81).proposal.status == "ACCEPTED"
            assert vote(registry["Org3MSP"], first.id, 0.90).late
            pending = propose(registry["Org2MSP"], task_id)
            counted = vote(registry["Org1MSP"], pending.id, 0.85).proposal
            assert (counted.status, counted.tally.approve) == ("PENDING", 1), "0.1 counts in place"
            vetoed = propose(registry["Org3MSP"], task_id)

        replace_build(source, CHAINCODE)
        if backend == "fabric":
            upgraded = network.redeploy()
            assert (upgraded.changed, upgraded.sequence) == (True, 2)
        else:
            network.down()
            profile = network.up()

        with registries(profile) as registry:
            legacy = registry["Org3MSP"].get_proposal(pending.id)
            assert (legacy.status, legacy.tally.approve) == ("PENDING", 1)
            assert vote(registry["Org3MSP"], pending.id, 0.89).proposal.status == "PENDING"
            accepted = registry["Org2MSP"].decide(pending.id)
            assert (accepted.status, accepted.tally.approve) == ("ACCEPTED", 2)
            assert sorted(accepted.tally.votes) == ["Org1MSP", "Org3MSP"]
            champion = registry["Org1MSP"].get_champion(task_id)
            assert (champion.proposal_id, champion.lineage) == (pending.id, (first.id,))
            assert champion.scores == {"Org1MSP": 0.85, "Org3MSP": 0.89}

            # Org3's score of the new champion (0.89) vetoes a model it scores 0.80; its late score
            # of the first champion (0.90, recorded by 0.1) allowed 0.89 within maxRegression.
            vote(registry["Org3MSP"], vetoed.id, 0.80)
            rejected = registry["Org1MSP"].decide(vetoed.id)
            assert rejected.status == "REJECTED"
            assert rejected.status_reason.startswith("veto: Org3MSP's roc_auc is")

            # The member outvoted on the new champion records its score late, as 0.1's did.
            assert vote(registry["Org2MSP"], pending.id, 0.84).late
            assert registry["Org1MSP"].get_champion(task_id).scores["Org2MSP"] == 0.84
            history = registry["Org1MSP"].history("proposal", pending.id)
            assert [(e.value["schemaVersion"], e.value["status"]) for e in history] == [
                (1, "ACCEPTED"),  # decided by 0.2, the record keeps the version it was written in
                (1, "PENDING"),  # 0.1 counted Org1's vote in the record
                (1, "PENDING"),
            ]
    finally:
        network.down(purge=True)


def upgrade(backend: str, network: Any, source: Path, profile: ConnectionProfile) -> Any:
    """The running chaincode replaced by this checkout's build, as an operator does it; the
    connection profile to use after (the embedded ledger restarts)."""
    replace_build(source, CHAINCODE)
    if backend == "fabric":
        upgraded = network.redeploy()
        assert (upgraded.changed, upgraded.sequence) == (True, 2)
        return profile
    network.down()
    return network.up()


def new_task(registry: Registry, policy: Policy) -> str:
    task_id = f"upgrade-{uuid.uuid4().hex[:8]}"
    registry.create_task(
        task_id,
        schema=synthetic_schema().to_dict(),
        metric="roc_auc",
        members=list(ORGS),
        policy=policy,
    )
    return task_id


@pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("fabric", marks=[pytest.mark.fabric])]
)
def test_votes_and_tallies_of_chaincode_0_2_read_and_count_after_the_upgrade_to_0_3(
    backend: str, tmp_path: Path
) -> None:
    """0.3 adds `unavailable` reports and their count in the tally: 0.2's votes still count, its
    tallies read as without reports, and an expired 0.2 proposal reopens with its vote kept."""
    if backend == "fabric":
        skip_without_fabric()
    source = build_chaincode(VOTES_UNDER_THEIR_KEYS, tmp_path)
    network, profile = start(backend, source, tmp_path / "network")
    try:
        with registries(profile) as registry:
            task_id = new_task(registry["Org1MSP"], POLICY)
            short = new_task(
                registry["Org1MSP"], dataclasses.replace(POLICY, voting_period_seconds=2)
            )
            pending = propose(registry["Org1MSP"], task_id)
            vote(registry["Org1MSP"], pending.id, 0.80)
            expiring = propose(registry["Org2MSP"], short)
            vote(registry["Org1MSP"], expiring.id, 0.80)
            time.sleep(2.5)
            assert registry["Org1MSP"].decide(expiring.id).status == "EXPIRED"

        profile = upgrade(backend, network, source, profile)

        with registries(profile) as registry:
            expired = registry["Org3MSP"].get_proposal(expiring.id)
            assert (expired.status, expired.tally.approve, expired.tally.unavailable) == (
                "EXPIRED",
                1,
                0,
            )
            live = registry["Org3MSP"].get_proposal(pending.id)
            assert (live.tally.approve, live.tally.unavailable) == (1, 0)
            registry["Org2MSP"].cast_vote(
                pending.id,
                decision="unavailable",
                metrics={},
                holdout_rows=0,
                evaluator_version="upgrade-test",
                reason="object_missing",
            )
            with pytest.raises(ChaincodeRefusalError) as undecided:
                registry["Org3MSP"].decide(pending.id)
            assert undecided.value.code is RefusalCode.UNDECIDED
            vote(registry["Org2MSP"], pending.id, 0.81)
            accepted = registry["Org3MSP"].decide(pending.id)
            assert (accepted.status, accepted.tally.approve, accepted.tally.unavailable) == (
                "ACCEPTED",
                2,
                0,
            )

            sha, uri = expired.model_sha256, expired.uri
            again = registry["Org2MSP"].submit_proposal(
                short, model_sha256=sha, uri=uri, size_bytes=9
            )
            assert (again.id, again.status) == (expiring.id, "PENDING")
            with pytest.raises(ChaincodeRefusalError) as twice:
                vote(registry["Org1MSP"], expiring.id, 0.7)
            assert twice.value.code is RefusalCode.ALREADY_VOTED
            vote(registry["Org3MSP"], expiring.id, 0.79)
            assert registry["Org1MSP"].decide(expiring.id).status == "ACCEPTED"
    finally:
        network.down(purge=True)
