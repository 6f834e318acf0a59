"""The Fabric CA client against a local fake of the CA's HTTP side: what it sends, how it reads
answers, and which error each failure becomes (the real server: tests/integration/test_ca.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fedledger.ca import (
    CaAuthenticationError,
    CaInputError,
    CaRefusedError,
    CaResponseError,
    CaTlsError,
    CaUnreachableError,
    FabricCaClient,
    Registration,
)
from fedledger.ca.token import signed_payload
from fedledger.orgs.ca import CertificateAuthority
from fedledger.orgs.msp import MspIdentity

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeCa:
    """Answers every request with `status` and `answer`; records what it received."""

    status: int = 200
    answer: bytes = b""
    seen: list[Seen] = field(default_factory=list)
    url: str = ""


def _handler(fake: FakeCa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            fake.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            self.send_response(fake.status)
            self.send_header("Content-Length", str(len(fake.answer)))
            self.end_headers()
            self.wfile.write(fake.answer)

        do_GET = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeCa]:
    state = FakeCa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def envelope(result: Any = None, errors: list[dict[str, Any]] | None = None) -> bytes:
    success = not errors
    return json.dumps(
        {"success": success, "result": result, "errors": errors or [], "messages": []}
    ).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)


def _registrar(ca: CertificateAuthority) -> MspIdentity:
    issued = ca.issue_signing("admin", "admin", NOW)
    return MspIdentity("", issued.cert_pem, issued.private_key)


def test_enroll_sends_basic_auth_and_a_csr_and_reads_the_certificate(
    fake: FakeCa, ca: CertificateAuthority
) -> None:
    issued = ca.issue_signing("user1", "client", NOW)
    chain = ca.issued.cert_pem
    fake.answer = envelope(
        {"Cert": _b64(issued.cert_pem), "ServerInfo": {"CAName": "ca1", "CAChain": _b64(chain)}}
    )
    enrollment = FabricCaClient(fake.url, ca_name="ca1").enroll("user1", "pw", ["h1"], "tls")
    [request] = fake.seen
    assert (request.method, request.path) == ("POST", "/api/v1/enroll")
    assert request.headers["Authorization"] == "Basic " + _b64(b"user1:pw")
    body = json.loads(request.body)
    assert (body["hosts"], body["profile"], body["caname"]) == (["h1"], "tls", "ca1")
    csr = x509.load_pem_x509_csr(body["certificate_request"].encode())
    assert csr.public_key() == enrollment.private_key.public_key()
    assert enrollment.certificate_pem == issued.cert_pem
    assert (enrollment.info.ca_name, enrollment.info.chain_pem) == ("ca1", chain)


def test_register_signs_the_request_with_the_registrars_token(
    fake: FakeCa, ca: CertificateAuthority
) -> None:
    registrar = _registrar(ca)
    fake.answer = envelope({"secret": "generated"})
    client = FabricCaClient(fake.url + "/prefix/")
    assert client.register(registrar, Registration("user1")) == "generated"
    [request] = fake.seen
    assert request.path == "/prefix/api/v1/register"
    cert_part, signature_part = request.headers["Authorization"].split(".")
    assert base64.b64decode(cert_part) == registrar.certificate_pem
    payload = signed_payload("POST", request.path, request.body, registrar.certificate_pem)
    registrar.private_key.public_key().verify(
        base64.b64decode(signature_part), payload, ec.ECDSA(hashes.SHA256())
    )


def test_revoke_asks_for_the_crl_and_reads_it(fake: FakeCa, ca: CertificateAuthority) -> None:
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(NOW)
        .next_update(NOW + dt.timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(0xAB).revocation_date(NOW).build()
        )
        .sign(ca.issued.private_key, hashes.SHA256())
    )
    der = crl.public_bytes(serialization.Encoding.DER)
    fake.answer = envelope({"RevokedCerts": [{"Serial": "ab", "AKI": "x"}], "CRL": _b64(der)})
    revocation = FabricCaClient(fake.url).revoke(_registrar(ca), "peer1", "keycompromise", crl=True)
    assert json.loads(fake.seen[0].body)["gencrl"] is True
    assert revocation.serials == ["ab"]
    assert revocation.crl_pem == crl.public_bytes(serialization.Encoding.PEM)


def test_an_unreadable_crl(fake: FakeCa, ca: CertificateAuthority) -> None:
    fake.answer = envelope({"RevokedCerts": [], "CRL": _b64(b"not a crl")})
    with pytest.raises(CaResponseError) as caught:
        FabricCaClient(fake.url).revoke(_registrar(ca), "peer1", crl=True)
    assert str(caught.value) == f"the Fabric CA at {fake.url} sent an unreadable CRL"


def test_a_refused_secret_is_an_authentication_error(fake: FakeCa) -> None:
    fake.status = 401
    fake.answer = envelope(errors=[{"code": 20, "message": "Authentication failure"}])
    with pytest.raises(CaAuthenticationError) as caught:
        FabricCaClient(fake.url).enroll("peer1", "wrong", [])
    assert caught.value.codes == [20]
    assert str(caught.value) == (
        f"the Fabric CA at {fake.url} refused to enroll 'peer1' (HTTP 401): Authentication "
        "failure (code 20): the secret is wrong, the identity 'peer1' is not registered at this "
        "CA, or it has used up its enrolments; check --id and --secret"
    )


def test_a_refusal_names_the_ca_the_identity_and_every_message(
    fake: FakeCa, ca: CertificateAuthority
) -> None:
    fake.status = 409
    fake.answer = envelope(
        errors=[
            {"code": 74, "message": "Identity 'user1' is already registered"},
            {"code": 0, "message": "second"},
        ]
    )
    with pytest.raises(CaRefusedError) as caught:
        FabricCaClient(fake.url).register(_registrar(ca), Registration("user1"))
    assert type(caught.value) is CaRefusedError
    assert caught.value.codes == [74, 0]
    assert str(caught.value) == (
        f"the Fabric CA at {fake.url} refused to register 'user1' (HTTP 409): Identity 'user1' "
        "is already registered (code 74); second (code 0)"
    )


def test_a_code_that_is_not_a_number_is_code_0(fake: FakeCa) -> None:
    fake.status = 500
    fake.answer = envelope(errors=[{"code": "E1", "message": "odd"}])
    with pytest.raises(CaRefusedError) as caught:
        FabricCaClient(fake.url).cainfo()
    assert caught.value.codes == [0]


def test_success_false_without_errors_is_a_refusal(fake: FakeCa) -> None:
    fake.answer = json.dumps({"success": False, "result": None, "errors": []}).encode()
    with pytest.raises(CaRefusedError) as caught:
        FabricCaClient(fake.url).cainfo()
    assert str(caught.value) == (
        f"the Fabric CA at {fake.url} refused to read the CA information of 'default CA' "
        "(HTTP 200): no message"
    )


def test_an_answer_that_is_not_fabric_ca_json(fake: FakeCa) -> None:
    fake.status = 404
    fake.answer = b"<html>not found</html>"
    with pytest.raises(CaResponseError) as caught:
        FabricCaClient(fake.url).enroll("admin", "pw", [])
    assert str(caught.value) == (
        f"the server at {fake.url} answered enroll 'admin' with HTTP 404 and no Fabric CA JSON "
        "('<html>not found</html>'): is --ca-url the CA's address?"
    )


def test_an_enrollment_without_a_certificate(fake: FakeCa) -> None:
    fake.answer = envelope({"ServerInfo": {}})
    with pytest.raises(CaResponseError) as caught:
        FabricCaClient(fake.url).enroll("admin", "pw", [])
    assert str(caught.value) == f"the Fabric CA at {fake.url} returned no certificate"


def test_an_unreachable_ca() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(CaUnreachableError) as caught:
        FabricCaClient(url).enroll("admin", "pw", [])
    message = str(caught.value)
    assert message.startswith(f"cannot reach the Fabric CA at {url} to enroll 'admin': Connect")
    assert message.endswith("check --ca-url and that the CA is running")


@pytest.mark.parametrize("url", ["ca.org1:7054", "ftp://ca.org1", "https://"])
def test_a_malformed_url(url: str) -> None:
    with pytest.raises(CaInputError) as caught:
        FabricCaClient(url)
    assert str(caught.value) == (
        f"--ca-url {url!r} is not a CA address like https://ca.org1.example.com:7054"
    )


def test_an_unreadable_ca_certificate(tmp_path: Path) -> None:
    not_pem = tmp_path / "tls.pem"
    not_pem.write_text("hello")
    with pytest.raises(CaInputError) as caught:
        FabricCaClient("https://localhost:7054", not_pem)
    assert str(caught.value).startswith(f"--ca-cert {not_pem}: not a readable PEM certificate (")


def _tls_server(tmp_path: Path, ca: CertificateAuthority, fake: FakeCa) -> ThreadingHTTPServer:
    tls = ca.issue_tls("localhost", ["localhost"], NOW)
    (tmp_path / "server.crt").write_bytes(tls.cert_pem)
    (tmp_path / "server.key").write_bytes(tls.key_pem)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_tls_with_the_right_and_a_wrong_ca_certificate(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    fake = FakeCa(answer=envelope({"CAName": "", "CAChain": _b64(ca.issued.cert_pem)}))
    server = _tls_server(tmp_path, ca, fake)
    url = f"https://localhost:{server.server_address[1]}"
    try:
        (tmp_path / "right.pem").write_bytes(ca.issued.cert_pem)
        assert FabricCaClient(url, tmp_path / "right.pem").cainfo().chain_pem == ca.issued.cert_pem
        # the server's own certificate, not self-signed, is a trust anchor too (tls-cert.pem)
        assert FabricCaClient(url, tmp_path / "server.crt").cainfo().ca_name == ""
        other = CertificateAuthority.create("ca.other", "other", NOW)
        (tmp_path / "wrong.pem").write_bytes(
            other.certificate.public_bytes(serialization.Encoding.PEM)
        )
        with pytest.raises(CaTlsError) as caught:
            FabricCaClient(url, tmp_path / "wrong.pem").cainfo()
    finally:
        server.shutdown()
        server.server_close()
    assert str(caught.value) == (
        f"TLS with the Fabric CA at {url} failed (unable to get local issuer certificate) while "
        f"trying to read the CA information of 'default CA': its TLS certificate is not the "
        f"certificate in {tmp_path / 'wrong.pem'} or signed by it, or does not name the host in "
        f"the URL; pass the CA's TLS certificate with --ca-cert (fabric-ca-server writes it as "
        f"tls-cert.pem)"
    )


def test_tls_without_a_ca_certificate_uses_the_systems_cas(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    server = _tls_server(tmp_path, ca, FakeCa())
    url = f"https://localhost:{server.server_address[1]}"
    try:
        with pytest.raises(CaTlsError) as caught:
            FabricCaClient(url).enroll("admin", "pw", [])
    finally:
        server.shutdown()
        server.server_close()
    assert "its TLS certificate is not signed by one of the system's CAs, or does not" in str(
        caught.value
    )
