"""Writing an enrolment as an MSP folder that fedledger's client loads and Fabric reads."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedledger.ca.client import CaInfo, Enrollment
from fedledger.ca.errors import CaInputError, CaResponseError
from fedledger.ca.msp_folder import (
    ca_file_name,
    refuse_existing_identity,
    split_chain,
    write_msp,
    write_tls,
)
from fedledger.orgs.ca import CertificateAuthority, IssuedCertificate
from fedledger.orgs.msp import load_msp_identity

NOW = dt.datetime.now(dt.UTC)
URL = "https://ca.org1.example.com:7054"


def _intermediate(root: CertificateAuthority) -> CertificateAuthority:
    """An intermediate CA: a CA certificate issued by `root`."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ica.org1")]))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root.issued.private_key, hashes.SHA256())
    )
    return CertificateAuthority(IssuedCertificate(certificate, key), "org1.example.com")


def _enrollment(ca: CertificateAuthority, unit: str, chain: bytes) -> Enrollment:
    issued = ca.issue_signing("peer1", unit, NOW)
    return Enrollment("peer1", issued.cert_pem, issued.private_key, CaInfo("", chain, "1.5.19"))


def test_the_folder_loads_and_keeps_the_key_private(tmp_path: Path) -> None:
    root = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    enrollment = _enrollment(root, "peer", root.issued.cert_pem)
    msp = tmp_path / "peer1" / "msp"
    write_msp(msp, enrollment, URL)
    identity = load_msp_identity(msp, "Org1MSP")
    assert identity.certificate_pem == enrollment.certificate_pem
    assert stat.S_IMODE((msp / "keystore" / "priv_sk").stat().st_mode) == 0o600
    assert (msp / "cacerts" / "ca.org1.example.com-7054.pem").read_bytes() == root.issued.cert_pem
    assert not (msp / "intermediatecerts").exists()
    node_ous = yaml.safe_load((msp / "config.yaml").read_text())["NodeOUs"]
    assert node_ous["Enable"] is True
    assert node_ous["PeerOUIdentifier"] == {
        "Certificate": "cacerts/ca.org1.example.com-7054.pem",
        "OrganizationalUnitIdentifier": "peer",
    }


def test_an_intermediate_ca_goes_to_intermediatecerts(tmp_path: Path) -> None:
    root = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    intermediate = _intermediate(root)
    chain = intermediate.issued.cert_pem + root.issued.cert_pem
    write_msp(tmp_path / "msp", _enrollment(intermediate, "client", chain), URL)
    name = "ca.org1.example.com-7054.pem"
    assert (tmp_path / "msp" / "cacerts" / name).read_bytes() == root.issued.cert_pem
    assert (tmp_path / "msp" / "intermediatecerts" / name).read_bytes() == (
        intermediate.issued.cert_pem
    )


def test_no_node_ous_without_a_role_in_the_certificate(tmp_path: Path) -> None:
    root = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    write_msp(tmp_path / "msp", _enrollment(root, "department1", root.issued.cert_pem), URL)
    assert not (tmp_path / "msp" / "config.yaml").exists()


@pytest.mark.parametrize(("role", "side"), [("peer", "server"), ("admin", "client")])
def test_tls_goes_beside_the_msp_folder(tmp_path: Path, role: str, side: str) -> None:
    root = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    enrollment = _enrollment(root, role, root.issued.cert_pem)
    tls = write_tls(tmp_path / "msp", enrollment, role, URL)
    assert tls == tmp_path / "tls"
    assert sorted(p.name for p in tls.iterdir()) == sorted(["ca.crt", f"{side}.crt", f"{side}.key"])
    assert stat.S_IMODE((tls / f"{side}.key").stat().st_mode) == 0o600
    assert (tmp_path / "msp" / "tlscacerts" / "ca.org1.example.com-7054.pem").exists()


def test_a_folder_holding_a_key_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "msp" / "keystore").mkdir(parents=True)
    (tmp_path / "msp" / "keystore" / "priv_sk").write_text("precious")
    with pytest.raises(CaInputError) as caught:
        refuse_existing_identity(tmp_path / "msp", tls=False)
    assert str(caught.value) == (
        f"{tmp_path / 'msp'} already holds an identity ({tmp_path / 'msp' / 'keystore'} "
        "exists): choose another --msp-dir, or move that folder away first"
    )


def test_a_tls_key_beside_the_folder_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "server.key").write_text("precious")
    refuse_existing_identity(tmp_path / "msp", tls=False)  # not touched without --tls
    with pytest.raises(CaInputError) as caught:
        refuse_existing_identity(tmp_path / "msp", tls=True)
    assert str(caught.value) == (
        f"{tmp_path / 'msp'} already holds an identity ({tmp_path / 'tls' / 'server.key'} "
        "exists): choose another --msp-dir, or move that folder away first"
    )


def test_a_chain_without_a_root_is_refused() -> None:
    root = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    intermediate = _intermediate(root)
    with pytest.raises(CaResponseError) as caught:
        split_chain(intermediate.issued.cert_pem, URL)
    assert str(caught.value) == f"the CA chain from {URL} has no root certificate"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://localhost:7054", "localhost-7054.pem"),
        ("https://ca.example.com", "ca.example.com-443.pem"),
    ],
)
def test_ca_file_name(url: str, name: str) -> None:
    assert ca_file_name(url) == name
