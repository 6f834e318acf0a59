"""Fabric CA's protocol in Python: the authorisation token against vectors fabric-ca's own
util.VerifyToken accepted (testdata/fabric-ca-token-vectors.json), the CSR an enrolment sends,
and the request bodies."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from fedledger.ca.client import Registration, enrollment_id_of
from fedledger.ca.csr import build_csr, new_key
from fedledger.ca.errors import CaInputError
from fedledger.ca.token import P256_ORDER, auth_token, low_s_signature, signed_payload

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "testdata" / "fabric-ca-token-vectors.json").read_text()
)
CERT_PEM = VECTORS["certificate_pem"].encode()


def _key() -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(VECTORS["private_key_pem"].encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["why"])
def test_token_matches_the_vector(case: dict[str, Any]) -> None:
    body = case["body"].encode()
    assert signed_payload(case["method"], case["uri"], body, CERT_PEM) == case["payload"].encode()
    token = auth_token(CERT_PEM, _key(), case["method"], case["uri"], body, deterministic=True)
    assert token == case["token"]


def test_the_vectors_include_a_signature_that_needed_normalising() -> None:
    assert any(case["raw_signature_high_s"] for case in VECTORS["cases"])


def test_token_is_the_certificate_and_a_verifiable_low_s_signature() -> None:
    key = _key()
    body = b'{"id":"user1"}'
    for _ in range(20):  # random nonces: about half the raw signatures are high-S
        cert_part, signature_part = auth_token(CERT_PEM, key, "POST", "/api/v1/x", body).split(".")
        assert base64.b64decode(cert_part) == CERT_PEM
        signature = base64.b64decode(signature_part)
        _, s = decode_dss_signature(signature)
        assert s <= P256_ORDER // 2
        payload = signed_payload("POST", "/api/v1/x", body, CERT_PEM)
        key.public_key().verify(signature, payload, ec.ECDSA(hashes.SHA256()))


def test_a_key_on_another_curve_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(CaInputError) as caught:
        low_s_signature(key, b"x", deterministic=False)
    assert str(caught.value) == "Fabric CA identities use P-256 keys, this one is secp384r1"


def test_csr_names_the_enrollment_id_and_the_hosts_and_is_signed_by_the_key() -> None:
    key = new_key()
    csr = x509.load_pem_x509_csr(build_csr(key, "peer1", ["peer1.org1", "127.0.0.1", "peer1.org1"]))
    assert csr.is_signature_valid
    assert csr.public_key() == key.public_key()
    assert csr.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peer1")])
    names = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["peer1.org1"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert isinstance(key.curve, ec.SECP256R1)


def test_csr_without_hosts_has_no_alternative_names() -> None:
    csr = x509.load_pem_x509_csr(build_csr(new_key(), "user1", []))
    assert list(csr.extensions) == []


def test_registration_body() -> None:
    registration = Registration(
        "peer1", "peer", "pw", "org1.department1", {"hf.Revoker": "true"}, max_enrollments=2
    )
    assert registration.body("ca1") == {
        "id": "peer1",
        "type": "peer",
        "affiliation": "org1.department1",
        "attrs": [{"name": "hf.Revoker", "value": "true"}],
        "caname": "ca1",
        "secret": "pw",
        "max_enrollments": 2,
    }
    assert "secret" not in Registration("user1").body("")


def test_registration_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(CaInputError) as caught:
        Registration("x", "user")
    assert str(caught.value) == "--type 'user' is not one of client, peer, admin, orderer"


def test_enrollment_id_is_the_certificates_common_name() -> None:
    assert enrollment_id_of(CERT_PEM) == "admin"
