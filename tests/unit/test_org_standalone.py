"""One organisation alone in its folder (`org init`), and its public file (`org export`)."""

from __future__ import annotations

import ipaddress
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from fedledger.cli.app import app
from fedledger.orgs.errors import OrgFileError, OrgFolderError
from fedledger.orgs.export import OrgDefinition, read_org_file
from fedledger.orgs.standalone import init_org, load_org

runner = CliRunner()


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("org4") / "org"
    init_org(root, "Org4MSP", "org4.example.com", ["host4.example.net", "10.1.2.3"], 9051)
    return root


def test_tls_certificates_name_the_given_hosts(org_dir: Path) -> None:
    org = load_org(org_dir)
    certificate = x509.load_pem_x509_certificate(org.layout.peer(0).tls_cert("server").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "host4.example.net" in names.get_values_for_type(x509.DNSName)
    assert "peer0.org4.example.com" in names.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("10.1.2.3") in names.get_values_for_type(x509.IPAddress)


def test_private_keys_are_readable_by_the_owner_only(org_dir: Path) -> None:
    keys = [*org_dir.rglob("priv_sk"), *org_dir.rglob("*.key")]
    assert len(keys) >= 8  # two CAs, and each of peer0, Admin, User1: a signing and a TLS key
    assert {stat.S_IMODE(k.stat().st_mode) for k in keys} == {0o600}
    assert stat.S_IMODE(org_dir.stat().st_mode) == 0o700


def test_descriptor_records_what_init_was_told(org_dir: Path) -> None:
    org = load_org(org_dir)
    assert (org.msp_id, org.domain, org.hosts, org.peer_port) == (
        "Org4MSP",
        "org4.example.com",
        ("host4.example.net", "10.1.2.3"),
        9051,
    )
    assert org.anchor_peer == ("host4.example.net", 9051)


def test_a_used_folder_is_never_overwritten(org_dir: Path) -> None:
    before = (org_dir / "ca" / "priv_sk").read_bytes()
    with pytest.raises(OrgFolderError, match="already exists and is not an empty folder"):
        init_org(org_dir, "Org4MSP", "org4.example.com", ["h"])
    assert (org_dir / "ca" / "priv_sk").read_bytes() == before


@pytest.mark.parametrize(
    ("msp_id", "domain", "hosts", "message"),
    [
        ("Org 4", "org4.example.com", ["h"], "--msp-id 'Org 4' must be letters"),
        ("Org4MSP", "org4", ["h"], "--domain 'org4' must be a DNS domain"),
        ("Org4MSP", "org4.example.com", [], "give at least one --host"),
        ("Org4MSP", "org4.example.com", ["bad_host!"], "--host 'bad_host!' is neither"),
    ],
)
def test_wrong_arguments_are_named(
    tmp_path: Path, msp_id: str, domain: str, hosts: list[str], message: str
) -> None:
    with pytest.raises(OrgFolderError, match=message):
        init_org(tmp_path / "o", msp_id, domain, hosts)
    assert not (tmp_path / "o").exists()


def test_export_round_trips_and_holds_no_private_key(org_dir: Path, tmp_path: Path) -> None:
    definition = OrgDefinition.of(load_org(org_dir))
    path = tmp_path / "org4.json"
    definition.write(path)
    assert "PRIVATE KEY" not in path.read_text()
    assert read_org_file(path) == definition
    assert json.loads(path.read_text())["anchorPeer"] == "host4.example.net:9051"


def _broken(org_dir: Path, tmp_path: Path, change: dict[str, object]) -> Path:
    document = OrgDefinition.of(load_org(org_dir)).to_document()
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        target = document
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mspId": None}, "mspId is missing"),
        ({"formatVersion": 2}, "formatVersion must be 1"),
        ({"msp.rootCerts": ["not a pem"]}, r"msp.rootCerts \[0\] must be a PEM certificate"),
        ({"msp.tlsRootCerts": []}, "msp.tlsRootCerts must be a non-empty list"),
        ({"anchorPeer": "https://h:7051"}, "anchorPeer must be host:port without a scheme"),
        ({"msp.nodeOUs.enable": False}, "msp.nodeOUs must be enabled"),
        ({"extra": 1}, "extra is not a known field"),
    ],
)
def test_read_names_the_wrong_field(
    org_dir: Path, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = _broken(org_dir, tmp_path, change)
    with pytest.raises(OrgFileError, match=f"^{path}: .*{message}"):
        read_org_file(path)


def test_read_of_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError, match="fedledger org export --out FILE"):
        read_org_file(tmp_path / "none.json")


def test_cli_defaults_work_from_a_relative_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["org", "init", "--msp-id", "Org5MSP", "--domain", "org5.example.com", "--host", "h5"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["org", "export", "--out", "org5.json"])
    assert result.exit_code == 0, result.output
    assert read_org_file(tmp_path / "org5.json").msp_id == "Org5MSP"
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "error: org already exists and is not an empty folder" in again.output


def test_cli_export_without_a_folder_says_how_to_create_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["org", "export", "--out", "x.json"])
    assert result.exit_code == 1
    assert "no org.yaml in org: create the organisation with `fedledger org init`" in result.output
