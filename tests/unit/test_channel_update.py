"""Config updates computed in Python are those `configtxlator compute_update` computes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fabric_protos.common import configtx_pb2

from fedledger.channelconfig.errors import MembershipError, NoChangeError
from fedledger.channelconfig.members import (
    application,
    member_summaries,
    with_org_added,
    with_org_removed,
)
from fedledger.channelconfig.update import compute_update
from fedledger.installation import InstallationError, find_installation
from fedledger.orgs.export import OrgDefinition

from .channel_material import CHANNEL, make_crypto, org4_definition, three_org_config


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_crypto(tmp_path_factory.mktemp("crypto"))


@pytest.fixture(scope="module")
def current(crypto: Path) -> configtx_pb2.Config:
    config = three_org_config(crypto)
    # Versions as after a few updates, so that "plus one" is visible.
    config.sequence = 4
    application(config).version = 3
    application(config).groups["Org2MSP"].values["AnchorPeers"].version = 2
    return config


@pytest.fixture(scope="module")
def org4(crypto: Path) -> OrgDefinition:
    return org4_definition(crypto)


def test_adding_an_org_bumps_application_and_writes_the_org_at_zero(
    current: configtx_pb2.Config, org4: OrgDefinition
) -> None:
    update = compute_update(current, with_org_added(current, org4), CHANNEL)
    written = update.write_set.groups["Application"]
    assert written.version == 4
    assert written.mod_policy == "Admins"
    assert sorted(written.groups) == ["Org1MSP", "Org2MSP", "Org3MSP", "Org4MSP"]
    assert written.groups["Org1MSP"] == configtx_pb2.ConfigGroup(version=0)
    new = written.groups["Org4MSP"]
    assert new.version == 0
    assert sorted(new.policies) == ["Admins", "Endorsement", "Readers", "Writers"]
    assert update.read_set.groups["Application"].version == 3
    assert "Org4MSP" not in update.read_set.groups["Application"].groups
    assert update.write_set.version == update.read_set.version == 0
    assert "Orderer" not in update.write_set.groups


def test_a_changed_value_is_written_at_its_version_plus_one(current: configtx_pb2.Config) -> None:
    updated = configtx_pb2.Config()
    updated.CopyFrom(current)
    application(updated).groups["Org2MSP"].values["AnchorPeers"].value = b"other"
    update = compute_update(current, updated, CHANNEL)
    org = update.write_set.groups["Application"].groups["Org2MSP"]
    assert org.values["AnchorPeers"].version == 3
    assert update.write_set.groups["Application"].version == 3  # contains a change, not bumped
    assert list(org.values) == ["AnchorPeers"]


def test_no_change_is_refused(current: configtx_pb2.Config) -> None:
    with pytest.raises(NoChangeError, match="the same as the current one"):
        compute_update(current, current, CHANNEL)


def test_membership_errors_name_the_org(current: configtx_pb2.Config, org4: OrgDefinition) -> None:
    with pytest.raises(MembershipError, match="Org9MSP is not a member of the channel"):
        with_org_removed(current, "Org9MSP")
    added = with_org_added(current, org4)
    with pytest.raises(MembershipError, match="Org4MSP is already a member"):
        with_org_added(added, org4)
    assert [m.msp_id for m in member_summaries(added)][-1] == "Org4MSP"
    assert member_summaries(added)[-1].anchor_peers == ("peer0.org4.test:9051",)


def _configtxlator() -> Path:
    try:
        return find_installation().binary("configtxlator")
    except InstallationError as error:
        pytest.skip(f"needs Fabric's configtxlator: {error}")


def _configtxlator_update(
    tmp_path: Path, original: configtx_pb2.Config, updated: configtx_pb2.Config
) -> configtx_pb2.ConfigUpdate:
    (tmp_path / "original.pb").write_bytes(original.SerializeToString())
    (tmp_path / "updated.pb").write_bytes(updated.SerializeToString())
    subprocess.run(
        [
            str(_configtxlator()),
            "compute_update",
            "--channel_id",
            CHANNEL,
            "--original",
            str(tmp_path / "original.pb"),
            "--updated",
            str(tmp_path / "updated.pb"),
            "--output",
            str(tmp_path / "update.pb"),
        ],
        check=True,
        capture_output=True,
    )
    return configtx_pb2.ConfigUpdate.FromString((tmp_path / "update.pb").read_bytes())


def _anchor_changed(config: configtx_pb2.Config) -> configtx_pb2.Config:
    updated = configtx_pb2.Config()
    updated.CopyFrom(config)
    application(updated).groups["Org2MSP"].values[
        "AnchorPeers"
    ].value = b"\n\x0b\n\x05host2\x10\x01"
    application(updated).groups["Org3MSP"].policies["Readers"].mod_policy = "Writers"
    return updated


@pytest.mark.parametrize("case", ["add-org", "remove-org", "change-values"])
def test_the_same_update_as_configtxlator(
    case: str, current: configtx_pb2.Config, org4: OrgDefinition, tmp_path: Path
) -> None:
    updated = {
        "add-org": lambda: with_org_added(current, org4),
        "remove-org": lambda: with_org_removed(current, "Org2MSP"),
        "change-values": lambda: _anchor_changed(current),
    }[case]()
    expected = _configtxlator_update(tmp_path, current, updated)
    assert compute_update(current, updated, CHANNEL) == expected
