"""`org start`'s parts that need no running ledger: the kept settings, the ports, the peer's
addresses, and the profile built from a channel configuration."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fabric_protos.common import configtx_pb2
from fabric_protos.msp import msp_config_pb2

from fedledger.channelconfig.members import application, with_org_added
from fedledger.network.nodeconfig import peer_overrides
from fedledger.orgnode.errors import OrgNodeError, StartSettingsError
from fedledger.orgnode.ledger_kind import with_ledger_known
from fedledger.orgnode.node import _kind
from fedledger.orgnode.profile import profile_from_config
from fedledger.orgnode.settings import StartSettings, org_ports
from fedledger.orgs.export import OrgDefinition
from fedledger.orgs.standalone import StandaloneOrg, init_org
from fedledger.profile import ConnectionProfile

from .channel_material import make_crypto, three_org_config


@pytest.fixture
def org4(tmp_path: Path) -> StandaloneOrg:
    return init_org(tmp_path / "org", "Org4MSP", "org4.example.com", ["peer0.bank4.test"], 7400)


@pytest.fixture
def orderer_ca(tmp_path: Path) -> Path:
    path = tmp_path / "given" / "orderer-tlsca.pem"
    path.parent.mkdir()
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return path


def test_settings_are_kept_and_a_later_option_replaces_a_kept_one(
    tmp_path: Path, orderer_ca: Path
) -> None:
    assert StartSettings.kept(tmp_path) == StartSettings()
    first = StartSettings().updated(orderer="orderer0.example.com:7050", orderer_tls_ca=orderer_ca)
    first.keep(tmp_path)
    kept = StartSettings.kept(tmp_path)
    assert kept == first
    assert kept.orderer_tls_ca == orderer_ca.resolve()
    later = kept.updated(listen_host="0.0.0.0", orderer=None, ledger=None)
    assert later.listen_host == "0.0.0.0"
    assert later.orderer == "orderer0.example.com:7050"
    assert later.require_orderer() == (
        "orderer0.example.com:7050",
        orderer_ca.resolve(),
        "orderer0.example.com",
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"ledger": "besu"}, "--ledger 'besu': use auto, fabric or embedded"),
        ({"orderer_tls_ca": Path("nowhere.pem")}, "--orderer-tls-ca nowhere.pem: no such file"),
        ({"validator_config": Path("v.yaml")}, "--validator-config v.yaml: no such file"),
    ],
)
def test_wrong_options_are_named(given: dict[str, object], message: str) -> None:
    with pytest.raises(StartSettingsError) as error:
        StartSettings().updated(**given)
    assert str(error.value) == message


def test_a_start_without_an_orderer_says_what_to_give() -> None:
    with pytest.raises(StartSettingsError, match=r"^no orderer known: give --orderer HOST:PORT"):
        StartSettings().require_orderer()


def test_an_unknown_kept_field_is_named(tmp_path: Path) -> None:
    (tmp_path / "start.yaml").write_text("ledger: fabric\nport: 7051\n")
    with pytest.raises(StartSettingsError, match=r"start.yaml: unknown field 'port'"):
        StartSettings.kept(tmp_path)


def test_the_organisation_has_the_block_of_ports_after_its_peer() -> None:
    ports = org_ports(7051)
    assert (ports.listen, ports.chaincode, ports.operations) == (7051, 7052, 7053)
    assert (ports.chaincode_server, ports.validator) == (7054, 7055)


def test_the_peer_listens_on_one_host_and_announces_another(org4: StandaloneOrg) -> None:
    overrides = peer_overrides(
        node=org4.layout.peer(0),
        msp_id="Org4MSP",
        ports=org_ports(7400),
        data_dir=Path("data"),
        ccaas_builder=Path("builder"),
        channel_peers=4,
        listen_host="0.0.0.0",
        host="peer0.bank4.test",
    )
    peer = overrides["peer"]
    assert peer["listenAddress"] == "0.0.0.0:7400"
    assert peer["address"] == "peer0.bank4.test:7400"
    assert peer["gossip"]["externalEndpoint"] == "peer0.bank4.test:7400"
    assert peer["chaincodeListenAddress"] == "0.0.0.0:7401"
    assert overrides["operations"]["listenAddress"] == "0.0.0.0:7402"


def test_process_names_tell_their_kind() -> None:
    assert _kind("peer0.org4.example.com") == "peer"
    assert _kind("chaincode.org4.example.com") == "chaincode"
    assert _kind("validator.org4.example.com") == "validator"


def channel_with(org4: StandaloneOrg, tmp_path: Path) -> configtx_pb2.Config:
    config = three_org_config(make_crypto(tmp_path / "crypto"))
    return with_org_added(config, OrgDefinition.of(org4))


@pytest.mark.parametrize("ledger", ["fabric", "embedded"])
def test_the_profile_comes_from_the_channel_configuration(
    org4: StandaloneOrg, tmp_path: Path, orderer_ca: Path, ledger: str
) -> None:
    config = channel_with(org4, tmp_path)
    settings = StartSettings(ledger=ledger).updated(
        orderer="127.0.0.1:7051", orderer_tls_ca=orderer_ca, orderer_name="peer0.org1.test"
    )
    profile = profile_from_config(org4, settings, config)
    profile.write(org4.root / "profile.yaml")
    loaded = ConnectionProfile.load(org4.root / "profile.yaml")

    assert sorted(loaded.organizations) == ["Org1MSP", "Org2MSP", "Org3MSP", "Org4MSP"]
    assert loaded.ledger == ledger
    own = loaded.org("Org4MSP")
    assert own.identities == {"admin": org4.layout.admin.msp, "user": org4.layout.client.msp}
    if ledger == "fabric":
        assert (own.gateway.endpoint, own.gateway.server_name) == (
            "peer0.bank4.test:7400",
            "peer0.org4.example.com",
        )
        assert own.gateway.tls_ca_cert == org4.layout.tlsca_cert
    else:
        assert (own.gateway.endpoint, own.gateway.server_name) == (
            "127.0.0.1:7051",
            "peer0.org1.test",
        )
    org2 = loaded.org("Org2MSP")
    assert (org2.gateway.endpoint, org2.gateway.server_name) == ("127.0.0.1:7052", "127.0.0.1")
    assert org2.identities == {}
    assert org2.gateway.tls_ca_cert == org4.root / "channel" / "Org2MSP-tlsca.pem"
    crypto_tlsca = tmp_path / "crypto" / "peerOrganizations" / "org2.test" / "tlsca"
    assert (
        org2.gateway.tls_ca_cert.read_bytes()
        == (crypto_tlsca / "tlsca.org2.test-cert.pem").read_bytes()
    )
    assert [(o.endpoint, o.server_name) for o in loaded.orderers] == [
        ("127.0.0.1:7051", "peer0.org1.test")
    ]


def test_a_member_without_an_anchor_peer_is_left_out(
    org4: StandaloneOrg, tmp_path: Path, orderer_ca: Path
) -> None:
    config = channel_with(org4, tmp_path)
    del application(config).groups["Org3MSP"].values["AnchorPeers"]
    settings = StartSettings().updated(orderer="127.0.0.1:7051", orderer_tls_ca=orderer_ca)
    profile = profile_from_config(org4, settings, config)
    assert sorted(profile.organizations) == ["Org1MSP", "Org2MSP", "Org4MSP"]


def test_a_member_without_a_tls_root_is_refused_by_name(
    org4: StandaloneOrg, tmp_path: Path, orderer_ca: Path
) -> None:
    config = channel_with(org4, tmp_path)
    group = application(config).groups["Org2MSP"]
    msp = msp_config_pb2.MSPConfig.FromString(group.values["MSP"].value)
    fabric = msp_config_pb2.FabricMSPConfig.FromString(msp.config)
    del fabric.tls_root_certs[:]
    msp.config = fabric.SerializeToString()
    group.values["MSP"].value = msp.SerializeToString()
    settings = StartSettings().updated(orderer="127.0.0.1:7051", orderer_tls_ca=orderer_ca)
    with pytest.raises(OrgNodeError) as error:
        profile_from_config(org4, settings, config)
    assert str(error.value) == (
        "Org2MSP's MSP in the channel configuration has no TLS root certificate"
    )


def test_a_given_ledger_is_not_asked_of_the_orderer(orderer_ca: Path) -> None:
    given = StartSettings(ledger="embedded", orderer="127.0.0.1:1", orderer_tls_ca=orderer_ca)
    assert with_ledger_known(given, timeout=0.1) is given


def test_an_orderer_that_does_not_answer_which_ledger_it_is_is_named(org4: StandaloneOrg) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{unused.getsockname()[1]}"
    settings = StartSettings(orderer=address, orderer_tls_ca=org4.layout.tlsca_cert)
    with pytest.raises(StartSettingsError) as error:
        with_ledger_known(settings, timeout=1.0)
    message = str(error.value)
    assert message.startswith(
        f"cannot tell which ledger runs the channel: timed out after 1 s waiting for the "
        f"orderer at {address} (last: UNAVAILABLE: "
    )
    assert message.endswith(
        "is the orderer running and --orderer right? (or give --ledger fabric or embedded)"
    )
