"""The connection profile: how everything above the ledger finds it (docs/connection-profile.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fedledger.orgs.layout import OrgLayout
from fedledger.paths import read_path, with_written_paths


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
class OrgProfile:
    msp_id: str
    gateway: GatewayEndpoint
    identities: dict[str, Path]
    tls_client: TlsClient | None = None

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

    def org(self, msp_id: str) -> OrgProfile:
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
        try:
            document = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ProfileError(
                f"no connection profile at {path}: start a network with "
                "`fedledger network up` or write one (docs/connection-profile.md)"
            ) from None
        return cls.from_dict(document, base=path.parent, path=path)

    @classmethod
    def from_dict(cls, document: Any, base: Path, path: Path | None = None) -> ConnectionProfile:
        reader = _Reader(document, "profile", base)
        organizations = {}
        for msp_id, org in reader.mapping("organizations").items():
            org_reader = _Reader(org, f"organizations.{msp_id}", base)
            gateway = org_reader.child("gateway")
            tls_client = None
            if org_reader.has("tlsClient"):
                client = org_reader.child("tlsClient")
                tls_client = TlsClient(client.path("cert"), client.path("key"))
            identities = org_reader.child("identities")
            organizations[msp_id] = OrgProfile(
                msp_id=org_reader.text("mspId"),
                gateway=GatewayEndpoint(
                    endpoint=gateway.text("endpoint"),
                    server_name=gateway.text("serverName"),
                    tls_ca_cert=gateway.path("tlsCaCert"),
                ),
                identities={name: identities.path(name) for name in identities.names()},
                tls_client=tls_client,
            )
        if not organizations:
            raise ProfileError("profile.organizations is empty: list at least one organisation")
        return cls(
            name=reader.text("name"),
            ledger=reader.text("ledger"),
            channel=reader.text("channel"),
            chaincode=reader.text("chaincode"),
            organizations=organizations,
            path=path,
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
            return entry

        return with_written_paths(
            {
                "name": self.name,
                "ledger": self.ledger,
                "channel": self.channel,
                "chaincode": self.chaincode,
                "organizations": {m: org_dict(o) for m, o in self.organizations.items()},
            },
            folder,
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.to_dict(path.parent), sort_keys=False))


class _Reader:
    """Field access that names the full path of a missing or mistyped field."""

    def __init__(self, document: Any, where: str, base: Path) -> None:
        if not isinstance(document, dict):
            raise ProfileError(f"{where} must be a mapping")
        self.document: dict[str, Any] = document
        self.where = where
        self.base = base

    def has(self, key: str) -> bool:
        return key in self.document

    def names(self) -> list[str]:
        return list(self.document)

    def _get(self, key: str) -> Any:
        if key not in self.document:
            raise ProfileError(f"{self.where}.{key} is missing")
        return self.document[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value:
            raise ProfileError(f"{self.where}.{key} must be a non-empty string")
        return value

    def path(self, key: str) -> Path:
        return read_path(self.text(key), self.base)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self._get(key)
        if not isinstance(value, dict):
            raise ProfileError(f"{self.where}.{key} must be a mapping")
        return value

    def child(self, key: str) -> _Reader:
        return _Reader(self.mapping(key), f"{self.where}.{key}", self.base)
