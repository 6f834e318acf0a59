"""Fabric CA's protocol against the real `fabric-ca-server` (v1.5, TLS): enrol the bootstrap
admin, register and enrol a client and a peer, the CA's refusals as the user sees them, and an
identity issued by an organisation's CA signing a transaction on every ledger backend.

Skipped, saying why, when the Fabric installation has no fabric-ca-server in its bin/.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from fedledger.ca import (
    CaAuthenticationError,
    CaRefusedError,
    CaTlsError,
    FabricCaClient,
    Registration,
    enroll_into,
)
from fedledger.cli.app import app
from fedledger.fabric.errors import EndorseError
from fedledger.orgs.ca import CertificateAuthority
from fedledger.orgs.layout import OrgLayout
from fedledger.orgs.msp import load_msp_identity
from fedledger.registry import Policy, open_registry

from .fabric_ca_server import BOOTSTRAP, CaServer, ca_server_binary, start_ca_server

BINARY, WHY_NOT = ca_server_binary()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BINARY is None, reason=WHY_NOT),
]
runner = CliRunner()


@pytest.fixture(scope="module")
def ca_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaServer]:
    assert BINARY is not None
    server = start_ca_server(BINARY, tmp_path_factory.mktemp("fabric-ca"))
    yield server
    server.stop()


@pytest.fixture
def client(ca_server: CaServer) -> Iterator[FabricCaClient]:
    opened = ca_server.client()
    yield opened
    opened.close()


def _units(certificate_pem: bytes) -> list[str]:
    subject = x509.load_pem_x509_certificate(certificate_pem).subject
    return [str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]


def _enroll_admin(client: FabricCaClient, folder: Path) -> Any:
    enroll_into(client, BOOTSTRAP[0], BOOTSTRAP[1], folder, hosts=[], tls=False)
    return load_msp_identity(folder, "")


def test_the_cli_enrolls_the_bootstrap_admin_with_relative_paths(
    ca_server: CaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ca_server.tls_cert, tmp_path / "tls.pem")
    monkeypatch.chdir(tmp_path)
    args = ["identity", "enroll", "--ca-url", ca_server.url, "--ca-cert", "tls.pem"]
    args += ["--id", "admin", "--secret", "adminpw", "--tls", "--csr-hosts", "localhost"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "enrolled admin (client) into admin/msp",
        "TLS certificate and key in admin/tls (for localhost)",
    ]
    identity = load_msp_identity(Path("admin/msp"), "Org1MSP")
    assert identity.certificate.subject.rfc4514_string() == "CN=admin,OU=client"
    assert stat.S_IMODE(Path("admin/msp/keystore/priv_sk").stat().st_mode) == 0o600
    [root_file] = Path("admin/msp/cacerts").iterdir()
    root = x509.load_pem_x509_certificate(root_file.read_bytes())
    assert identity.certificate.issuer == root.subject
    assert "cacerts/" + root_file.name in Path("admin/msp/config.yaml").read_text()
    tls = x509.load_pem_x509_certificate(Path("admin/tls/client.crt").read_bytes())
    names = tls.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert Path("admin/tls/ca.crt").read_bytes() == root_file.read_bytes()


def test_register_and_enroll_a_client_and_a_peer(
    ca_server: CaServer, client: FabricCaClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _enroll_admin(client, tmp_path / "admin" / "msp")
    monkeypatch.chdir(tmp_path)
    user = f"user-{uuid.uuid4().hex[:6]}"
    args = ["identity", "register", "--ca-url", ca_server.url, "--ca-cert"]
    args += [str(ca_server.tls_cert), "--as", "admin/msp", "--id", user]
    registered = runner.invoke(app, args)
    assert registered.exit_code == 0, registered.output
    prefix = f"registered {user} (client); enrolment secret: "
    assert registered.stdout.startswith(prefix)
    secret = registered.stdout.strip().removeprefix(prefix)
    enrolled = enroll_into(client, user, secret, Path(user, "msp"), hosts=[], tls=False)
    assert enrolled.role == "client"

    registrar = load_msp_identity(Path("admin/msp"), "")
    peer = f"peer-{uuid.uuid4().hex[:6]}"
    registration = Registration(peer, "peer", "peerpw", "org1.department1", {"team": "risk"})
    assert client.register(registrar, registration) == "peerpw"
    hosts = ["peer0.org1.example.com", "127.0.0.1"]
    enrolled = enroll_into(client, peer, "peerpw", Path(peer, "msp"), hosts=hosts, tls=True)
    assert enrolled.role == "peer"
    assert sorted(_units(enrolled.signcert.read_bytes())) == ["department1", "org1", "peer"]
    server_cert = x509.load_pem_x509_certificate(Path(peer, "tls", "server.crt").read_bytes())
    names = server_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["peer0.org1.example.com"]
    usage = server_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usage


def test_a_wrong_secret_is_refused_with_the_cas_message(
    ca_server: CaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["identity", "enroll", "--ca-url", ca_server.url, "--ca-cert"]
    args += [str(ca_server.tls_cert), "--id", "admin", "--secret", "wrong"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        f"error: the Fabric CA at {ca_server.url} refused to enroll 'admin' (HTTP 401): "
        "Authentication failure (code 20): the secret is wrong, the identity 'admin' is not "
        "registered at this CA, or it has used up its enrolments; check --id and --secret"
    )
    assert not Path("admin").exists()


def test_registering_an_identity_twice_is_refused(client: FabricCaClient, tmp_path: Path) -> None:
    registrar = _enroll_admin(client, tmp_path / "msp")
    name = f"twice-{uuid.uuid4().hex[:6]}"
    client.register(registrar, Registration(name))
    with pytest.raises(CaRefusedError) as caught:
        client.register(registrar, Registration(name))
    assert not isinstance(caught.value, CaAuthenticationError)
    assert caught.value.codes == [74]
    assert str(caught.value) == (
        f"the Fabric CA at {client.url} refused to register {name!r} (HTTP 409): "
        f"Identity '{name}' is already registered (code 74)"
    )


def test_reenroll_then_revoke(client: FabricCaClient, tmp_path: Path) -> None:
    registrar = _enroll_admin(client, tmp_path / "admin")
    name = f"renew-{uuid.uuid4().hex[:6]}"
    client.register(registrar, Registration(name, secret="pw"))
    first = client.enroll(name, "pw", [])
    current = dataclasses.replace(registrar, certificate_pem=first.certificate_pem)
    current = dataclasses.replace(current, private_key=first.private_key)
    renewed = client.reenroll(current, [])
    assert renewed.enrollment_id == name
    old = x509.load_pem_x509_certificate(first.certificate_pem)
    new = x509.load_pem_x509_certificate(renewed.certificate_pem)
    assert new.subject == old.subject
    assert new.serial_number != old.serial_number
    revocation = client.revoke(registrar, name, "superseded", crl=True)
    revoked = {int(serial, 16) for serial in revocation.serials}
    assert revoked == {old.serial_number, new.serial_number}
    assert revocation.crl_pem is not None
    crl = x509.load_pem_x509_crl(revocation.crl_pem)
    assert revoked <= {entry.serial_number for entry in crl}
    assert crl.issuer == old.issuer
    with pytest.raises(CaAuthenticationError):
        client.enroll(name, "pw", [])


def test_a_wrong_tls_certificate_is_told_apart(ca_server: CaServer, tmp_path: Path) -> None:
    other = CertificateAuthority.create("ca.other", "other", dt.datetime.now(dt.UTC))
    wrong = tmp_path / "other.pem"
    wrong.write_bytes(other.certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(CaTlsError) as caught:
        FabricCaClient(ca_server.url, wrong).enroll(BOOTSTRAP[0], BOOTSTRAP[1], [])
    assert str(caught.value).startswith(
        f"TLS with the Fabric CA at {ca_server.url} failed (unable to get local issuer "
        f"certificate) while trying to enroll 'admin'"
    )


@pytest.mark.ledger
def test_an_identity_from_the_organisations_ca_signs_a_transaction(
    ledger: Any, ca_server: CaServer, tmp_path: Path
) -> None:
    """A Fabric CA issuing under Org1's CA (the organisation's own CA, as a production
    organisation runs it) enrols an application; the ledger accepts what it signs. An identity
    from another CA, same client code, is refused."""
    assert BINARY is not None
    org1 = OrgLayout.of_user_msp(ledger.profile.org("Org1MSP").identity("admin"))
    org_ca = start_ca_server(BINARY, tmp_path / "org1-ca", (org1.ca_cert, org1.ca_key))
    try:
        org_client = org_ca.client()
        registrar = _enroll_admin(org_client, tmp_path / "registrar")
        org_client.register(registrar, Registration("app1", "client", "app1pw"))
        enroll_into(org_client, "app1", "app1pw", tmp_path / "app1" / "msp", hosts=[], tls=False)
        org_client.close()
    finally:
        org_ca.stop()
    stranger_client = ca_server.client()
    _enroll_admin(stranger_client, tmp_path / "stranger")
    stranger_client.close()

    org = ledger.profile.org("Org1MSP")
    identities = {**org.identities, "app1": tmp_path / "app1" / "msp"}
    identities["stranger"] = tmp_path / "stranger"
    organizations = {
        **ledger.profile.organizations,
        "Org1MSP": dataclasses.replace(org, identities=identities),
    }
    profile = dataclasses.replace(ledger.profile, organizations=organizations)
    task_id = f"ca-{uuid.uuid4().hex[:8]}"
    with open_registry(profile, "Org1MSP", "app1") as registry:
        task = registry.create_task(task_id, **_TASK)
    assert task.id == task_id
    with pytest.raises(EndorseError) as caught, open_registry(profile, "Org1MSP", "stranger") as r:
        r.create_task(f"{task_id}-x", **_TASK)
    # Fabric cannot build the certificate's validation chain, so it cannot deserialize the
    # creator: the same status and the same words from both backends, the reason in the log.
    assert caught.value.code == grpc.StatusCode.ABORTED
    assert caught.value.message == (
        "failed to endorse transaction, see attached details for more info"
    )
    [detail] = caught.value.details
    assert detail.msp_id == "Org1MSP"
    assert detail.message == (
        "error validating proposal: access denied: channel [fedledger] creator org unknown, "
        "creator is malformed"
    )


_TASK: dict[str, Any] = {
    "schema": {
        "features": [{"name": "x", "type": "float"}],
        "target": {"name": "y", "type": "category", "classes": ["no", "yes"]},
    },
    "metric": "roc_auc",
    "members": ["Org1MSP", "Org2MSP"],
    "policy": Policy(
        quorum=2,
        approval_threshold=0.5,
        min_score=None,
        max_regression=None,
        voting_period_seconds=3600,
        max_model_bytes=1_000_000,
        max_open_proposals_per_org=3,
    ),
}


def test_the_cli_shows_the_ca_reenrolls_keeping_the_previous_identity_and_revokes(
    ca_server: CaServer, client: FabricCaClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    common = ["--ca-url", ca_server.url, "--ca-cert", str(ca_server.tls_cert)]
    shown = runner.invoke(app, ["identity", "info", *common])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == [
        f"CA (default) at {ca_server.url}, Fabric CA v1.5.19",
        "  root: CN=fabric-ca-server,OU=Fabric,O=Hyperledger,ST=North Carolina,C=US",
    ]
    _enroll_admin(client, Path("admin/msp"))
    before = load_msp_identity(Path("admin/msp"), "")
    renewed = runner.invoke(app, ["identity", "reenroll", *common, "--msp-dir", "admin/msp"])
    assert renewed.exit_code == 0, renewed.output
    assert renewed.stdout.strip() == (
        "re-enrolled admin/msp; the previous certificate and key are in its previous/"
    )
    after = load_msp_identity(Path("admin/msp"), "")
    assert after.certificate.subject == before.certificate.subject
    assert after.private_key.public_key() != before.private_key.public_key()
    [previous] = Path("admin/msp/previous").iterdir()
    assert load_msp_identity(previous, "").certificate_pem == before.certificate_pem

    name = f"gone-{uuid.uuid4().hex[:6]}"
    client.register(after, Registration(name, secret="pw"))
    serial = x509.load_pem_x509_certificate(client.enroll(name, "pw", []).certificate_pem)
    args = ["identity", "revoke", *common, "--as", "admin/msp", "--id", name]
    revoked = runner.invoke(app, [*args, "--crl-out", "org/msp/crls/crl.pem"])
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.splitlines() == [
        f"revoked {name}: 1 certificates ({serial.serial_number:x})",
        "CRL written to org/msp/crls/crl.pem",
    ]
    crl = x509.load_pem_x509_crl(Path("org/msp/crls/crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial.serial_number) is not None


def test_tls_from_a_separate_tls_ca_of_the_same_server(tmp_path: Path) -> None:
    """Production CAs (fabric-operator's, say) serve a signing CA and a TLS CA side by side:
    `--cacount 1` adds a second CA, ca1, with its own root, playing the TLS CA."""
    assert BINARY is not None
    server = start_ca_server(BINARY, tmp_path / "two-cas", extra=("--cacount", "1"))
    try:
        client = server.client()
        msp = tmp_path / "admin" / "msp"
        enroll_into(
            client,
            BOOTSTRAP[0],
            BOOTSTRAP[1],
            msp,
            hosts=["localhost"],
            tls=True,
            tls_ca_name="ca1",
        )
        client.close()
    finally:
        server.stop()
    [root_file] = (msp / "cacerts").iterdir()
    signing_root = x509.load_pem_x509_certificate(root_file.read_bytes())
    tls_root = x509.load_pem_x509_certificate((tmp_path / "admin" / "tls" / "ca.crt").read_bytes())
    tls = x509.load_pem_x509_certificate((tmp_path / "admin" / "tls" / "client.crt").read_bytes())
    assert signing_root.subject.rfc4514_string().startswith("CN=fabric-ca-server,")
    assert tls_root.subject.rfc4514_string().startswith("CN=fabric-ca-server-ca1,")
    assert tls.issuer == tls_root.subject
    assert load_msp_identity(msp, "").certificate.issuer == signing_root.subject
