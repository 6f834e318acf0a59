"""Fabric CA's authorisation token: how an enrolled identity signs a request.

The CA verifies (fabric-ca util.VerifyToken) an ECDSA signature over
`METHOD.b64(uri).b64(body).b64(certificate PEM)`, SHA-256, where b64 is standard base64 with
padding and `uri` the request's path (and query) exactly as sent. The header is
`b64(certificate PEM).b64(DER signature)`. Fabric's ECDSA verifier refuses a signature whose S
is in the upper half of the curve order (malleability), so S is normalised to the lower half.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from fedledger.ca.errors import CaInputError

# The order of P-256's base point; Fabric CA identities are P-256.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signed_payload(method: str, uri: str, body: bytes, certificate_pem: bytes) -> bytes:
    """The bytes the token's signature covers."""
    return ".".join([method, b64(uri.encode()), b64(body), b64(certificate_pem)]).encode()


def low_s_signature(key: ec.EllipticCurvePrivateKey, data: bytes, *, deterministic: bool) -> bytes:
    """A DER ECDSA-SHA256 signature of `data` with S in the lower half of the order.

    `deterministic` signs per RFC 6979 (the same bytes every time: test vectors).
    Raises CaInputError for a key on another curve than P-256.
    """
    if not isinstance(key.curve, ec.SECP256R1):
        raise CaInputError(f"Fabric CA identities use P-256 keys, this one is {key.curve.name}")
    algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic)
    r, s = decode_dss_signature(key.sign(data, algorithm))
    if s > P256_ORDER // 2:
        s = P256_ORDER - s
    return encode_dss_signature(r, s)


def auth_token(
    certificate_pem: bytes,
    key: ec.EllipticCurvePrivateKey,
    method: str,
    uri: str,
    body: bytes,
    *,
    deterministic: bool = False,
) -> str:
    """The value of the `Authorization` header for a request signed by this identity.

    Raises CaInputError for a key on another curve than P-256.
    """
    payload = signed_payload(method, uri, body, certificate_pem)
    signature = low_s_signature(key, payload, deterministic=deterministic)
    return f"{b64(certificate_pem)}.{b64(signature)}"
