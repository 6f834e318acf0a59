"""One organisation's lifecycle decisions (deploy/org_lifecycle.py), with the `peer` command's
answers given: which sequence a build belongs to, when a commit is refused, what a failure says.
The real `peer` runs in tests/integration/test_deploy.py."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fedledger.deploy.admin import Endpoint, PeerAdmin, finish
from fedledger.deploy.errors import NotReadyToCommitError, PeerCommandError
from fedledger.deploy.org_lifecycle import Definition, Outcome, commit, target_definition
from fedledger.network.packaging import ChaincodePackage

LABEL = "fedledger_0.3.0_0123456789ab"


@dataclass(frozen=True)
class AnsweringAdmin(PeerAdmin):
    """A PeerAdmin whose `peer` answers querycommitted with `committed` and records each call."""

    committed: tuple[dict[str, object], ...] = ()
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def run(
        self, step: str, *args: str, check: bool = True, several_peers: bool = False
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        answer = {"chaincode_definitions": list(self.committed)}
        return subprocess.CompletedProcess(args, 0, json.dumps(answer), "")


def admin(*committed: dict[str, object]) -> AnsweringAdmin:
    return AnsweringAdmin(
        peer_binary=Path("peer"),
        config_dir=Path("config"),
        msp_id="Org1MSP",
        admin_msp=Path("msp"),
        peer=Endpoint("peer0:7051", Path("tlsca.pem")),
        committed=committed,
    )


def package() -> ChaincodePackage:
    return ChaincodePackage(Path("fedledger.tar.gz"), LABEL)


def test_a_first_deployment_is_sequence_one() -> None:
    definition, committed = target_definition(admin(), package(), "ch", "fedledger")
    assert definition == Definition("ch", "fedledger", LABEL, 1)
    assert not committed


def test_the_committed_build_is_joined_at_its_sequence() -> None:
    running = {"name": "fedledger", "version": LABEL, "sequence": 4}
    definition, committed = target_definition(admin(running), package(), "ch", "fedledger")
    assert definition.sequence == 4
    assert committed


def test_another_build_is_the_next_sequence() -> None:
    other = {"name": "fedledger", "version": "fedledger_0.2.0_ffffffffffff", "sequence": 4}
    unrelated = {"name": "other", "version": LABEL, "sequence": 9}
    definition, committed = target_definition(admin(other, unrelated), package(), "ch", "fedledger")
    assert definition == Definition("ch", "fedledger", LABEL, 5)
    assert not committed


@pytest.mark.parametrize(
    ("approvals", "missing"),
    [
        ({"Org1MSP": True, "Org2MSP": False, "Org3MSP": False}, ["Org2MSP", "Org3MSP"]),
        ({"Org1MSP": True, "Org2MSP": False}, ["Org2MSP"]),  # half is not a majority
    ],
)
def test_a_commit_without_a_majority_is_refused_before_the_peer_is_asked(
    approvals: dict[str, bool], missing: list[str]
) -> None:
    asking = admin()
    outcome = Outcome("Org1MSP", "id", Definition("ch", "fedledger", LABEL, 1))
    outcome.approvals = approvals
    with pytest.raises(NotReadyToCommitError) as refused:
        commit(asking, outcome, {})
    assert refused.value.missing == missing
    assert f"waiting for {', '.join(missing)} to run `fedledger deploy`" in str(refused.value)
    # Another organisation's approval may be committed but not yet on this peer: say so.
    assert str(refused.value).endswith(
        "(an approval made moments ago reaches Org1MSP's peer with the next block: run it "
        "again then)"
    )
    assert asking.calls == []


def test_a_commit_is_endorsed_only_by_organisations_that_approved() -> None:
    asking = admin()
    outcome = Outcome("Org1MSP", "id", Definition("ch", "fedledger", LABEL, 1))
    outcome.approvals = {"Org1MSP": True, "Org2MSP": True, "Org3MSP": False}
    peers = {m: Endpoint(f"{m}:7051", Path(f"{m}.pem")) for m in outcome.approvals}
    with pytest.raises(PeerCommandError, match="no orderer"):
        commit(asking, outcome, peers)
    ordered = AnsweringAdmin(**{**asking.__dict__, "orderer": Endpoint("o:7050", Path("o.pem"))})
    commit(ordered, outcome, peers)
    (args,) = ordered.calls
    assert [args[i + 1] for i, a in enumerate(args) if a == "--peerAddresses"] == [
        "Org1MSP:7051",
        "Org2MSP:7051",
    ]
    assert outcome.committed_now


def test_a_failed_peer_command_says_the_error_not_the_usage() -> None:
    said = "Error: chaincode definition not agreed to by this org (Org3MSP)\nUsage:\n  peer …\n"
    process = subprocess.Popen(
        ["sh", "-c", f"printf '{said}' >&2; exit 1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with pytest.raises(PeerCommandError) as failed:
        finish(process, "committing fedledger sequence 2", 10)
    assert str(failed.value) == (
        "committing fedledger sequence 2 failed (exit 1): "
        "Error: chaincode definition not agreed to by this org (Org3MSP)"
    )
