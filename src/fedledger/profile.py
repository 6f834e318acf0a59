"""The connection profile: how everything above the ledger finds it (docs/connection-profile.md).

The file is declared by the pydantic models at the end of this module (`_File` and its parts,
with the rules of `fedledger.configfile`) and turned into the frozen classes above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BeforeValidator, model_validator

from fedledger.configfile import (
    Address,
    AnyPath,
    File,
    Key,
    Section,
    Text,
    check_each,
    mapping_of,
    not_empty,
    read_document,
    validate,
    wrong,
)
from fedledger.orgs.layout import OrgLayout
from fedledger.paths import with_written_paths


class ProfileError(ValueError):
    """The connection profile is missing a field or holds an unusable value."""


@dataclass(frozen=True)
class TlsClient:
    cert: Path
    key: Path


@dataclass(frozen=True)
class GatewayEndpoint:
    endpoint: str
    server_name: str
    tls_ca_cert: Path


@dataclass(frozen=True)
class NodeEndpoint:
    """A peer (for the older protocol) or an orderer: address and how to check its TLS."""

    endpoint: str
    server_name: str
    tls_ca_cert: Path
    msp_id: str = ""


@dataclass(frozen=True)
class OrdererEndpoint(NodeEndpoint):
    """An orderer's Broadcast endpoint, verified against its organisation's TLS CA; `msp_id`
    (the ordering organisation's, optional) names it in errors."""


PROTOCOLS = ("gateway", "peer")
ENDORSEMENT_POLICIES = ("MAJORITY", "ANY", "ALL")


@dataclass(frozen=True)
class OrgProfile:
    msp_id: str
    gateway: GatewayEndpoint
    identities: dict[str, Path]
    tls_client: TlsClient | None = None
    protocol: str = "gateway"
    # The organisation's peers for the older protocol; none listed: its gateway peer alone.
    peers: tuple[NodeEndpoint, ...] = ()

    @property
    def endorsing_peers(self) -> tuple[NodeEndpoint, ...]:
        """The peers the older protocol may ask for endorsements, evaluations and blocks."""
        if self.peers:
            return self.peers
        gateway = self.gateway
        return (
            NodeEndpoint(gateway.endpoint, gateway.server_name, gateway.tls_ca_cert, self.msp_id),
        )

    @classmethod
    def from_material(cls, msp_id: str, org: OrgLayout, endpoint: str) -> OrgProfile:
        """An organisation of a network whose material is in cryptogen's layout: its peer0's
        Gateway at `endpoint`, its Admin and User1 identities, User1's TLS client certificate."""
        client = org.client
        return cls(
            msp_id=msp_id,
            gateway=GatewayEndpoint(
                endpoint=endpoint, server_name=org.peer(0).name, tls_ca_cert=org.tlsca_cert
            ),
            identities={"admin": org.admin.msp, "user": client.msp},
            tls_client=TlsClient(client.tls_cert("client"), client.tls_key("client")),
        )

    def identity(self, name: str) -> Path:
        """The msp folder of identity `name`; raises ProfileError if it has none."""
        try:
            return self.identities[name]
        except KeyError:
            known = ", ".join(sorted(self.identities)) or "none"
            raise ProfileError(
                f"organisation {self.msp_id} has no identity {name!r} (known: {known})"
            ) from None


@dataclass(frozen=True)
class ConnectionProfile:
    name: str
    ledger: str
    channel: str
    chaincode: str
    organizations: dict[str, OrgProfile]
    path: Path | None = None
    orderers: tuple[OrdererEndpoint, ...] = ()
    endorsement_policy: str = "MAJORITY"

    def org(self, msp_id: str) -> OrgProfile:
        """The profile of organisation `msp_id`; raises ProfileError naming the organisations the
        profile has.
        """
        try:
            return self.organizations[msp_id]
        except KeyError:
            known = ", ".join(sorted(self.organizations))
            raise ProfileError(
                f"no organisation {msp_id!r} in the profile (known: {known})"
            ) from None

    @property
    def msp_ids(self) -> list[str]:
        return list(self.organizations)

    @classmethod
    def load(cls, path: Path) -> ConnectionProfile:
        """Raises ProfileError, naming the field, when the file is missing, unreadable or wrong."""
        try:
            document = read_document(path)
        except FileNotFoundError:
            raise ProfileError(
                f"no connection profile at {path}: start a network with "
                "`fedledger network up` or write one (docs/connection-profile.md)"
            ) from None
        except ValueError as error:
            raise ProfileError(str(error)) from None
        return cls.from_dict(document, base=path.parent, path=path)

    @classmethod
    def from_dict(cls, document: Any, base: Path, path: Path | None = None) -> ConnectionProfile:
        """A profile from its parsed document; raises ProfileError naming the wrong field."""
        try:
            file = validate(_File, document, base, "the profile")
        except ValueError as error:
            raise ProfileError(str(error)) from None
        return cls(
            name=file.name,
            ledger=file.ledger,
            channel=file.channel,
            chaincode=file.chaincode,
            organizations={msp_id: _org_profile(org) for msp_id, org in file.organizations.items()},
            path=path,
            orderers=tuple(
                OrdererEndpoint(o.endpoint, o.server_name, o.tls_ca_cert, o.msp_id or "")
                for o in file.orderers
            ),
            endorsement_policy=file.endorsement_policy,
        )

    def to_dict(self, folder: Path) -> dict[str, Any]:
        """The profile as a document for a file in `folder` (paths below it relative)."""

        def org_dict(org: OrgProfile) -> dict[str, Any]:
            entry: dict[str, Any] = {
                "mspId": org.msp_id,
                "gateway": {
                    "endpoint": org.gateway.endpoint,
                    "serverName": org.gateway.server_name,
                    "tlsCaCert": org.gateway.tls_ca_cert,
                },
                "identities": dict(org.identities),
            }
            if org.tls_client is not None:
                entry["tlsClient"] = {"cert": org.tls_client.cert, "key": org.tls_client.key}
            if org.protocol != "gateway":
                entry["protocol"] = org.protocol
            if org.peers:
                entry["peers"] = [_node_dict(p, with_msp=False) for p in org.peers]
            return entry

        document: dict[str, Any] = {
            "name": self.name,
            "ledger": self.ledger,
            "channel": self.channel,
            "chaincode": self.chaincode,
            "organizations": {m: org_dict(o) for m, o in self.organizations.items()},
        }
        if self.orderers:
            document["orderers"] = [_node_dict(o, with_msp=bool(o.msp_id)) for o in self.orderers]
        if self.endorsement_policy != "MAJORITY":
            document["endorsementPolicy"] = self.endorsement_policy
        return with_written_paths(document, folder)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.to_dict(path.parent), sort_keys=False))


def _node_dict(node: NodeEndpoint, with_msp: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "endpoint": node.endpoint,
        "serverName": node.server_name,
        "tlsCaCert": node.tls_ca_cert,
    }
    if with_msp:
        entry["mspId"] = node.msp_id
    return entry


def _org_profile(org: _Org) -> OrgProfile:
    return OrgProfile(
        msp_id=org.msp_id,
        gateway=GatewayEndpoint(
            org.gateway.endpoint, org.gateway.server_name, org.gateway.tls_ca_cert
        ),
        identities=dict(org.identities),
        tls_client=TlsClient(org.tls_client.cert, org.tls_client.key) if org.tls_client else None,
        protocol=org.protocol,
        peers=tuple(
            NodeEndpoint(p.endpoint, p.server_name, p.tls_ca_cert, org.msp_id) for p in org.peers
        ),
    )


# The file, as written (docs/connection-profile.md#fields).


class _Gateway(Section):
    endpoint: Address
    server_name: Text
    tls_ca_cert: File


class _TlsClient(Section):
    cert: File
    key: File


class _Peer(Section):
    endpoint: Address
    server_name: Text
    tls_ca_cert: File


class _Orderer(Section):
    endpoint: Address
    server_name: Text
    tls_ca_cert: File
    msp_id: Text | None = None


def _one_of(choices: tuple[str, ...]) -> AfterValidator:
    allowed = " or ".join(choices) if len(choices) == 2 else "one of " + ", ".join(choices)

    def check(value: str) -> str:
        if value not in choices:
            raise wrong(f"must be {allowed}, got {{got}}", got=value)
        return value

    return AfterValidator(check)


def _list_of(what: str) -> BeforeValidator:
    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise wrong(f"must be a list of {what}, got {{got}}", got=value)
        return value

    return BeforeValidator(check)


class _Org(Section):
    msp_id: Text
    gateway: _Gateway
    identities: Annotated[dict[Key, AnyPath], mapping_of("identity names to MSP folders")]
    tls_client: _TlsClient | None = None
    protocol: Annotated[Text, _one_of(PROTOCOLS)] = "gateway"
    peers: Annotated[tuple[_Peer, ...], _list_of("peers (endpoint, serverName, tlsCaCert)")] = ()


def _msp_id_is_its_key(msp_id: str, org: _Org) -> None:
    if org.msp_id != msp_id:
        raise wrong(
            "must be the MSP ID it is listed under, {msp_id}, got {got}",
            field=f"{msp_id}.mspId",
            msp_id=msp_id,
            got=org.msp_id,
        )


class _File(Section):
    name: Text
    ledger: Text
    channel: Text
    chaincode: Text
    organizations: Annotated[
        dict[Key, _Org],
        mapping_of("MSP IDs to organisations (mspId, gateway, identities)"),
        not_empty("is empty: list at least one organisation"),
        check_each(_msp_id_is_its_key),
    ]
    orderers: Annotated[
        tuple[_Orderer, ...], _list_of("orderers (endpoint, serverName, tlsCaCert, mspId)")
    ] = ()
    endorsement_policy: Annotated[Text, _one_of(ENDORSEMENT_POLICIES)] = "MAJORITY"

    @model_validator(mode="after")
    def _peer_protocol_has_orderers(self) -> _File:
        for msp_id, org in self.organizations.items():
            if org.protocol == "peer" and not self.orderers:
                raise wrong(
                    "is peer, which submits through an orderer: list at least one under "
                    "orderers (docs/connection-profile.md#the-older-peer-protocol)",
                    field=f"organizations.{msp_id}.protocol",
                )
        return self
