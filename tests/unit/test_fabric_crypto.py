"""Fabric's crypto conventions, shared by the client and the embedded ledger: low-S ECDSA
P-256 signatures, the transaction id, the serialized creator."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.msp import identities_pb2

from fedledger.embedded.identity import check_signature
from fedledger.fabric.crypto import (
    HALF_ORDER,
    P256_ORDER,
    is_low_s,
    low_s,
    normalise_signature,
    serialize_identity,
    sign_digest_low_s,
    sign_low_s,
    transaction_id,
)

NONCE = bytes(range(24))
CREATOR = b"\n\x07Org1MSP\x12\x0b-----PEM---"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_half_order_is_the_floor_of_half_the_p256_order() -> None:
    assert HALF_ORDER == P256_ORDER // 2
    assert 2 * HALF_ORDER + 1 == P256_ORDER


@pytest.mark.parametrize(
    ("s", "low"),
    [(1, True), (HALF_ORDER - 1, True), (HALF_ORDER, True), (HALF_ORDER + 1, False)],
)
def test_is_low_s_accepts_up_to_half_the_order(s: int, low: bool) -> None:
    assert is_low_s(s) is low


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        (1, 1),
        (HALF_ORDER - 1, HALF_ORDER - 1),
        (HALF_ORDER, HALF_ORDER),
        (HALF_ORDER + 1, P256_ORDER - HALF_ORDER - 1),
        (P256_ORDER - 1, 1),
    ],
)
def test_low_s_keeps_the_lower_half_and_mirrors_the_upper(s: int, expected: int) -> None:
    assert low_s(s) == expected
    assert is_low_s(low_s(s))


def test_normalise_signature_turns_a_high_s_into_the_equivalent_low_s(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    message = b"endorse me"
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    canonical = min(s, P256_ORDER - s)
    high = encode_dss_signature(r, P256_ORDER - canonical)
    key.public_key().verify(high, message, ec.ECDSA(hashes.SHA256()))  # valid, yet refused by peers

    normalised = normalise_signature(high)

    assert normalised == encode_dss_signature(r, canonical)
    key.public_key().verify(normalised, message, ec.ECDSA(hashes.SHA256()))


def test_normalise_signature_leaves_a_low_s_signature_byte_identical() -> None:
    low = encode_dss_signature(12345, HALF_ORDER)
    assert normalise_signature(low) == low


def test_every_signature_is_low_s_verifies_over_sha256_and_passes_a_peers_check(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    for index in range(32):
        message = f"message {index}".encode()
        signature = sign_low_s(key, message)
        assert is_low_s(decode_dss_signature(signature)[1])
        key.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))
        check_signature(key.public_key(), message, signature)


def test_sign_digest_low_s_signs_the_given_sha256_digest(key: ec.EllipticCurvePrivateKey) -> None:
    message = b"proposal bytes"
    signature = sign_digest_low_s(key, hashlib.sha256(message).digest())
    key.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))


def test_transaction_id_is_hex_sha256_of_nonce_then_creator() -> None:
    assert transaction_id(NONCE, CREATOR) == hashlib.sha256(NONCE + CREATOR).hexdigest()
    assert transaction_id(b"", b"") == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert transaction_id(b"nonce", b"creator") == hashlib.sha256(b"noncecreator").hexdigest()


def test_transaction_id_depends_on_order_of_nonce_and_creator() -> None:
    assert transaction_id(NONCE, CREATOR) != hashlib.sha256(CREATOR + NONCE).hexdigest()


def test_the_creator_is_a_serialized_identity_of_msp_id_and_pem() -> None:
    pem = b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
    creator = identities_pb2.SerializedIdentity.FromString(serialize_identity("Org1MSP", pem))
    assert (creator.mspid, creator.id_bytes) == ("Org1MSP", pem)
