"""Identity loading and ECDSA signing: P-256, SHA-256, DER, low-S."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fabric_protos.msp import identities_pb2

from fedledger.fabric.crypto import HALF_ORDER
from fedledger.fabric.identity import Identity, SigningIdentity
from fedledger.orgs.ca import CertificateAuthority
from fedledger.orgs.msp import MspFolderError

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def issued() -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    ca = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    user = ca.issue_signing("User1@org1.example.com", "client", NOW)
    return user.cert_pem, user.private_key


@pytest.fixture
def signer(issued: tuple[bytes, ec.EllipticCurvePrivateKey]) -> SigningIdentity:
    return SigningIdentity(Identity("Org1MSP", issued[0]), issued[1])


def test_every_signature_is_low_s_and_verifies_over_sha256(signer: SigningIdentity) -> None:
    public_key = _public_key(signer)
    for index in range(64):
        message = f"message {index}".encode()
        signature = signer.sign(message)
        _, s = decode_dss_signature(signature)
        assert s <= HALF_ORDER
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))


def test_sign_digest_signs_the_given_sha256_digest(signer: SigningIdentity) -> None:
    message = b"proposal bytes"
    signature = signer.sign_digest(hashlib.sha256(message).digest())
    _public_key(signer).verify(signature, message, ec.ECDSA(hashes.SHA256()))


def test_creator_is_the_serialized_identity(
    signer: SigningIdentity, issued: tuple[bytes, ec.EllipticCurvePrivateKey]
) -> None:
    creator = identities_pb2.SerializedIdentity.FromString(signer.creator)
    assert creator.mspid == "Org1MSP"
    assert creator.id_bytes == issued[0]


def test_from_msp_folder_reads_signcerts_and_keystore(
    tmp_path: Path, issued: tuple[bytes, ec.EllipticCurvePrivateKey]
) -> None:
    msp = tmp_path / "msp"
    (msp / "signcerts").mkdir(parents=True)
    (msp / "keystore").mkdir()
    (msp / "signcerts" / "cert.pem").write_bytes(issued[0])
    (msp / "keystore" / "priv_sk").write_bytes(_key_pem(issued[1]))

    loaded = SigningIdentity.from_msp_folder(msp, "Org1MSP")

    assert loaded.identity == Identity("Org1MSP", issued[0])


def test_from_msp_folder_without_keystore_names_the_folder(
    tmp_path: Path, issued: tuple[bytes, ec.EllipticCurvePrivateKey]
) -> None:
    (tmp_path / "msp" / "signcerts").mkdir(parents=True)
    (tmp_path / "msp" / "signcerts" / "cert.pem").write_bytes(issued[0])
    with pytest.raises(MspFolderError, match="keystore does not exist"):
        SigningIdentity.from_msp_folder(tmp_path / "msp", "Org1MSP")


def test_from_pem_files(tmp_path: Path, issued: tuple[bytes, ec.EllipticCurvePrivateKey]) -> None:
    (tmp_path / "cert.pem").write_bytes(issued[0])
    (tmp_path / "key.pem").write_bytes(_key_pem(issued[1]))
    loaded = SigningIdentity.from_pem_files(tmp_path / "cert.pem", tmp_path / "key.pem", "Org1MSP")
    assert loaded.msp_id == "Org1MSP"


def test_a_key_that_is_not_the_certificates_is_refused(
    issued: tuple[bytes, ec.EllipticCurvePrivateKey],
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ValueError, match="private key of Org1MSP does not match its certificate"):
        SigningIdentity(Identity("Org1MSP", issued[0]), other)


def test_a_key_on_another_curve_is_refused(
    issued: tuple[bytes, ec.EllipticCurvePrivateKey],
) -> None:
    with pytest.raises(ValueError, match="secp384r1 key: Fabric's default MSP signs with P-256"):
        SigningIdentity(Identity("Org1MSP", issued[0]), ec.generate_private_key(ec.SECP384R1()))


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_key(signer: SigningIdentity) -> ec.EllipticCurvePublicKey:
    key = signer.identity.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key
