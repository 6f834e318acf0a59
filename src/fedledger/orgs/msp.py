"""Loading an identity (certificate and private key) from an MSP folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fedledger.orgs.errors import OrgError


class MspFolderError(OrgError):
    """An MSP folder is missing a file or holds something unusable."""


@dataclass(frozen=True)
class MspIdentity:
    msp_id: str
    certificate_pem: bytes
    private_key: ec.EllipticCurvePrivateKey

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem)


def _single_file(folder: Path, what: str) -> Path:
    if not folder.is_dir():
        raise MspFolderError(f"{folder} does not exist: an MSP folder needs {folder.name}/")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if len(files) != 1:
        raise MspFolderError(f"{folder} must hold exactly one {what}, found {len(files)}")
    return files[0]


def load_msp_identity(msp_dir: Path, msp_id: str) -> MspIdentity:
    """Read `signcerts/` and `keystore/` of an MSP folder and check the key matches the cert.

    Raises MspFolderError naming the file that does not fit.
    """
    cert_path = _single_file(msp_dir / "signcerts", "certificate")
    key_path = _single_file(msp_dir / "keystore", "private key")
    certificate_pem = cert_path.read_bytes()
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError as error:
        raise MspFolderError(f"{msp_dir}: unreadable certificate or key: {error}") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise MspFolderError(f"{key_path}: Fabric identities use ECDSA keys")
    if key.public_key() != certificate.public_key():
        raise MspFolderError(f"{key_path} does not belong to the certificate {cert_path}")
    return MspIdentity(msp_id, certificate_pem, key)
