"""A fourth organisation, created alone in its own folder, joins the running channel by a config
update signed by two of three admins, and is removed the same way (every backend).

Each admin signs with only its own key (its identity from the profile); the new organisation's
client is accepted by an existing peer's Gateway for a query only while it is a member.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fedledger.channelconfig.envelopes import config_update_transaction, read_update_file
from fedledger.channelconfig.errors import BroadcastError
from fedledger.channelconfig.ledger import broadcast, orderer_of
from fedledger.cli.app import app
from fedledger.fabric.connect import connect, tls_of
from fedledger.fabric.errors import EvaluateError
from fedledger.fabric.gateway import Gateway
from fedledger.fabric.identity import SigningIdentity
from fedledger.orgs.standalone import load_org
from fedledger.runtime.ports import free_port_base

from .everywhere import profile_caught_up

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
runner = CliRunner()
ORG4 = "Org4MSP"


def fedledger(ledger: Any, *args: str, org: str | None = None) -> Result:
    """The command as `org`'s admin. An update it submits has waited for `org`'s own peer only:
    the next command may read the configuration through another organisation's peer, so this
    waits until every peer has the block."""
    where = ["--profile", str(ledger.profile.path)]
    if org is not None:
        where += ["--as", org]
    result = runner.invoke(app, [*args, *where])
    if args[:2] == ("channel", "submit-update") and result.exit_code == 0:
        profile_caught_up(ledger.profile)
    return result


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def org4_block_height(ledger: Any, org_dir: Path) -> int:
    """Chain height through Org1's peer's Gateway, asked by Org4's User1."""
    org4 = load_org(org_dir)
    user = SigningIdentity.from_msp_folder(org4.layout.client.msp, ORG4)
    org1 = ledger.profile.org("Org1MSP")
    with Gateway.connect(org1.gateway.endpoint, user, tls_of(org1)) as gateway:
        return gateway.network(ledger.profile.channel).block_height()


def beat(ledger: Any, msp_id: str) -> int:
    """A fresh heartbeat submitted through the organisation's own peer: its count."""
    profile = ledger.profile
    with connect(profile, msp_id) as gateway:
        contract = gateway.network(profile.channel).contract(profile.chaincode)
        return int(json.loads(contract.submit("health:Beat", [f"members-{uuid.uuid4().hex[:8]}"])))


@pytest.fixture
def org4_file(tmp_path: Path) -> Path:
    org_dir = tmp_path / "org4-host" / "org"
    result = runner.invoke(
        app,
        [
            "org", "init", "--msp-id", ORG4, "--domain", "org4.example.com",
            "--host", "127.0.0.1", "--port", str(free_port_base()), "--dir", str(org_dir),
        ],
    )  # fmt: skip
    ok(result)
    ok(
        runner.invoke(
            app, ["org", "export", "--dir", str(org_dir), "--out", str(tmp_path / "org4.json")]
        )
    )
    return tmp_path / "org4.json"


def test_a_fourth_org_joins_with_two_of_three_admins_and_leaves(
    ledger: Any, org4_file: Path, tmp_path: Path
) -> None:
    org_dir = org4_file.parent / "org4-host" / "org"
    update = str(tmp_path / "add.pb")
    with pytest.raises(EvaluateError):
        org4_block_height(ledger, org_dir)

    ok(fedledger(ledger, "channel", "add-org", str(org4_file), "--out", update, org="Org1MSP"))
    ok(fedledger(ledger, "channel", "sign-update", update, org="Org1MSP"))
    refused = fedledger(ledger, "channel", "submit-update", update, org="Org1MSP")
    assert refused.exit_code == 1
    assert "still to sign: 1 more of Org2MSP, Org3MSP" in refused.output
    assert "signed by Org1MSP" in refused.output

    ok(fedledger(ledger, "channel", "sign-update", update, org="Org2MSP"))
    submitted = ok(fedledger(ledger, "channel", "submit-update", update, org="Org1MSP"))
    assert "members: Org1MSP, Org2MSP, Org3MSP, Org4MSP" in submitted
    shown = ok(fedledger(ledger, "channel", "show", org="Org3MSP"))
    port = load_org(org_dir).peer_port
    assert f"Org4MSP  anchor peers: 127.0.0.1:{port}" in shown
    assert org4_block_height(ledger, org_dir) > 0
    # MAJORITY Endorsement is now 3 of 4: the three peers that exist still endorse.
    assert beat(ledger, "Org2MSP") == 1

    removal = str(tmp_path / "remove.pb")
    ok(fedledger(ledger, "channel", "remove-org", ORG4, "--out", removal, org="Org2MSP"))
    ok(fedledger(ledger, "channel", "sign-update", removal, org="Org3MSP"))
    refused = fedledger(ledger, "channel", "submit-update", removal, org="Org3MSP")
    assert "still to sign: 2 more of Org1MSP, Org2MSP, Org4MSP" in refused.output
    ok(fedledger(ledger, "channel", "sign-update", removal, org="Org2MSP"))
    ok(fedledger(ledger, "channel", "sign-update", removal, org="Org1MSP"))
    ok(fedledger(ledger, "channel", "submit-update", removal, org="Org3MSP"))
    shown = ok(fedledger(ledger, "channel", "show", org="Org1MSP"))
    assert "Org4MSP" not in shown
    with pytest.raises(EvaluateError):
        org4_block_height(ledger, org_dir)
    assert beat(ledger, "Org3MSP") == 1


def test_a_stale_update_is_refused(ledger: Any, org4_file: Path, tmp_path: Path) -> None:
    """An update prepared before another one was applied reads old versions: refused before it
    is sent."""
    first, second = str(tmp_path / "first.pb"), str(tmp_path / "second.pb")
    ok(fedledger(ledger, "channel", "add-org", str(org4_file), "--out", first, org="Org1MSP"))
    ok(fedledger(ledger, "channel", "add-org", str(org4_file), "--out", second, org="Org1MSP"))
    for path in (first, second):
        for org in ("Org1MSP", "Org2MSP"):
            ok(fedledger(ledger, "channel", "sign-update", path, org=org))
    ok(fedledger(ledger, "channel", "submit-update", first, org="Org1MSP"))
    stale = fedledger(ledger, "channel", "submit-update", second, org="Org1MSP")
    assert stale.exit_code == 1
    assert "the configuration changed since the update was prepared" in stale.output
    removal = str(tmp_path / "remove.pb")
    ok(fedledger(ledger, "channel", "remove-org", ORG4, "--out", removal, org="Org1MSP"))
    for org in ("Org1MSP", "Org2MSP", "Org3MSP"):
        ok(fedledger(ledger, "channel", "sign-update", removal, org=org))
    ok(fedledger(ledger, "channel", "submit-update", removal, org="Org1MSP"))


def test_the_orderer_itself_refuses_too_few_admins(
    ledger: Any, org4_file: Path, tmp_path: Path
) -> None:
    """Sent past the local check, an update with one admin's signature is refused by the
    orderer (BAD_REQUEST, as Fabric's orderer answers), and the channel keeps its members."""
    update = tmp_path / "add.pb"
    ok(fedledger(ledger, "channel", "add-org", str(org4_file), "--out", str(update), org="Org1MSP"))
    ok(fedledger(ledger, "channel", "sign-update", str(update), org="Org1MSP"))
    envelope, _ = read_update_file(update)
    org1 = ledger.profile.org("Org1MSP")
    admin = SigningIdentity.from_msp_folder(org1.identity("admin"), "Org1MSP")
    transaction = config_update_transaction(envelope, ledger.profile.channel, admin)
    with pytest.raises(BroadcastError, match=r"refused the update: BAD_REQUEST: .*Admins"):
        broadcast(orderer_of(ledger.profile), transaction)
    assert "Org4MSP" not in ok(fedledger(ledger, "channel", "show", org="Org1MSP"))


def _change(ledger: Any, command: list[str], path: Path, signers: list[str]) -> None:
    ok(fedledger(ledger, "channel", *command, "--out", str(path), org=signers[0]))
    for org in signers:
        ok(fedledger(ledger, "channel", "sign-update", str(path), org=org))
    ok(fedledger(ledger, "channel", "submit-update", str(path), org=signers[0]))


def test_membership_survives_a_restart(ledger: Any, org4_file: Path, tmp_path: Path) -> None:
    """The configuration in force is read back from the ledger's own blocks after a restart."""
    org_dir = org4_file.parent / "org4-host" / "org"
    _change(ledger, ["add-org", str(org4_file)], tmp_path / "add.pb", ["Org1MSP", "Org3MSP"])
    ledger.restart_peer("Org1MSP", kill=False)
    assert org4_block_height(ledger, org_dir) > 0
    _change(ledger, ["remove-org", ORG4], tmp_path / "rm.pb", ["Org1MSP", "Org2MSP", "Org3MSP"])
    assert "Org4MSP" not in ok(fedledger(ledger, "channel", "show", org="Org2MSP"))
    if ledger.backend == "embedded":
        from fedledger.embedded import verify_ledger

        report = verify_ledger(ledger.network.paths.run_dir)
        assert report.ok, report.summary()


def test_an_org_group_is_what_configtxgen_writes(fabric_ledger: Any) -> None:
    """The group `add-org` builds for an organisation equals, proto for proto, the group
    configtxgen wrote for the same organisation in the native network's genesis block; so do
    the Application group's own policies of the embedded ledger's genesis."""
    from fabric_protos.common import common_pb2
    from fabric_protos.msp import msp_config_pb2

    from fedledger.channelconfig.elements import member_org_group
    from fedledger.channelconfig.envelopes import config_of_block
    from fedledger.channelconfig.genesis import channel_config
    from fedledger.channelconfig.members import application, member_summaries
    from fedledger.fabric.connect import connect

    profile = fabric_ledger.profile
    with connect(profile, "Org1MSP", identity="admin") as gateway:
        qscc = gateway.network(profile.channel).contract("qscc")
        block = common_pb2.Block.FromString(
            qscc.evaluate("GetBlockByNumber", [profile.channel, "0"])
        )
    genesis = config_of_block(block)
    for summary in member_summaries(genesis):
        native = application(genesis).groups[summary.msp_id]
        msp = msp_config_pb2.MSPConfig.FromString(native.values["MSP"].value)
        fabric_msp = msp_config_pb2.FabricMSPConfig.FromString(msp.config)
        host, _, port = summary.anchor_peers[0].rpartition(":")
        ours = member_org_group(
            summary.msp_id,
            list(fabric_msp.root_certs),
            list(fabric_msp.tls_root_certs),
            [(host, int(port))],
        )
        assert ours == native
    embedded = channel_config([], _orderer_material(genesis), 0.25, 10)
    assert application(embedded).policies == application(genesis).policies
    assert embedded.channel_group.policies == genesis.channel_group.policies
    assert set(embedded.channel_group.groups["Orderer"].policies) == set(
        genesis.channel_group.groups["Orderer"].policies
    )


def _orderer_material(genesis: Any) -> Any:
    from fabric_protos.msp import msp_config_pb2

    from fedledger.channelconfig.genesis import OrgMaterial

    (msp_id, group), *_ = genesis.channel_group.groups["Orderer"].groups.items()
    config = msp_config_pb2.FabricMSPConfig.FromString(
        msp_config_pb2.MSPConfig.FromString(group.values["MSP"].value).config
    )
    return OrgMaterial(msp_id, config.root_certs[0], config.tls_root_certs[0], (("h", 1),))
