"""Fabric 2.2's ordering (no channel participation): which versions, the installation without
osnadmin, the system channel profile, and the orderer bootstrapped from its block."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.unit.test_installation import env_for, release_files, write_tree

from fedledger.installation import InstallationError, find_installation
from fedledger.installation.discover import has_channel_participation
from fedledger.network.configtx import PROFILE, build_configtx
from fedledger.network.nodeconfig import orderer_overrides
from fedledger.network.system_channel import CONSORTIUM, SYSTEM_PROFILE, with_system_channel
from fedledger.orgs.layout import OrdererOrgLayout, OrgLayout
from fedledger.runtime.definition import DEFAULT_DEFINITION, NetworkDefinition


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.2.15", False), ("v2.2.4", False), ("1.4.12", False), ("2.3.0", True),
     ("2.5.16", True), ("3.1.5", True), ("unknown", True)],
)  # fmt: skip
def test_channel_participation_arrived_in_2_3(version: str, expected: bool) -> None:
    assert has_channel_participation(version) is expected


def test_a_22_installation_needs_no_osnadmin(tmp_path: Path) -> None:
    cache = tmp_path / "home" / ".cache" / "fedledger" / "fabric" / "2.2.15"
    write_tree(cache, release_files("2.2.15", skip="bin/osnadmin"))
    found = find_installation("2.2.15", env_for(tmp_path))
    assert found.channel_participation is False


def test_a_25_installation_without_osnadmin_is_incomplete(tmp_path: Path) -> None:
    cache = tmp_path / "home" / ".cache" / "fedledger" / "fabric" / "2.5.16"
    write_tree(cache, release_files("2.5.16", skip="bin/osnadmin"))
    with pytest.raises(InstallationError, match=r"is incomplete: missing bin/osnadmin$"):
        find_installation("2.5.16", env_for(tmp_path))


def test_the_system_channel_holds_the_orderer_and_a_consortium(tmp_path: Path) -> None:
    definition = NetworkDefinition.load()
    members = [OrgLayout.under(tmp_path, m.domain) for m in definition.members]
    plain = build_configtx(definition, OrdererOrgLayout.under(tmp_path, "o"), members)
    document = with_system_channel(plain)
    system = document["Profiles"][SYSTEM_PROFILE]
    channel = document["Profiles"][PROFILE]
    assert system["Orderer"] == plain["Profiles"][PROFILE]["Orderer"]
    consortium = system["Consortiums"][CONSORTIUM]["Organizations"]
    assert [org["ID"] for org in consortium] == ["Org1MSP", "Org2MSP", "Org3MSP"]
    assert channel["Consortium"] == CONSORTIUM
    assert "Orderer" not in channel
    assert channel["Application"] == plain["Profiles"][PROFILE]["Application"]
    assert "Orderer" in plain["Profiles"][PROFILE]  # the 2.5 document is left as it was


def test_a_22_orderer_bootstraps_from_the_system_block_without_an_admin_endpoint(
    tmp_path: Path,
) -> None:
    definition = NetworkDefinition.load()
    config = orderer_overrides(
        node=OrdererOrgLayout.under(tmp_path, "orderer.x").orderer(0),
        msp_id="OrdererMSP",
        ports=definition.orderer_ports(0),
        data_dir=tmp_path,
        admin_client_ca=tmp_path / "ca.pem",
        system_channel_block=tmp_path / "system-genesis.block",
    )
    assert config["General"]["BootstrapMethod"] == "file"
    assert config["General"]["BootstrapFile"] == str(tmp_path / "system-genesis.block")
    assert "Admin" not in config
    assert "ChannelParticipation" not in config


def test_the_definition_names_the_fabric_release() -> None:
    default = NetworkDefinition.load()
    assert default.fabric_version == "2.5.16"
    assert default.with_overrides(fabric_version="2.2.15").fabric_version == "2.2.15"
    text = DEFAULT_DEFINITION.read_text().replace("\nchannel:", "\nfabricVersion: 2.2.15\nchannel:")
    loaded = NetworkDefinition.from_dict(yaml.safe_load(text), base=DEFAULT_DEFINITION.parent)
    assert loaded.fabric_version == "2.2.15"
