"""Identities as a peer checks them: member CAs, NodeOU roles, ECDSA signatures with low S.

A creator or endorser travels as a `SerializedIdentity` (MSP ID + PEM certificate). It is
accepted when the MSP ID is a member organisation, the certificate was issued by that
organisation's signing CA and is valid now, and its OU names a NodeOU role. Signatures are
ECDSA P-256 over SHA-256 in DER; Fabric refuses a high-S signature (an S above half the curve
order has a twin, low-S form, so accepting both would make signatures malleable).

Signing, the low-S rule and the serialized identity are Fabric's conventions, shared with the
client in `fedledger.fabric.crypto`. What stays here is a peer's side, which a client never
does: deserializing an identity against the channel's members and verifying signatures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from fabric_protos.msp import identities_pb2

from fedledger.fabric.crypto import is_low_s, serialize_identity, sign_low_s
from fedledger.orgs import load_msp_identity

ROLES = frozenset({"client", "peer", "admin", "orderer"})


class IdentityError(ValueError):
    """An identity or signature a peer would refuse; the message says why.

    `unknown_org` marks what Fabric cannot even deserialize (not a serialized identity, an MSP
    that is not a member, or a certificate the named MSP's CAs did not issue: Fabric's
    deserializer builds the certificate's validation chain), which it reports differently from
    an invalid member identity.
    """

    def __init__(self, message: str, *, unknown_org: bool = False) -> None:
        super().__init__(message)
        self.unknown_org = unknown_org


class SignatureMemo:
    """Signatures already known good, so that none is verified twice.

    A transaction's envelope signature is checked at Submit and again at commit, and the
    endorsements the ledger made itself are checked at commit: the second check of the same
    bytes by the same signer can only give the same answer. Bounded; shared by the event loop
    and the committer thread.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self._known: dict[tuple[bytes, bytes, bytes], None] = {}
        self._capacity = capacity
        self._lock = threading.Lock()

    @staticmethod
    def key(signer: bytes, data: bytes, signature: bytes) -> tuple[bytes, bytes, bytes]:
        return (hashlib.sha256(signer).digest(), hashlib.sha256(data).digest(), signature)

    def remember(self, signer: bytes, data: bytes, signature: bytes) -> None:
        self.remember_key(self.key(signer, data, signature))

    def remember_key(self, key: tuple[bytes, bytes, bytes]) -> None:
        with self._lock:
            self._known[key] = None
            if len(self._known) > self._capacity:
                del self._known[next(iter(self._known))]

    def known(self, signer: bytes, data: bytes, signature: bytes) -> bool:
        return self.key(signer, data, signature) in self._known

    def known_key(self, key: tuple[bytes, bytes, bytes]) -> bool:
        return key in self._known


@dataclass(frozen=True)
class Identity:
    msp_id: str
    role: str
    certificate: x509.Certificate
    public_key: ec.EllipticCurvePublicKey
    serialized: bytes
    memo: SignatureMemo | None = field(default=None, compare=False, repr=False)

    def verify(self, data: bytes, signature: bytes) -> None:
        """Raise IdentityError unless `signature` is this identity's low-S signature of data."""
        if self.memo is None:
            check_signature(self.public_key, data, signature)
            return
        key = self.memo.key(self.serialized, data, signature)
        if self.memo.known_key(key):
            return
        check_signature(self.public_key, data, signature)
        self.memo.remember_key(key)


def check_signature(key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> None:
    """Check a DER ECDSA signature over `data` as a peer does, low-S included; raises
    IdentityError with the reason a peer gives.
    """
    try:
        _, s = decode_dss_signature(signature)
    except ValueError:
        raise IdentityError("the signature is not a DER-encoded ECDSA signature") from None
    if not is_low_s(s):
        raise IdentityError("invalid S: must be smaller than half the order (high-S signature)")
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise IdentityError("the signature does not verify against the signer's key") from None


@dataclass(frozen=True)
class Signer:
    """A node's signing identity: a peer endorsing, the orderer signing blocks."""

    msp_id: str
    serialized: bytes
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def from_msp(cls, msp_dir: Path, msp_id: str) -> Signer:
        identity = load_msp_identity(msp_dir, msp_id)
        return cls(
            msp_id, serialize_identity(msp_id, identity.certificate_pem), identity.private_key
        )

    def sign(self, data: bytes) -> bytes:
        return sign_low_s(self.private_key, data)


class MemberRegistry:
    """The member organisations' signing CAs, and a cache of identities already verified."""

    def __init__(self, ca_certificates: dict[str, x509.Certificate]) -> None:
        self._cas = dict(ca_certificates)
        self._cache: dict[bytes, Identity] = {}
        self.signatures = SignatureMemo()

    @classmethod
    def from_pem_files(cls, ca_files: dict[str, Path]) -> MemberRegistry:
        return cls({m: x509.load_pem_x509_certificate(p.read_bytes()) for m, p in ca_files.items()})

    @classmethod
    def from_pem(cls, ca_certificates: dict[str, bytes]) -> MemberRegistry:
        return cls({m: x509.load_pem_x509_certificate(pem) for m, pem in ca_certificates.items()})

    @property
    def msp_ids(self) -> list[str]:
        return list(self._cas)

    @property
    def endorsement_quorum(self) -> int:
        """A majority of the channel's member organisations: Fabric's default MAJORITY
        Endorsement, over the configuration in force (it grows when an organisation joins)."""
        return len(self._cas) // 2 + 1

    def replace(self, ca_certificates: dict[str, bytes]) -> None:
        """Make the organisations of these CAs (PEM, by MSP ID) the members, as a new channel
        configuration does: identities of an organisation removed stop verifying at once."""
        cas = {m: x509.load_pem_x509_certificate(pem) for m, pem in ca_certificates.items()}
        self._cas = cas
        self._cache = {}

    def deserialize(self, serialized: bytes, now: dt.datetime | None = None) -> Identity:
        cached = self._cache.get(serialized)
        now = now or dt.datetime.now(dt.UTC)
        if cached is not None:
            _check_validity(cached.certificate, now)
            return cached
        identity = self._verify(serialized, now)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[serialized] = identity
        return identity

    def _verify(self, serialized: bytes, now: dt.datetime) -> Identity:
        message = identities_pb2.SerializedIdentity()
        try:
            message.ParseFromString(serialized)
        except Exception:  # protobuf raises DecodeError, a bare Exception subclass
            raise IdentityError(
                "the identity is not a serialized MSP identity", unknown_org=True
            ) from None
        ca = self._cas.get(message.mspid)
        if ca is None:
            known = ", ".join(self._cas)
            raise IdentityError(
                f"MSP {message.mspid!r} is not a member of the channel (members: {known})",
                unknown_org=True,
            )
        try:
            certificate = x509.load_pem_x509_certificate(message.id_bytes)
        except ValueError:
            raise IdentityError(
                f"the {message.mspid} identity does not hold a PEM certificate", unknown_org=True
            ) from None
        subject = certificate.subject.rfc4514_string()
        if certificate.issuer != ca.subject:
            raise IdentityError(
                f"certificate {subject} was not issued by {message.mspid}'s CA "
                f"({ca.subject.rfc4514_string()})",
                unknown_org=True,
            )
        ca_key = ca.public_key()
        if not isinstance(ca_key, ec.EllipticCurvePublicKey):
            raise IdentityError(f"{message.mspid}'s CA does not hold an ECDSA key")
        try:
            certificate.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            raise IdentityError(
                f"certificate {subject} does not verify against {message.mspid}'s CA "
                "(unknown or forged issuer)",
                unknown_org=True,
            ) from None
        _check_validity(certificate, now)
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise IdentityError(f"certificate {subject} does not hold an ECDSA key")
        units = [
            str(a.value)
            for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        ]
        roles = [u for u in units if u in ROLES]
        if len(roles) != 1:
            raise IdentityError(
                f"certificate {subject} must carry exactly one NodeOU role "
                f"({', '.join(sorted(ROLES))}), found {units or 'none'}"
            )
        return Identity(message.mspid, roles[0], certificate, key, serialized, self.signatures)


def _check_validity(certificate: x509.Certificate, now: dt.datetime) -> None:
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise IdentityError(
            f"certificate {certificate.subject.rfc4514_string()} is not valid at "
            f"{now:%Y-%m-%d %H:%M} "
            f"(valid {certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d})"
        )
