"""Who signs: an MSP member's certificate and the key that signs on its behalf.

Every message the Gateway accepts carries the signer as a `msp.SerializedIdentity` (MSP ID and
PEM certificate) and a signature by that certificate's key. Peers verify ECDSA signatures only
in their canonical low-S form, so every signature made here is normalised (see `low_s`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.msp import identities_pb2

from fedledger.orgs.msp import MspFolderError, load_msp_identity

# Order of the P-256 group (FIPS 186-4, D.1.2.3).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def low_s(s: int, order: int = P256_ORDER) -> int:
    """The canonical S of an ECDSA signature.

    (r, s) and (r, order - s) are both valid signatures of the same digest. Fabric accepts only
    the one with s <= order/2, so that a signature (and the transaction that carries it) cannot
    be altered by a third party into a different, equally valid byte string.
    """
    return s if s <= order >> 1 else order - s


def normalise_signature(der: bytes, order: int = P256_ORDER) -> bytes:
    """Re-encode a DER ECDSA signature with a low S."""
    r, s = decode_dss_signature(der)
    return encode_dss_signature(r, low_s(s, order))


def sha256(message: bytes) -> bytes:
    return hashlib.sha256(message).digest()


@dataclass(frozen=True)
class Identity:
    """An MSP member as the ledger sees it: MSP ID and X.509 certificate (PEM)."""

    msp_id: str
    certificate_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem)

    def serialize(self) -> bytes:
        """The `creator` bytes of every header and request: a serialized `SerializedIdentity`."""
        return bytes(
            identities_pb2.SerializedIdentity(
                mspid=self.msp_id, id_bytes=self.certificate_pem
            ).SerializeToString()
        )


class SigningIdentity:
    """An identity together with its ECDSA P-256 private key.

    Immutable and safe to share between threads.
    """

    def __init__(self, identity: Identity, private_key: ec.EllipticCurvePrivateKey) -> None:
        if private_key.curve.name != ec.SECP256R1.name:
            raise ValueError(
                f"identity {identity.msp_id} has a {private_key.curve.name} key: "
                "Fabric's default MSP signs with P-256 (secp256r1)"
            )
        if identity.certificate.public_key() != private_key.public_key():
            raise ValueError(f"the private key of {identity.msp_id} does not match its certificate")
        self.identity = identity
        self._private_key = private_key
        self._creator = identity.serialize()

    @property
    def msp_id(self) -> str:
        return self.identity.msp_id

    @property
    def creator(self) -> bytes:
        return self._creator

    def sign(self, message: bytes) -> bytes:
        """DER signature, low-S, over SHA-256 of `message`."""
        return self.sign_digest(sha256(message))

    def sign_digest(self, digest: bytes) -> bytes:
        der = self._private_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return normalise_signature(der)

    @classmethod
    def from_msp_folder(cls, msp_dir: Path, msp_id: str) -> SigningIdentity:
        """Load `signcerts/` and `keystore/` of an MSP folder (cryptogen or Fabric CA layout)."""
        loaded = load_msp_identity(msp_dir, msp_id)
        return cls(Identity(msp_id, loaded.certificate_pem), loaded.private_key)

    @classmethod
    def from_pem_files(cls, certificate: Path, private_key: Path, msp_id: str) -> SigningIdentity:
        """Load a PEM certificate and an unencrypted PEM (PKCS#8 or SEC1) private key."""
        key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise MspFolderError(f"{private_key}: Fabric identities use ECDSA keys")
        return cls(Identity(msp_id, certificate.read_bytes()), key)
