"""Write organisation material in the folder layout cryptogen writes.

For each organisation: a signing CA and a TLS CA, the organisation's verifying MSP with NodeOUs
enabled, node identities (peers or orderers) with TLS server certificates for their host name,
localhost and 127.0.0.1, and an Admin and a User identity with TLS client certificates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from fedledger.orgs.ca import CertificateAuthority, IssuedCertificate
from fedledger.orgs.layout import NodeLayout, OrdererOrgLayout, OrgLayout, _OrgLayoutBase

LOCAL_HOSTS = ["localhost", "127.0.0.1"]


@dataclass(frozen=True)
class MemberOrg:
    name: str
    msp_id: str
    domain: str
    peers: int = 1


@dataclass(frozen=True)
class OrdererOrg:
    name: str
    msp_id: str
    domain: str
    orderers: int = 1


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if secret:
        path.chmod(0o600)


def node_ous_config(ca_file: str) -> bytes:
    """An MSP folder's config.yaml enabling NodeOUs, every role identified under the CA
    `cacerts/<ca_file>` (as cryptogen and Fabric CA clients write it)."""

    def identifier(unit: str) -> dict[str, str]:
        return {"Certificate": f"cacerts/{ca_file}", "OrganizationalUnitIdentifier": unit}

    config = {
        "NodeOUs": {
            "Enable": True,
            "ClientOUIdentifier": identifier("client"),
            "PeerOUIdentifier": identifier("peer"),
            "AdminOUIdentifier": identifier("admin"),
            "OrdererOUIdentifier": identifier("orderer"),
        }
    }
    return yaml.safe_dump(config, sort_keys=False).encode()


def _write_verifying_msp(
    msp: Path, org: _OrgLayoutBase, ca: CertificateAuthority, tlsca: CertificateAuthority
) -> None:
    """cacerts/, tlscacerts/, config.yaml: what verifies members (and what the channel holds)."""
    ca_file = org.ca_cert.name
    _write(msp / "cacerts" / ca_file, ca.issued.cert_pem)
    _write(msp / "tlscacerts" / org.tlsca_cert.name, tlsca.issued.cert_pem)
    _write(msp / "config.yaml", node_ous_config(ca_file))
    # With NodeOUs, admins are recognised by their OU; cryptogen still creates the folder.
    (msp / "admincerts").mkdir(parents=True, exist_ok=True)


def _write_identity(
    node: NodeLayout,
    org: _OrgLayoutBase,
    ca: CertificateAuthority,
    tlsca: CertificateAuthority,
    *,
    unit: str,
    tls_role: str,
    now: dt.datetime,
    hosts: Sequence[str] = (),
) -> None:
    _write_verifying_msp(node.msp, org, ca, tlsca)
    signing = ca.issue_signing(node.name, unit, now)
    _write(node.signcert, signing.cert_pem)
    _write(node.private_key, signing.key_pem, secret=True)
    host = node.name.split("@")[-1] if "@" in node.name else node.name
    tls = tlsca.issue_tls(node.name, [host.split(".")[0], *hosts, *LOCAL_HOSTS], now)
    _write_tls(node, tls_role, tls, tlsca)


def _write_tls(
    node: NodeLayout, role: str, tls: IssuedCertificate, tlsca: CertificateAuthority
) -> None:
    _write(node.tls_ca, tlsca.issued.cert_pem)
    _write(node.tls_cert(role), tls.cert_pem)
    _write(node.tls_key(role), tls.key_pem, secret=True)


def _create_cas(org: _OrgLayoutBase, now: dt.datetime) -> tuple[CertificateAuthority, ...]:
    ca = CertificateAuthority.create(f"ca.{org.domain}", org.domain, now)
    tlsca = CertificateAuthority.create(f"tlsca.{org.domain}", org.domain, now)
    _write(org.ca_cert, ca.issued.cert_pem)
    _write(org.ca_key, ca.issued.key_pem, secret=True)
    _write(org.tlsca_cert, tlsca.issued.cert_pem)
    _write(org.tlsca_key, tlsca.issued.key_pem, secret=True)
    _write_verifying_msp(org.msp, org, ca, tlsca)
    return ca, tlsca


def _write_users(
    org: _OrgLayoutBase,
    ca: CertificateAuthority,
    tlsca: CertificateAuthority,
    users: Iterable[str],
    now: dt.datetime,
) -> None:
    _write_identity(org.admin, org, ca, tlsca, unit="admin", tls_role="client", now=now)
    for user in users:
        _write_identity(org.user(user), org, ca, tlsca, unit="client", tls_role="client", now=now)


def generate_member_org(crypto_root: Path, org: MemberOrg, now: dt.datetime) -> OrgLayout:
    return write_member_org(OrgLayout.under(crypto_root, org.domain), org.peers, now)


def write_member_org(
    layout: OrgLayout, peers: int, now: dt.datetime, hosts: Sequence[str] = ()
) -> OrgLayout:
    """One member organisation's material at `layout.root`: its CAs, `peers` peers whose TLS
    certificates also name `hosts` (host names or IP addresses), Admin and User1."""
    ca, tlsca = _create_cas(layout, now)
    for index in range(peers):
        _write_identity(
            layout.peer(index),
            layout,
            ca,
            tlsca,
            unit="peer",
            tls_role="server",
            now=now,
            hosts=hosts,
        )
    _write_users(layout, ca, tlsca, ["User1"], now)
    return layout


def generate_orderer_org(crypto_root: Path, org: OrdererOrg, now: dt.datetime) -> OrdererOrgLayout:
    layout = OrdererOrgLayout.under(crypto_root, org.domain)
    return write_orderer_org(layout, now, orderers=org.orderers)


def write_orderer_org(
    layout: OrdererOrgLayout, now: dt.datetime, hosts: Sequence[str] = (), orderers: int = 1
) -> OrdererOrgLayout:
    """One ordering organisation's material at `layout.root`: its CAs, `orderers` orderers whose
    TLS certificates also name `hosts`, and Admin."""
    ca, tlsca = _create_cas(layout, now)
    for index in range(orderers):
        _write_identity(
            layout.orderer(index), layout, ca, tlsca, unit="orderer", tls_role="server", now=now,
            hosts=hosts,
        )  # fmt: skip
    _write_users(layout, ca, tlsca, [], now)
    return layout


def generate_material(
    crypto_root: Path,
    members: Iterable[MemberOrg],
    orderer: OrdererOrg,
    now: dt.datetime | None = None,
) -> list[str]:
    """Create whatever organisation is missing under `crypto_root`; return the domains created.

    Existing organisations are left untouched: their CAs are already in the channel's
    configuration and every identity the ledger has seen would stop verifying.
    """
    now = now or dt.datetime.now(dt.UTC)
    created = []
    if not OrdererOrgLayout.under(crypto_root, orderer.domain).ca_cert.exists():
        generate_orderer_org(crypto_root, orderer, now)
        created.append(orderer.domain)
    for member in members:
        if not OrgLayout.under(crypto_root, member.domain).ca_cert.exists():
            generate_member_org(crypto_root, member, now)
            created.append(member.domain)
    return created
