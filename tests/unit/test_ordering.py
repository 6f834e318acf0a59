"""The ordering organisation's folder, its exported file, the genesis block built from the
exported files, and the checks of a block given to `channel join-orderer`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from fabric_protos.common import common_pb2
from fabric_protos.orderer import configuration_pb2 as orderer_config
from fabric_protos.orderer.etcdraft import configuration_pb2 as etcdraft

from fedledger.channelconfig.envelopes import config_of_block
from fedledger.channelconfig.members import member_summaries
from fedledger.ordering.errors import OrdererFileError, OrdererFolderError, OrderingError
from fedledger.ordering.export import OrdererDefinition, read_orderer_file
from fedledger.ordering.folder import init_orderer, load_orderer
from fedledger.ordering.genesis import consortium_config, genesis_block
from fedledger.ordering.join import channel_of
from fedledger.orgs.errors import OrgFileError
from fedledger.orgs.export import OrgDefinition, read_org_file
from fedledger.orgs.standalone import init_org


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("consortium")
    orderer = init_orderer(
        root / "orderer", "OrdererMSP", "orderer.example.com", ["orderer.example.net"], 7050
    )
    OrdererDefinition.of(orderer).write(root / "orderer.json")
    members = []
    for i in (1, 2):
        org = init_org(root / f"org{i}", f"Org{i}MSP", f"org{i}.example.com", ["10.0.0.1"], 7051)
        OrgDefinition.of(org).write(root / f"org{i}.json")
        members.append(root / f"org{i}.json")
    return root / "orderer.json", members


def test_init_names_the_hosts_and_keeps_the_descriptor(tmp_path: Path) -> None:
    org = init_orderer(tmp_path / "o", "OrdererMSP", "orderer.example.com", ["203.0.113.5"], 9050)
    assert load_orderer(tmp_path / "o") == org
    assert org.ports.admin == 9051
    assert org.ports.operations == 9052
    cert = x509.load_pem_x509_certificate(org.orderer.tls_cert("server").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "203.0.113.5" in [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    assert (org.orderer.tls_key("server").stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(
    ("msp_id", "domain", "hosts", "port", "message"),
    [
        ("Orderer MSP", "orderer.example.com", ["h"], 7050, "--msp-id 'Orderer MSP' must be"),
        ("OrdererMSP", "orderer", ["h"], 7050, "--domain 'orderer' must be a DNS domain"),
        ("OrdererMSP", "orderer.example.com", [], 7050, "give at least one --host"),
        ("OrdererMSP", "orderer.example.com", ["a_b"], 7050, "--host 'a_b' is neither"),
        ("OrdererMSP", "orderer.example.com", ["h"], 65534, "--port 65534: the orderer uses it"),
    ],
)
def test_init_refuses(
    tmp_path: Path, msp_id: str, domain: str, hosts: list[str], port: int, message: str
) -> None:
    with pytest.raises(OrdererFolderError) as error:
        init_orderer(tmp_path / "o", msp_id, domain, hosts, port)
    assert str(error.value).startswith(message)


def test_init_never_overwrites_and_load_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep").write_text("x")
    with pytest.raises(OrdererFolderError) as in_use:
        init_orderer(tmp_path / "o", "OrdererMSP", "orderer.example.com", ["h"])
    assert "already exists and is not an empty folder: choose another --dir" in str(in_use.value)
    with pytest.raises(OrdererFolderError) as missing:
        load_orderer(tmp_path / "o")
    assert str(missing.value) == (
        f"no ordering.yaml in {tmp_path / 'o'}: create the ordering organisation with "
        "`fedledger orderer init` or name its folder with --dir"
    )


def test_export_round_trip_holds_no_key(exported: tuple[Path, list[Path]]) -> None:
    orderer_file, _ = exported
    text = orderer_file.read_text()
    assert "PRIVATE KEY" not in text
    definition = read_orderer_file(orderer_file)
    assert definition.msp_id == "OrdererMSP"
    assert definition.endpoints == (("orderer.example.net", 7050),)


def test_read_orderer_file_names_the_field(
    tmp_path: Path, exported: tuple[Path, list[Path]]
) -> None:
    orderer_file, members = exported
    document = json.loads(orderer_file.read_text())
    document["consenters"][0]["tlsCert"] = "not a certificate"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    with pytest.raises(OrdererFileError) as error:
        read_orderer_file(broken)
    assert str(error.value) == (
        f"{broken}: consenters[0].tlsCert must be a PEM certificate (-----BEGIN CERTIFICATE-----)"
    )
    with pytest.raises(OrdererFileError) as member:
        read_orderer_file(members[0])
    assert "is a member organisation's file (`org export`)" in str(member.value)
    with pytest.raises(OrdererFileError) as absent:
        read_orderer_file(tmp_path / "none.json")
    assert "the ordering organisation writes it with `fedledger orderer export" in str(absent.value)


def test_genesis_block_holds_raft_consenters_and_members(exported: tuple[Path, list[Path]]) -> None:
    orderer_file, member_files = exported
    from fedledger.orgs.export import read_org_file

    orderer = read_orderer_file(orderer_file)
    members = [read_org_file(p) for p in member_files]
    block = genesis_block("mychannel", consortium_config(orderer, members, 0.25, 10))
    config = config_of_block(block)
    assert [m.msp_id for m in member_summaries(config)] == ["Org1MSP", "Org2MSP"]
    assert [m.anchor_peers for m in member_summaries(config)] == [("10.0.0.1:7051",)] * 2
    consensus = orderer_config.ConsensusType.FromString(
        config.channel_group.groups["Orderer"].values["ConsensusType"].value
    )
    raft = etcdraft.ConfigMetadata.FromString(consensus.metadata)
    assert consensus.type == "etcdraft"
    assert [(c.host, c.port) for c in raft.consenters] == [("orderer.example.net", 7050)]
    assert raft.consenters[0].client_tls_cert == orderer.consenters[0].tls_cert
    timeout = orderer_config.BatchTimeout.FromString(
        config.channel_group.groups["Orderer"].values["BatchTimeout"].value
    )
    assert timeout.timeout == "250ms"


def test_genesis_refuses_no_member_and_a_member_twice(exported: tuple[Path, list[Path]]) -> None:
    orderer_file, member_files = exported
    from fedledger.orgs.export import read_org_file

    orderer = read_orderer_file(orderer_file)
    with pytest.raises(OrderingError) as none:
        consortium_config(orderer, [], 0.5, 100)
    assert str(none.value) == "give at least one member organisation's file (org export)"
    member = read_org_file(member_files[0])
    with pytest.raises(OrderingError) as twice:
        consortium_config(orderer, [member, member], 0.5, 100)
    assert str(twice.value).startswith("Org1MSP is given twice")


def test_channel_of_reads_only_genesis_blocks(
    tmp_path: Path, exported: tuple[Path, list[Path]]
) -> None:
    orderer_file, member_files = exported
    from fedledger.orgs.export import read_org_file

    config = consortium_config(
        read_orderer_file(orderer_file), [read_org_file(p) for p in member_files], 0.5, 100
    )
    block = genesis_block("mychannel", config)
    path = tmp_path / "genesis.block"
    path.write_bytes(block.SerializeToString())
    assert channel_of(path) == "mychannel"
    block.header.number = 3
    later = tmp_path / "later.block"
    later.write_bytes(block.SerializeToString())
    with pytest.raises(OrderingError) as not_genesis:
        channel_of(later)
    assert str(not_genesis.value) == (
        f"{later} is not a channel's genesis block (block 3): join with the block "
        "`fedledger channel create` wrote"
    )
    with pytest.raises(OrderingError) as absent:
        channel_of(tmp_path / "none.block")
    assert "write it with `fedledger channel create`" in str(absent.value)
    assert common_pb2.Block.FromString(path.read_bytes()).header.number == 0


@pytest.mark.parametrize(
    ("read", "error", "owner", "command"),
    [
        (read_org_file, OrgFileError, "organisation", "fedledger org export"),
        (read_orderer_file, OrdererFileError, "ordering organisation", "fedledger orderer export"),
    ],
)
def test_an_exported_file_missing_or_not_json_is_named_with_who_writes_it(
    tmp_path: Path, read: Any, error: type[Exception], owner: str, command: str
) -> None:
    path = tmp_path / "org.json"
    with pytest.raises(error) as missing:
        read(path)
    assert str(missing.value) == (
        f"no {owner} file at {path}: the {owner} writes it with `{command} --out FILE`"
    )
    path.write_text("{not json")
    with pytest.raises(error) as unreadable:
        read(path)
    assert str(unreadable.value).startswith(f"cannot read {path} as JSON: Expecting property")
