"""The ordering organisation's public part, as one JSON file (`fedledger orderer export`).

What a channel's genesis block needs of it and nothing secret: the MSP ID, the MSP definition
(signing CA and TLS CA certificates), the orderers' endpoints and, for Raft, each consenter's
TLS certificate (the certificate alone; its key never leaves the folder). docs/consortium.md
describes the format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import PlainValidator

from fedledger.configfile import Address, Section, Text, validate, wrong
from fedledger.ordering.errors import OrdererFileError
from fedledger.ordering.folder import OrderingOrg
from fedledger.orgs.export import (
    FORMAT_VERSION,
    Certificate,
    Certificates,
    format_version,
    read_exported,
)

KIND = "orderer"


@dataclass(frozen=True)
class Consenter:
    host: str
    port: int
    tls_cert: bytes


@dataclass(frozen=True)
class OrdererDefinition:
    """An ordering organisation as a channel configuration names it. Certificates are PEM."""

    msp_id: str
    root_certs: tuple[bytes, ...]
    tls_root_certs: tuple[bytes, ...]
    consenters: tuple[Consenter, ...]

    @property
    def endpoints(self) -> tuple[tuple[str, int], ...]:
        return tuple((c.host, c.port) for c in self.consenters)

    @classmethod
    def of(cls, org: OrderingOrg) -> OrdererDefinition:
        host, port = org.endpoint
        return cls(
            msp_id=org.msp_id,
            root_certs=(org.layout.ca_cert.read_bytes(),),
            tls_root_certs=(org.layout.tlsca_cert.read_bytes(),),
            consenters=(Consenter(host, port, org.orderer.tls_cert("server").read_bytes()),),
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "kind": KIND,
            "mspId": self.msp_id,
            "msp": {
                "rootCerts": [c.decode() for c in self.root_certs],
                "tlsRootCerts": [c.decode() for c in self.tls_root_certs],
            },
            "consenters": [
                {"endpoint": f"{c.host}:{c.port}", "tlsCert": c.tls_cert.decode()}
                for c in self.consenters
            ],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_document(), indent=2) + "\n")


def _kind(value: Any) -> str:
    if value != KIND:
        raise wrong(
            "must be 'orderer', got {got}: is this a member's file (`org export`)? The "
            "ordering organisation writes its file with `fedledger orderer export`",
            got=value,
        )
    return KIND


class _Msp(Section):
    root_certs: Certificates
    tls_root_certs: Certificates


class _Consenter(Section):
    endpoint: Address
    tls_cert: Certificate


class _File(Section):
    format_version: Annotated[int, PlainValidator(format_version)]
    kind: Annotated[str, PlainValidator(_kind)]
    msp_id: Text
    msp: _Msp
    consenters: list[_Consenter]


def read_orderer_file(path: Path) -> OrdererDefinition:
    """The ordering organisation in an exported file; raises OrdererFileError naming the file
    and the field that is missing or wrong."""
    document = read_exported(
        path, OrdererFileError, "ordering organisation", "fedledger orderer export"
    )
    if isinstance(document, dict) and document.get("kind") != KIND and "anchorPeer" in document:
        raise OrdererFileError(
            f"{path} is a member organisation's file (`org export`), not the ordering "
            "organisation's: give the file `fedledger orderer export` wrote to --orderer-org"
        )
    try:
        file = validate(_File, document, path.parent, "the ordering organisation file")
    except ValueError as error:
        raise OrdererFileError(f"{path}: {error}") from None
    if not file.consenters:
        raise OrdererFileError(f"{path}: consenters must list at least one orderer")
    consenters = []
    for item in file.consenters:
        host, _, port = item.endpoint.rpartition(":")
        consenters.append(Consenter(host, int(port), item.tls_cert))
    return OrdererDefinition(
        file.msp_id, file.msp.root_certs, file.msp.tls_root_certs, tuple(consenters)
    )
