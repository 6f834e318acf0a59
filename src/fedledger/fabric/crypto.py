"""Fabric's crypto conventions, one copy for the client and the embedded ledger.

- **Signatures** are ECDSA P-256 over SHA-256 of the exact bytes sent, DER-encoded, with S in
  the lower half of the group order. (r, s) and (r, order - s) both verify, so a peer accepts
  only the low-S one: otherwise anyone could turn a signed transaction into a different, equally
  valid byte string. Every signature made here is low-S (`sign_low_s`); `is_low_s` is the check a
  peer makes before it verifies.
- **The transaction id** is hex(SHA-256(nonce ‖ creator)). A peer recomputes it from the
  signature header and refuses a proposal whose id does not match, which is what stops a
  transaction being replayed under a new id (the ledger refuses a duplicate id).
- **The creator** (and an endorser, and an orderer) travels as a serialized
  `msp.SerializedIdentity`: the MSP ID and the PEM certificate.

Verifying a signature and deciding whether an identity belongs to the channel are a peer's
work, which a client never does: they stay with the embedded ledger (`fedledger.embedded.
identity`), built on `is_low_s` from here.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.msp import identities_pb2

# Order of the P-256 group (FIPS 186-4, D.1.2.3).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
HALF_ORDER = P256_ORDER >> 1


def sha256(message: bytes) -> bytes:
    return hashlib.sha256(message).digest()


def is_low_s(s: int, order: int = P256_ORDER) -> bool:
    """Whether S is canonical: a peer refuses a signature whose S is above half the order."""
    return s <= order >> 1


def low_s(s: int, order: int = P256_ORDER) -> int:
    """The canonical S of an ECDSA signature: s itself, or its twin order - s."""
    return s if is_low_s(s, order) else order - s


def normalise_signature(der: bytes, order: int = P256_ORDER) -> bytes:
    """Re-encode a DER ECDSA signature with a low S."""
    r, s = decode_dss_signature(der)
    return encode_dss_signature(r, low_s(s, order))


def sign_digest_low_s(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """DER signature, low-S, of a SHA-256 digest."""
    return normalise_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))


def sign_low_s(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """DER signature, low-S, over SHA-256 of `message`."""
    return sign_digest_low_s(key, sha256(message))


def transaction_id(nonce: bytes, creator: bytes) -> str:
    """hex(SHA-256(nonce ‖ serialized creator)), as a peer recomputes it."""
    return hashlib.sha256(nonce + creator).hexdigest()


def serialize_identity(msp_id: str, certificate_pem: bytes) -> bytes:
    """The `creator` bytes of every header and request: a serialized `SerializedIdentity`."""
    identity = identities_pb2.SerializedIdentity(mspid=msp_id, id_bytes=certificate_pem)
    return bytes(identity.SerializeToString())
