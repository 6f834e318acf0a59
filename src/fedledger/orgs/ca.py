"""A certificate authority that issues Fabric-compatible ECDSA P-256 certificates.

Certificates follow what cryptogen issues: the subject carries the organisation's domain, the
subject key identifier is the SHA-256 of the public key point (Fabric's SKI), leaf certificates
name their issuer's key, and NodeOU roles travel in the subject's OU.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fedledger.orgs.msp import MspFolderError

VALIDITY = dt.timedelta(days=3650)
# Clocks of cooperating machines drift; a certificate valid from "now" can be refused by a peer
# whose clock is a few seconds behind.
BACKDATE = dt.timedelta(minutes=5)


def fabric_ski(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Fabric's subject key identifier: SHA-256 of the uncompressed public key point."""
    point = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return hashlib.sha256(point).digest()


def _subject(domain: str, common_name: str, unit: str | None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "California"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "San Francisco"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, domain),
    ]
    if unit is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


class CertificateAuthority:
    """A self-signed root CA for one organisation (cryptogen makes two: signing and TLS)."""

    def __init__(self, issued: IssuedCertificate, domain: str) -> None:
        self.issued = issued
        self.domain = domain

    @classmethod
    def create(cls, common_name: str, domain: str, now: dt.datetime) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _subject(domain, common_name, unit=None)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier(fabric_ski(key.public_key())), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(IssuedCertificate(certificate, key), domain)

    @classmethod
    def load(cls, cert_path: Path, key_path: Path) -> CertificateAuthority:
        """A CA from its PEM certificate and key; raises MspFolderError for a non-ECDSA key."""
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise MspFolderError(f"{key_path}: expected an ECDSA private key")
        organisation = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        domain = str(organisation[0].value) if organisation else ""
        return cls(IssuedCertificate(certificate, key), domain)

    @property
    def certificate(self) -> x509.Certificate:
        return self.issued.certificate

    def issue_signing(self, common_name: str, unit: str, now: dt.datetime) -> IssuedCertificate:
        """An enrolment certificate (an MSP signcert) whose OU carries the NodeOU role."""
        return self._issue(
            common_name,
            unit,
            now,
            key_usage=_leaf_key_usage(),
            extended=None,
            names=None,
        )

    def issue_tls(
        self, common_name: str, hostnames: list[str], now: dt.datetime
    ) -> IssuedCertificate:
        """A TLS certificate usable as server and client, valid for the names and 127.0.0.1."""
        names: list[x509.GeneralName] = []
        for host in [common_name, *hostnames]:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(
            common_name,
            None,
            now,
            key_usage=_leaf_key_usage(),
            extended=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
            names=list(dict.fromkeys(names)),
        )

    def _issue(
        self,
        common_name: str,
        unit: str | None,
        now: dt.datetime,
        *,
        key_usage: x509.KeyUsage,
        extended: list[x509.ObjectIdentifier] | None,
        names: list[x509.GeneralName] | None,
    ) -> IssuedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        issuer_key = self.issued.private_key
        builder = (
            x509.CertificateBuilder()
            .subject_name(_subject(self.domain, common_name, unit))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier(
                    key_identifier=fabric_ski(issuer_key.public_key()),
                    authority_cert_issuer=None,
                    authority_cert_serial_number=None,
                ),
                critical=False,
            )
        )
        if extended is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
        if names is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return IssuedCertificate(builder.sign(issuer_key, hashes.SHA256()), key)


def _leaf_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
