"""A Gateway for one organisation of a connection profile (docs/connection-profile.md)."""

from __future__ import annotations

from fedledger.fabric.client import Timeouts
from fedledger.fabric.gateway import Gateway, TlsConfig
from fedledger.fabric.identity import SigningIdentity
from fedledger.profile import ConnectionProfile, OrgProfile


def connect(
    profile: ConnectionProfile,
    msp_id: str,
    identity: str = "user",
    timeouts: Timeouts | None = None,
) -> Gateway:
    """Connect as `identity` (a name under the organisation's `identities`) to its gateway peer."""
    org = profile.org(msp_id)
    signer = SigningIdentity.from_msp_folder(org.identity(identity), org.msp_id)
    return Gateway.connect(org.gateway.endpoint, signer, tls_of(org), timeouts)


def tls_of(org: OrgProfile) -> TlsConfig:
    """TLS to the organisation's gateway peer: verified against its TLS CA under the profile's
    `serverName`; the profile's `tlsClient`, when present, presented for mutual TLS."""
    return TlsConfig.from_files(
        org.gateway.tls_ca_cert,
        server_name=org.gateway.server_name,
        client_certificate=org.tls_client.cert if org.tls_client else None,
        client_key=org.tls_client.key if org.tls_client else None,
    )
