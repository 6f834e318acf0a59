"""Who signs: an MSP member's certificate and the key that signs on its behalf.

Every message the Gateway accepts carries the signer as a `msp.SerializedIdentity` (MSP ID and
PEM certificate) and a signature by that certificate's key. Peers verify ECDSA signatures only
in their canonical low-S form, so every signature made here is normalised (the conventions are
in `fedledger.fabric.crypto`, shared with the embedded ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fedledger.fabric.crypto import serialize_identity, sha256, sign_digest_low_s
from fedledger.orgs.msp import MspFolderError, load_msp_identity


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
        return serialize_identity(self.msp_id, self.certificate_pem)


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
        return sign_digest_low_s(self._private_key, digest)

    @classmethod
    def from_msp_folder(cls, msp_dir: Path, msp_id: str) -> SigningIdentity:
        """Load `signcerts/` and `keystore/` of an MSP folder (cryptogen or Fabric CA layout)."""
        loaded = load_msp_identity(msp_dir, msp_id)
        return cls(Identity(msp_id, loaded.certificate_pem), loaded.private_key)

    @classmethod
    def from_pem_files(cls, certificate: Path, private_key: Path, msp_id: str) -> SigningIdentity:
        """Load a PEM certificate and an unencrypted PEM (PKCS#8 or SEC1) private key.

        Raises MspFolderError for a key that is not ECDSA.
        """
        key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise MspFolderError(f"{private_key}: Fabric identities use ECDSA keys")
        return cls(Identity(msp_id, certificate.read_bytes()), key)
