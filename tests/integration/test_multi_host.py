"""A fourth organisation on its own host joins a running consortium, runs its own side with
`org start`, becomes a task member by governance, and its validator's vote counts; once removed
from the channel, its votes are refused and the others decide (every backend, each with a fresh
three-organisation network: the test changes the channel).

The walk-through is docs/multi-host.md's; the steps live in multi_host.py, which
bench/bench_join.py times.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from fedledger.fabric.connect import tls_of
from fedledger.fabric.errors import EndorseError
from fedledger.fabric.gateway import Gateway
from fedledger.fabric.identity import SigningIdentity
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.orgs.standalone import load_org
from fedledger.registry.errors import ChaincodeRefusalError
from fedledger.runtime import processes
from fedledger.runtime.processes import ProcessTable

from .conftest import _backends
from .multi_host import (
    MEMBERS,
    ORG4,
    TASK,
    CommandFailedError,
    Consortium,
    Joined,
    consortium_of,
    fedledger,
    first_counted_vote,
    join_org4,
)

pytestmark = [pytest.mark.ledger, pytest.mark.slow, pytest.mark.timeout(600)]


def models(count: int) -> list[bytes]:
    schema = synthetic_schema()
    frame = synthetic_frame(schema, 300 * count, seed=11)
    return [
        convert(train(schema, frame.iloc[300 * i : 300 * (i + 1)], LogisticRegression()), TASK)
        for i in range(count)
    ]


def org4_block_height(consortium: Consortium, msp_id: str) -> int:
    """The chain height through `msp_id`'s peer as Org4's profile lists it, asked by Org4's
    client."""
    profile = consortium.member_profile(ORG4)
    user = SigningIdentity.from_msp_folder(profile.org(ORG4).identity("user"), ORG4)
    member = profile.org(msp_id)
    with Gateway.connect(member.gateway.endpoint, user, tls_of(member)) as gateway:
        return gateway.network(profile.channel).block_height()


def check_join(consortium: Consortium, joined: Joined) -> None:
    # Started before the channel lists it, Org4 is told what is missing.
    assert joined.too_early is not None
    if consortium.backend == "fabric":
        assert "fetching channel fedledger's genesis block from 127.0.0.1:" in joined.too_early
        assert "the orderer serves members only: is the channel update adding Org4MSP" in (
            joined.too_early
        )
    else:
        assert "timed out after 3 s waiting for Org4MSP in channel fedledger" in joined.too_early
        assert "is the channel update adding Org4MSP submitted?" in joined.too_early
    assert f"wrote the connection profile {consortium.org4 / 'profile.yaml'}" in joined.first_start
    # No --ledger given: the orderer's answer told the first start, kept for the later ones.
    kept = yaml.safe_load((consortium.org4 / "start.yaml").read_text())
    assert kept["ledger"] == consortium.backend
    profile = consortium.member_profile(ORG4)
    assert sorted(profile.organizations) == [*MEMBERS, ORG4]
    assert profile.org(ORG4).identities["admin"] == load_org(consortium.org4).layout.admin.msp
    assert profile.org("Org2MSP").identities == {}
    # Another member's peer, found from the channel's configuration alone, answers Org4.
    assert org4_block_height(consortium, "Org2MSP") > 0
    written = (consortium.org4 / "profile.yaml").read_text()
    (consortium.org4 / "profile.yaml").unlink()
    again = fedledger("org", "profile", "--dir", str(consortium.org4))
    assert "wrote the connection profile" in again
    assert (consortium.org4 / "profile.yaml").read_text() == written
    if consortium.backend == "fabric":
        assert "peer0.org4.example.com joined channel fedledger" in joined.first_start
        assert "no chaincode service yet: Org4MSP has not deployed fedledger" in joined.first_start
        assert joined.deployed is not None
        assert "approved now by Org4MSP" in joined.deployed
        assert "committed" in joined.deployed
        assert "peer0.org4.example.com already running" in joined.second_start
        assert "started chaincode.org4.example.com: chaincode service fedledger_" in (
            joined.second_start
        )
    else:
        assert "embedded ledger: no peer of its own" in joined.first_start
    assert "APPLIED" in joined.added
    assert "started validator.org4.example.com" in joined.second_start
    status = fedledger("org", "status", "--dir", str(consortium.org4))
    assert status.count(" healthy") == (3 if consortium.backend == "fabric" else 1)
    assert "unhealthy" not in status
    assert "stopped" not in status


@pytest.mark.parametrize("backend", _backends())
def test_a_fourth_org_joins_votes_and_is_removed(backend: str, tmp_path: Path) -> None:
    with consortium_of(backend, tmp_path) as consortium:
        joined = join_org4(consortium, tmp_path / "org4-holdout.parquet", too_early=True)
        check_join(consortium, joined)
        counted, refused, after = models(3)

        proposal_id, decided = first_counted_vote(consortium, counted)
        assert decided.status == "ACCEPTED"
        assert sorted(decided.tally.votes) == ["Org1MSP", "Org2MSP", ORG4]
        assert decided.tally.approve == 3
        assert consortium.voters(proposal_id) == ["Org1MSP", "Org2MSP", ORG4]

        again = consortium.org_start()
        assert "started" not in again  # nor restarted: everything runs already
        if backend == "fabric":
            assert "peer0.org4.example.com has joined channel fedledger already" in again
        # The validator dies; the next start starts it alone.
        table = ProcessTable(consortium.org4 / "processes.json")
        processes.kill(table.records["validator.org4.example.com"])
        restarted = consortium.org_start()
        assert "started validator.org4.example.com" in restarted
        assert restarted.count("started") == 1
        assert restarted.count("already running") == (2 if backend == "fabric" else 0)

        removal = str(tmp_path / "remove-org4.pb")
        consortium.as_member(
            "Org2MSP", "channel", "remove-org", ORG4, "--out", removal, option="--as"
        )
        for msp in MEMBERS:
            consortium.as_member(msp, "channel", "sign-update", removal, option="--as")
        consortium.as_member("Org3MSP", "channel", "submit-update", removal, option="--as")
        consortium.caught_up()  # Org1's peer, asked below, applies the removal in its own time

        # Still a member of the task, no longer of the channel: the ledger refuses its vote.
        # The others' peers refuse its identity; on Fabric its own peer, which the orderer no
        # longer sends blocks, does not even know the proposal.
        next_id = consortium.propose("Org3MSP", refused)
        with pytest.raises(EndorseError) as refusal:
            consortium.org4_vote_through("Org1MSP", next_id)
        assert "access denied: channel [fedledger] creator org unknown" in str(refusal.value)
        with pytest.raises(EndorseError if backend == "embedded" else ChaincodeRefusalError) as own:
            consortium.vote(ORG4, next_id, wait_seen=False)
        if backend == "embedded":  # its gateway is the ledger's, which knows the new members
            assert "access denied: channel [fedledger] creator org unknown" in str(own.value)
        else:
            assert isinstance(own.value, ChaincodeRefusalError)
            assert own.value.code == "PROPOSAL_NOT_FOUND"
        stopped = fedledger("org", "stop", "--dir", str(consortium.org4))
        assert "validator.org4.example.com" in stopped
        for msp in MEMBERS:
            consortium.vote(msp, next_id)
        decided = consortium.decided(next_id)
        assert decided.status == "ACCEPTED"
        assert sorted(decided.tally.votes) == list(MEMBERS)

        # Then out of the task too (it has no say in its own removal).
        applied = consortium.change("remove-member", ORG4, "Org1MSP", ("Org2MSP", "Org3MSP"))
        assert "APPLIED" in applied
        last_id = consortium.propose("Org1MSP", after)
        for msp in MEMBERS:
            consortium.vote(msp, last_id)
        last = consortium.decided(last_id)
        assert last.status == "ACCEPTED"
        assert ORG4 not in last.electorate


def test_org_start_without_an_orderer_says_what_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fedledger(
        "org", "init", "--msp-id", ORG4, "--domain", "org4.example.com", "--host", "127.0.0.1"
    )  # fmt: skip
    with pytest.raises(CommandFailedError) as failed:
        fedledger("org", "start", "--ledger", "embedded")
    assert "no orderer known: give --orderer HOST:PORT and --orderer-tls-ca FILE" in (
        failed.value.output
    )
    with pytest.raises(CommandFailedError) as failed:
        fedledger("org", "start", "--ledger", "besu")
    assert "--ledger 'besu': use auto, fabric or embedded" in failed.value.output
    with pytest.raises(CommandFailedError) as failed:
        fedledger("org", "start", "--orderer", "o:7050", "--orderer-tls-ca", "given.pem")
    assert "--orderer-tls-ca given.pem: no such file" in failed.value.output
    assert "nothing started for Org4MSP in org" in fedledger("org", "status")
    assert "stopped 0 processes" in fedledger("org", "stop")
    assert not (tmp_path / "org" / "start.yaml").exists()
