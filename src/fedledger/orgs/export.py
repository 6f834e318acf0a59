"""The public part of one organisation, as one JSON file (`fedledger org export`).

What the other organisations need to add it to a channel, and nothing secret: the MSP ID, the
MSP definition (signing CA and TLS CA certificates, NodeOUs) and the anchor peer. The format is
described in docs/multi-host.md; `formatVersion` lets a later fedledger refuse a file it does
not understand instead of misreading it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from cryptography import x509
from pydantic import PlainValidator

from fedledger.configfile import Address, Section, Text, validate, wrong
from fedledger.orgs.errors import OrgFileError
from fedledger.orgs.standalone import StandaloneOrg

FORMAT_VERSION = 1
ROLES = ("client", "peer", "admin", "orderer")


@dataclass(frozen=True)
class OrgDefinition:
    """An organisation as a channel configuration names it. Certificates are PEM bytes."""

    msp_id: str
    root_certs: tuple[bytes, ...]
    tls_root_certs: tuple[bytes, ...]
    anchor_host: str
    anchor_port: int
    node_ous: bool = True

    @classmethod
    def of(cls, org: StandaloneOrg) -> OrgDefinition:
        host, port = org.anchor_peer
        return cls(
            msp_id=org.msp_id,
            root_certs=(org.layout.ca_cert.read_bytes(),),
            tls_root_certs=(org.layout.tlsca_cert.read_bytes(),),
            anchor_host=host,
            anchor_port=port,
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "mspId": self.msp_id,
            "msp": {
                "rootCerts": [c.decode() for c in self.root_certs],
                "tlsRootCerts": [c.decode() for c in self.tls_root_certs],
                "nodeOUs": {"enable": self.node_ous, **{f"{r}OU": r for r in ROLES}},
            },
            "anchorPeer": f"{self.anchor_host}:{self.anchor_port}",
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_document(), indent=2) + "\n")


def _pem_certificate(value: Any) -> bytes:
    if not isinstance(value, str) or "-----BEGIN CERTIFICATE-----" not in value:
        raise wrong("must be a PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        x509.load_pem_x509_certificate(value.encode())
    except ValueError as error:
        raise wrong("is not a readable PEM certificate: {reason}", reason=str(error)) from None
    return value.encode()


def _certificates(value: Any) -> tuple[bytes, ...]:
    if not isinstance(value, list) or not value:
        raise wrong("must be a non-empty list of PEM certificates")
    found = []
    for index, item in enumerate(value):
        try:
            found.append(_pem_certificate(item))
        except Exception as error:
            raise wrong("[{index}] {reason}", index=index, reason=str(error)) from None
    return tuple(found)


def format_version(value: Any) -> int:
    """The file's `formatVersion` when this fedledger reads it (organisation and ordering
    files share it); raises the configfile error naming what to do otherwise."""
    if value != FORMAT_VERSION:
        raise wrong(
            "must be {expected} (this fedledger reads version {expected}), got {got}: "
            "export the file again with this version",
            expected=FORMAT_VERSION,
            got=value,
        )
    return FORMAT_VERSION


Certificate = Annotated[bytes, PlainValidator(_pem_certificate)]
Certificates = Annotated[tuple[bytes, ...], PlainValidator(_certificates)]


class _NodeOUs(Section):
    enable: bool
    client_o_u: Text = "client"
    peer_o_u: Text = "peer"
    admin_o_u: Text = "admin"
    orderer_o_u: Text = "orderer"


class _Msp(Section):
    root_certs: Certificates
    tls_root_certs: Certificates
    node_o_us: _NodeOUs


class _File(Section):
    format_version: Annotated[int, PlainValidator(format_version)]
    msp_id: Text
    msp: _Msp
    anchor_peer: Address


def read_exported(path: Path, error: type[ValueError], owner: str, command: str) -> Any:
    """The JSON document of a file `command` exported for `owner` ("organisation"); raises
    `error` saying who writes it when it is missing, or why it cannot be read."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise error(
            f"no {owner} file at {path}: the {owner} writes it with `{command} --out FILE`"
        ) from None
    except (OSError, ValueError) as failure:
        raise error(f"cannot read {path} as JSON: {failure}") from None


def read_org_file(path: Path) -> OrgDefinition:
    """The organisation in an exported file; raises OrgFileError naming the file and the field
    that is missing or wrong."""
    document = read_exported(path, OrgFileError, "organisation", "fedledger org export")
    try:
        file = validate(_File, document, path.parent, "the organisation file")
    except ValueError as error:
        raise OrgFileError(f"{path}: {error}") from None
    ous = file.msp.node_o_us
    if not ous.enable or (ous.client_o_u, ous.peer_o_u, ous.admin_o_u, ous.orderer_o_u) != ROLES:
        raise OrgFileError(
            f"{path}: msp.nodeOUs must be enabled with the OUs client, peer, admin and orderer "
            "(fedledger recognises roles by NodeOU)"
        )
    host, _, port = file.anchor_peer.rpartition(":")
    return OrgDefinition(
        msp_id=file.msp_id,
        root_certs=file.msp.root_certs,
        tls_root_certs=file.msp.tls_root_certs,
        anchor_host=host,
        anchor_port=int(port),
    )
