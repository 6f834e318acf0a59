"""Network definition, port plan, generated node configuration and channel configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fedledger.network.configtx import PROFILE, build_configtx
from fedledger.network.nodeconfig import (
    merge,
    orderer_overrides,
    peer_gossip,
    peer_overrides,
    write_config,
)
from fedledger.orgs import OrdererOrgLayout, OrgLayout
from fedledger.runtime.definition import (
    DEFAULT_DEFINITION,
    DefinitionError,
    NetworkDefinition,
    parse_duration,
)


@pytest.fixture
def definition() -> NetworkDefinition:
    return NetworkDefinition.load()


def test_default_definition(definition: NetworkDefinition) -> None:
    assert [m.msp_id for m in definition.members] == ["Org1MSP", "Org2MSP", "Org3MSP"]
    assert definition.ordering.orderers == 1
    assert definition.batch_timeout == pytest.approx(0.5)
    assert definition.chaincode_source.name == "chaincode"


@pytest.mark.parametrize(
    ("text", "seconds"), [("500ms", 0.5), ("2s", 2.0), ("1m", 60.0), (" 1.5s ", 1.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "x") == pytest.approx(seconds)


def test_bad_duration_names_the_field() -> None:
    with pytest.raises(DefinitionError, match=r"ordering.batchTimeout: '5 parsecs' is not"):
        parse_duration("5 parsecs", "ordering.batchTimeout")


def test_ports_of_all_nodes_are_distinct(definition: NetworkDefinition) -> None:
    big = definition.with_overrides(orgs=10, orderers=9, port_base=30000)
    ports: list[int] = []
    for i in range(9):
        o = big.orderer_ports(i)
        ports += [o.listen, o.admin, o.operations]
    for i in range(10):
        p = big.peer_ports(i)
        ports += [p.listen, p.chaincode, p.operations, p.chaincode_server, p.validator]
    assert len(ports) == len(set(ports))
    assert min(ports) == 30000
    assert max(ports) < 30000 + big.highest_port_offset <= 30000 + 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"orgs": 0}, "organizations.count is 0: use 1 to 10"),
        ({"orgs": 11}, "organizations.count is 11"),
        ({"orderers": 0}, "ordering.orderers is 0"),
        ({"port_base": 80}, "ports.base is 80"),
        ({"port_base": 65500}, "ports.base is 65500"),
        ({"batch_timeout": 0.0}, "batchTimeout must be positive"),
    ],
)
def test_overrides_are_checked(
    definition: NetworkDefinition, overrides: dict[str, int], message: str
) -> None:
    with pytest.raises(DefinitionError, match=message):
        definition.with_overrides(**overrides)  # type: ignore[arg-type]


def test_missing_field_is_named(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_DEFINITION.read_text())
    del document["ordering"]["mspId"]
    with pytest.raises(DefinitionError, match=r"ordering\.mspId is missing"):
        NetworkDefinition.from_dict(document, tmp_path)


def test_merge_keeps_unrelated_settings() -> None:
    base = {"peer": {"id": "jdoe", "gossip": {"bootstrap": "x", "pullInterval": "4s"}}, "vm": {}}
    merged = merge(base, {"peer": {"gossip": {"bootstrap": "y"}}, "vm": {"endpoint": ""}})
    assert merged == {
        "peer": {"id": "jdoe", "gossip": {"bootstrap": "y", "pullInterval": "4s"}},
        "vm": {"endpoint": ""},
    }
    assert base["peer"]["gossip"]["bootstrap"] == "x"  # type: ignore[index]


def test_peer_config_disables_docker_and_sets_own_ports(
    definition: NetworkDefinition, tmp_path: Path
) -> None:
    sample = tmp_path / "core.yaml"
    sample.write_text(
        yaml.safe_dump(
            {
                "peer": {"id": "jdoe", "chaincodeListenAddress": "0.0.0.0:7052"},
                "vm": {"endpoint": "unix:///var/run/docker.sock"},
            }
        )
    )
    node = OrgLayout.under(tmp_path, "org1.x").peer(0)
    ports = definition.peer_ports(0)
    overrides = peer_overrides(
        node=node,
        msp_id="Org1MSP",
        ports=ports,
        data_dir=tmp_path / "d",
        ccaas_builder=tmp_path,
        channel_peers=3,
    )
    write_config(sample, overrides, tmp_path / "out" / "core.yaml")
    written = yaml.safe_load((tmp_path / "out" / "core.yaml").read_text())
    assert written["vm"]["endpoint"] == ""
    assert written["peer"]["chaincodeListenAddress"] == f"127.0.0.1:{ports.chaincode}"
    assert written["peer"]["gossip"]["externalEndpoint"] == f"127.0.0.1:{ports.listen}"
    assert written["peer"]["tls"]["enabled"] is True
    assert written["operations"]["listenAddress"] == f"127.0.0.1:{ports.operations}"
    builder = written["chaincode"]["externalBuilders"][0]
    assert builder["propagateEnvironment"] == ["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"]


@pytest.mark.parametrize(
    ("peers", "alive", "state_info"),
    [(1, "2000ms", "1000ms"), (3, "2000ms", "1200ms"), (10, "5000ms", "4000ms")],
)
def test_gossip_slows_down_as_the_channel_grows(peers: int, alive: str, state_info: str) -> None:
    gossip = peer_gossip("127.0.0.1:7051", peers)
    assert gossip["aliveTimeInterval"] == alive
    assert gossip["publishStateInfoInterval"] == gossip["requestStateInfoInterval"] == state_info


def test_orderer_admin_requires_client_certificates(
    definition: NetworkDefinition, tmp_path: Path
) -> None:
    node = OrdererOrgLayout.under(tmp_path, "orderer.x").orderer(0)
    ports = definition.orderer_ports(0)
    config = orderer_overrides(
        node=node,
        msp_id="OrdererMSP",
        ports=ports,
        data_dir=tmp_path,
        admin_client_ca=tmp_path / "ca.pem",
    )
    assert config["General"]["BootstrapMethod"] == "none"
    assert config["Admin"]["ListenAddress"] == f"127.0.0.1:{ports.admin}"
    assert config["Admin"]["TLS"]["ClientAuthRequired"] is True
    assert config["Operations"]["ListenAddress"] != config["Admin"]["ListenAddress"]


def test_configtx_has_anchor_peers_endpoints_and_v2_0(
    definition: NetworkDefinition, tmp_path: Path
) -> None:
    three = definition.with_overrides(orderers=3)
    members = [OrgLayout.under(tmp_path, m.domain) for m in three.members]
    configtx = build_configtx(three, OrdererOrgLayout.under(tmp_path, "o"), members)
    profile = configtx["Profiles"][PROFILE]
    assert profile["Capabilities"] == {"V2_0": True}
    assert "Addresses" not in profile["Orderer"]
    assert len(profile["Orderer"]["EtcdRaft"]["Consenters"]) == 3
    assert profile["Orderer"]["BatchTimeout"] == "500ms"
    orderer_org = profile["Orderer"]["Organizations"][0]
    assert len(orderer_org["OrdererEndpoints"]) == 3
    org2 = profile["Application"]["Organizations"][1]
    assert org2["ID"] == "Org2MSP"
    assert org2["AnchorPeers"] == [{"Host": "127.0.0.1", "Port": three.peer_ports(1).listen}]
    assert profile["Application"]["Policies"]["Endorsement"]["Rule"] == "MAJORITY Endorsement"
