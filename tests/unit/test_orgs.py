"""Organisation material: the layout cryptogen writes, chains that verify, the right names."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material, load_msp_identity
from fedledger.orgs.layout import OrdererOrgLayout
from fedledger.orgs.msp import MspFolderError

ORG = MemberOrg("Org1", "Org1MSP", "org1.test.local")
ORDERER = OrdererOrg("Orderer", "OrdererMSP", "orderer.test.local", orderers=2)


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crypto")
    generate_material(root, [ORG], ORDERER)
    return root


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def unit(certificate: x509.Certificate) -> str:
    return str(
        certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value
    )


def test_member_org_has_cryptogens_layout(crypto: Path) -> None:
    org = crypto / "peerOrganizations" / "org1.test.local"
    expected = [
        "ca/ca.org1.test.local-cert.pem",
        "ca/priv_sk",
        "tlsca/tlsca.org1.test.local-cert.pem",
        "msp/cacerts/ca.org1.test.local-cert.pem",
        "msp/tlscacerts/tlsca.org1.test.local-cert.pem",
        "msp/config.yaml",
        "peers/peer0.org1.test.local/msp/signcerts/peer0.org1.test.local-cert.pem",
        "peers/peer0.org1.test.local/msp/keystore/priv_sk",
        "peers/peer0.org1.test.local/tls/server.crt",
        "peers/peer0.org1.test.local/tls/server.key",
        "peers/peer0.org1.test.local/tls/ca.crt",
        "users/Admin@org1.test.local/msp/signcerts/Admin@org1.test.local-cert.pem",
        "users/Admin@org1.test.local/tls/client.crt",
        "users/User1@org1.test.local/msp/keystore/priv_sk",
    ]
    missing = [p for p in expected if not (org / p).is_file()]
    assert missing == []


def test_orderer_org_has_every_orderer(crypto: Path) -> None:
    layout = OrdererOrgLayout.under(crypto, ORDERER.domain)
    for index in range(2):
        assert layout.orderer(index).tls_cert("server").is_file()
        assert unit(cert(layout.orderer(index).signcert)) == "orderer"


def test_every_certificate_chains_to_its_ca(crypto: Path) -> None:
    layout = OrgLayout.under(crypto, ORG.domain)
    ca, tlsca = cert(layout.ca_cert), cert(layout.tlsca_cert)
    for node, role in ((layout.peer(0), "server"), (layout.admin, "client")):
        cert(node.signcert).verify_directly_issued_by(ca)
        cert(node.tls_cert(role)).verify_directly_issued_by(tlsca)
    with pytest.raises(ValueError, match="does not match"):
        cert(layout.peer(0).signcert).verify_directly_issued_by(tlsca)


def test_node_ous_mark_roles(crypto: Path) -> None:
    layout = OrgLayout.under(crypto, ORG.domain)
    assert unit(cert(layout.peer(0).signcert)) == "peer"
    assert unit(cert(layout.admin.signcert)) == "admin"
    assert unit(cert(layout.client.signcert)) == "client"
    config = yaml.safe_load((layout.msp / "config.yaml").read_text())["NodeOUs"]
    assert config["Enable"] is True
    assert config["PeerOUIdentifier"] == {
        "Certificate": "cacerts/ca.org1.test.local-cert.pem",
        "OrganizationalUnitIdentifier": "peer",
    }


def test_tls_server_certificate_names_host_localhost_and_loopback(crypto: Path) -> None:
    server = cert(OrgLayout.under(crypto, ORG.domain).peer(0).tls_cert("server"))
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) >= {"peer0.org1.test.local", "localhost"}
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage


def test_keys_are_p256_and_private_files_are_owner_only(crypto: Path) -> None:
    layout = OrgLayout.under(crypto, ORG.domain)
    identity = load_msp_identity(layout.client.msp, ORG.msp_id)
    assert isinstance(identity.private_key.curve, ec.SECP256R1)
    assert layout.client.private_key.stat().st_mode & 0o077 == 0


def test_existing_organisations_are_kept(crypto: Path) -> None:
    layout = OrgLayout.under(crypto, ORG.domain)
    before = layout.ca_cert.read_bytes()
    created = generate_material(
        crypto, [ORG, MemberOrg("Org2", "Org2MSP", "org2.test.local")], ORDERER
    )
    assert created == ["org2.test.local"]
    assert layout.ca_cert.read_bytes() == before


def test_certificates_are_valid_now(crypto: Path) -> None:
    peer = cert(OrgLayout.under(crypto, ORG.domain).peer(0).signcert)
    now = dt.datetime.now(dt.UTC)
    assert peer.not_valid_before_utc < now < peer.not_valid_after_utc


def test_msp_folder_with_foreign_key_is_refused(crypto: Path, tmp_path: Path) -> None:
    layout = OrgLayout.under(crypto, ORG.domain)
    msp = tmp_path / "msp"
    (msp / "signcerts").mkdir(parents=True)
    (msp / "keystore").mkdir()
    (msp / "signcerts" / "cert.pem").write_bytes(layout.admin.signcert.read_bytes())
    (msp / "keystore" / "priv_sk").write_bytes(layout.client.private_key.read_bytes())
    with pytest.raises(MspFolderError, match="does not belong to the certificate"):
        load_msp_identity(msp, ORG.msp_id)


def test_msp_folder_without_keystore_is_refused(crypto: Path, tmp_path: Path) -> None:
    (tmp_path / "signcerts").mkdir()
    signcert = OrgLayout.under(crypto, ORG.domain).admin.signcert
    (tmp_path / "signcerts" / "cert.pem").write_bytes(signcert.read_bytes())
    with pytest.raises(MspFolderError, match="keystore does not exist"):
        load_msp_identity(tmp_path, "Org1MSP")


def test_a_users_msp_folder_leads_to_its_organisation(crypto: Path) -> None:
    org = OrgLayout.under(crypto, ORG.domain)
    assert OrgLayout.of_user_msp(org.client.msp) == org
    assert OrgLayout.of_user_msp(org.admin.msp) == org
    assert OrgLayout.of_user_msp(org.client.msp).tlsca_cert.is_file()


def test_a_peers_msp_folder_is_not_a_users(crypto: Path) -> None:
    peer_msp = OrgLayout.under(crypto, ORG.domain).peer(0).msp
    with pytest.raises(ValueError, match="is not a user's msp folder in cryptogen's layout"):
        OrgLayout.of_user_msp(peer_msp)
