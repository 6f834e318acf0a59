"""Writing an enrolment as an MSP folder, in the layout fedledger's client and Fabric read.

`<msp>/signcerts/cert.pem`, `<msp>/keystore/priv_sk` (mode 0600), `<msp>/cacerts/` (the CA
chain's root), `<msp>/intermediatecerts/` (the rest of the chain, when there is one) and
`<msp>/config.yaml` with NodeOUs when the certificate carries a NodeOU role in its OU (Fabric CA
puts the identity's type there). A TLS enrolment goes beside it, as cryptogen lays a node out:
`<msp>/../tls/{ca.crt, server.crt|client.crt, server.key|client.key}`.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from fedledger.ca.client import IDENTITY_TYPES, Enrollment
from fedledger.ca.errors import CaInputError, CaResponseError
from fedledger.orgs.material import node_ous_config

SIGNCERT = Path("signcerts", "cert.pem")
PRIVATE_KEY = Path("keystore", "priv_sk")
CONFIG = "config.yaml"


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600 if secret else 0o644
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    path.chmod(mode)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(enrollment: Enrollment) -> bytes:
    return enrollment.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ca_file_name(url: str) -> str:
    """fabric-ca-client's name for a CA's files: `<host>-<port>.pem`."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}-{port}.pem".replace(":", "-")


def split_chain(
    chain_pem: bytes, url: str
) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """The chain's self-signed roots and its intermediates.

    Raises CaResponseError for a chain without a root."""
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as error:
        raise CaResponseError(f"the Fabric CA at {url} sent an unreadable CA chain") from error
    roots = [c for c in chain if c.subject == c.issuer]
    if not roots:
        raise CaResponseError(f"the CA chain from {url} has no root certificate")
    return roots, [c for c in chain if c.subject != c.issuer]


def node_ou_role(certificate_pem: bytes) -> str | None:
    """The NodeOU role (client, peer, admin, orderer) among the certificate's OUs, if any."""
    units = x509.load_pem_x509_certificate(certificate_pem).subject.get_attributes_for_oid(
        NameOID.ORGANIZATIONAL_UNIT_NAME
    )
    roles = [str(unit.value) for unit in units if unit.value in IDENTITY_TYPES]
    return roles[0] if roles else None


def refuse_existing_identity(msp_dir: Path, *, tls: bool) -> None:
    """Raises CaInputError when `msp_dir` (or, with `tls`, the TLS folder beside it) already
    holds a private key: enrolling again there would overwrite a key nothing else has a copy
    of."""
    keystore = msp_dir / "keystore"
    tls_keys = [tls_dir_of(msp_dir) / f"{side}.key" for side in ("server", "client")]
    taken = [keystore] if keystore.is_dir() and any(keystore.iterdir()) else []
    taken += [key for key in tls_keys if tls and key.exists()]
    if taken:
        raise CaInputError(
            f"{msp_dir} already holds an identity ({taken[0]} exists): choose another "
            f"--msp-dir, or move that folder away first"
        )


def write_msp(msp_dir: Path, enrollment: Enrollment, url: str) -> Path:
    """Write the enrolment as an MSP folder; returns the signcert's path.

    Raises CaResponseError for a CA chain without a root."""
    roots, intermediates = split_chain(enrollment.info.chain_pem, url)
    name = ca_file_name(url)
    _write(msp_dir / "cacerts" / name, b"".join(_pem(c) for c in roots))
    if intermediates:
        _write(msp_dir / "intermediatecerts" / name, b"".join(_pem(c) for c in intermediates))
    _write(msp_dir / PRIVATE_KEY, _key_pem(enrollment), secret=True)
    _write(msp_dir / SIGNCERT, enrollment.certificate_pem)
    if node_ou_role(enrollment.certificate_pem) is not None:
        _write(msp_dir / CONFIG, node_ous_config(name))
    return msp_dir / SIGNCERT


def tls_dir_of(msp_dir: Path) -> Path:
    return msp_dir.parent / "tls"


def write_tls(msp_dir: Path, enrollment: Enrollment, role: str | None, url: str) -> Path:
    """Write a TLS enrolment beside the MSP folder (cryptogen's names: server.* for peers and
    orderers, client.* otherwise) and the TLS CA under `<msp>/tlscacerts/`; returns the TLS
    folder.

    Raises CaResponseError for a CA chain without a root."""
    roots, _ = split_chain(enrollment.info.chain_pem, url)
    tls = tls_dir_of(msp_dir)
    side = "server" if role in ("peer", "orderer") else "client"
    root_pem = b"".join(_pem(c) for c in roots)
    _write(tls / "ca.crt", root_pem)
    _write(tls / f"{side}.crt", enrollment.certificate_pem)
    _write(tls / f"{side}.key", _key_pem(enrollment), secret=True)
    _write(msp_dir / "tlscacerts" / ca_file_name(url), root_pem)
    return tls
