"""Fabric CA's operations: CA information, enrol, re-enrol, register, revoke.

Enrolment authenticates with the identity's secret (HTTP Basic) and sends a CSR for a key made
here; everything else is signed with an enrolled identity's token (ca/token.py). Only public
material crosses the wire: the CSR, certificates, and the registrar's signature.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedledger.ca.csr import build_csr, new_key
from fedledger.ca.errors import CaInputError, CaResponseError
from fedledger.ca.transport import DEFAULT_TIMEOUT, Call, CaTransport
from fedledger.orgs.msp import MspIdentity

IDENTITY_TYPES = ("client", "peer", "admin", "orderer")


@dataclass(frozen=True)
class CaInfo:
    ca_name: str
    chain_pem: bytes
    version: str


@dataclass(frozen=True)
class Enrollment:
    """What an enrolment returns, with the key it was requested for (which never left here)."""

    enrollment_id: str
    certificate_pem: bytes
    private_key: ec.EllipticCurvePrivateKey
    info: CaInfo


@dataclass(frozen=True)
class Revocation:
    """The serial numbers (hex) of the revoked certificates, and the CA's CRL when asked."""

    serials: list[str]
    crl_pem: bytes | None


@dataclass(frozen=True)
class Registration:
    """What the registrar asks the CA to record about a new identity."""

    enrollment_id: str
    identity_type: str = "client"
    secret: str | None = None
    affiliation: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    max_enrollments: int = 0

    def __post_init__(self) -> None:
        """Raises CaInputError for an unknown identity type."""
        if self.identity_type not in IDENTITY_TYPES:
            raise CaInputError(
                f"--type {self.identity_type!r} is not one of {', '.join(IDENTITY_TYPES)}"
            )

    def body(self, ca_name: str) -> dict[str, Any]:
        """The JSON of `POST /register`."""
        body: dict[str, Any] = {
            "id": self.enrollment_id,
            "type": self.identity_type,
            "affiliation": self.affiliation,
            "attrs": [{"name": k, "value": v} for k, v in self.attributes.items()],
            "caname": ca_name,
        }
        if self.secret:
            body["secret"] = self.secret
        if self.max_enrollments:
            body["max_enrollments"] = self.max_enrollments
        return body


def _decode(value: object, what: str, url: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as error:
        raise CaResponseError(f"the Fabric CA at {url} sent an unreadable {what}") from error


def _info(result: dict[str, Any], url: str) -> CaInfo:
    chain = _decode(result.get("CAChain", ""), "CA chain", url)
    return CaInfo(str(result.get("CAName", "")), chain, str(result.get("Version", "")))


def _crl_pem(data: bytes, url: str) -> bytes:
    """Fabric CA sends the CRL in DER; MSP folders hold PEM."""
    try:
        crl = x509.load_der_x509_crl(data)
    except ValueError:
        try:
            crl = x509.load_pem_x509_crl(data)
        except ValueError as error:
            raise CaResponseError(f"the Fabric CA at {url} sent an unreadable CRL") from error
    return crl.public_bytes(serialization.Encoding.PEM)


def enrollment_id_of(certificate_pem: bytes) -> str:
    """The enrolment ID Fabric CA put in a certificate: its subject's common name.

    Raises CaInputError for a certificate without one."""
    names = x509.load_pem_x509_certificate(certificate_pem).subject.get_attributes_for_oid(
        NameOID.COMMON_NAME
    )
    if not names:
        raise CaInputError("the certificate has no common name: not a Fabric CA enrolment")
    return str(names[0].value)


class FabricCaClient:
    """One CA (`ca_name` picks one of several CAs a server hosts; empty is its default)."""

    def __init__(
        self,
        url: str,
        ca_cert: Path | None = None,
        ca_name: str = "",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Raises CaInputError for a malformed URL or an unreadable CA certificate."""
        self.transport = CaTransport(url, ca_cert, timeout)
        self.ca_name = ca_name

    @property
    def url(self) -> str:
        return self.transport.url

    def close(self) -> None:
        self.transport.close()

    def cainfo(self) -> CaInfo:
        """The CA's name, certificate chain and version.

        Raises the transport's errors (CaTransport.send)."""
        call = Call(
            "cainfo",
            "read the CA information of",
            self.ca_name or "default CA",
            body={"caname": self.ca_name},
        )
        return _info(self.transport.send(call), self.url)

    def enroll(
        self,
        enrollment_id: str,
        secret: str,
        hosts: list[str],
        profile: str = "",
        ca_name: str | None = None,
    ) -> Enrollment:
        """Enrol with the secret; `profile` "tls" asks for a TLS certificate, `ca_name` another
        CA of the same server than the client's (a separate TLS CA, say).

        Raises CaAuthenticationError for a refused secret, CaResponseError for an answer
        without a certificate, and the transport's other errors (CaTransport.send)."""
        key = new_key()
        call = Call(
            "enroll",
            "enroll",
            enrollment_id,
            body=self._sign_request(key, enrollment_id, hosts, profile, ca_name),
            basic=(enrollment_id, secret),
        )
        return self._enrollment(self.transport.send(call), enrollment_id, key)

    def reenroll(self, current: MspIdentity, hosts: list[str], profile: str = "") -> Enrollment:
        """A new certificate and key for an enrolled identity, signed with its current one.

        Raises CaResponseError for an answer without a certificate, CaInputError for a
        certificate without a common name, and the transport's errors (CaTransport.send)."""
        enrollment_id = enrollment_id_of(current.certificate_pem)
        key = new_key()
        body = self._sign_request(key, enrollment_id, hosts, profile)
        call = Call("reenroll", "re-enroll", enrollment_id, body=body, signer=current)
        return self._enrollment(self.transport.send(call), enrollment_id, key)

    def register(self, registrar: MspIdentity, registration: Registration) -> str:
        """Register an identity; returns its enrolment secret (the CA's, when none was given).

        Raises CaResponseError for an answer without a secret, and the transport's errors
        (CaTransport.send)."""
        call = Call(
            "register",
            "register",
            registration.enrollment_id,
            body=registration.body(self.ca_name),
            signer=registrar,
        )
        secret = self.transport.send(call).get("secret")
        if not secret:
            raise CaResponseError(f"the Fabric CA at {self.url} registered no secret")
        return str(secret)

    def revoke(
        self, registrar: MspIdentity, enrollment_id: str, reason: str = "", *, crl: bool = False
    ) -> Revocation:
        """Revoke every certificate of `enrollment_id`; with `crl`, the CA also returns its
        certificate revocation list (PEM), what an MSP's `crls/` holds.

        Raises CaResponseError for an unreadable CRL, and the transport's errors
        (CaTransport.send)."""
        body = {"id": enrollment_id, "reason": reason, "caname": self.ca_name, "gencrl": crl}
        call = Call("revoke", "revoke", enrollment_id, body=body, signer=registrar)
        result = self.transport.send(call)
        revoked = result.get("RevokedCerts") or []
        serials = [str(cert.get("Serial", "")) for cert in revoked if isinstance(cert, dict)]
        crl_pem = None
        if result.get("CRL"):
            crl_pem = _crl_pem(_decode(result["CRL"], "CRL", self.url), self.url)
        return Revocation(serials, crl_pem)

    def _sign_request(
        self,
        key: ec.EllipticCurvePrivateKey,
        enrollment_id: str,
        hosts: list[str],
        profile: str,
        ca_name: str | None = None,
    ) -> dict[str, Any]:
        return {
            "hosts": hosts,
            "certificate_request": build_csr(key, enrollment_id, hosts).decode(),
            "profile": profile,
            "caname": self.ca_name if ca_name is None else ca_name,
        }

    def _enrollment(
        self, result: dict[str, Any], enrollment_id: str, key: ec.EllipticCurvePrivateKey
    ) -> Enrollment:
        if "Cert" not in result:
            raise CaResponseError(f"the Fabric CA at {self.url} returned no certificate")
        certificate = _decode(result["Cert"], "certificate", self.url)
        info = _info(result.get("ServerInfo") or {}, self.url)
        return Enrollment(enrollment_id, certificate, key, info)
