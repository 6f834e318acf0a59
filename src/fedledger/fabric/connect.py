"""A Gateway for one organisation of a connection profile (docs/connection-profile.md).

The organisation's `protocol` says how its client reaches the ledger: `gateway` (one peer's
Gateway service, Fabric 2.4 and later) or `peer` (Fabric's older Endorser, Broadcast and Deliver
services, which Fabric 2.2 peers offer alone). Both give the same `Gateway` API.
"""

from __future__ import annotations

from pathlib import Path

from fedledger.fabric.client import Timeouts
from fedledger.fabric.gateway import Gateway, TlsConfig
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.nodes import Connections, Node
from fedledger.fabric.peer_client import PeerClient
from fedledger.fabric.planner import Planner
from fedledger.profile import ConnectionProfile, NodeEndpoint, OrgProfile, ProfileError


def connect(
    profile: ConnectionProfile,
    msp_id: str,
    identity: str = "user",
    timeouts: Timeouts | None = None,
    *,
    protocol: str | None = None,
) -> Gateway:
    """Connect as `identity` (a name under the organisation's `identities`) over the
    organisation's protocol, or `protocol` when given ("gateway" or "peer").

    Raises ProfileError for an unknown organisation or identity, MspFolderError for an unusable
    MSP folder, OSError for an unreadable TLS file and ValueError for an unknown protocol.
    """
    org = profile.org(msp_id)
    signer = SigningIdentity.from_msp_folder(org.identity(identity), org.msp_id)
    chosen = protocol or org.protocol
    if chosen == "peer":
        return Gateway.over(peer_client(profile, org, signer, timeouts), signer)
    if chosen != "gateway":
        raise ValueError(f"unknown protocol {chosen!r}: use gateway or peer")
    return Gateway.connect(org.gateway.endpoint, signer, tls_of(org), timeouts)


def tls_of(org: OrgProfile) -> TlsConfig:
    """TLS to the organisation's gateway peer: verified against its TLS CA under the profile's
    `serverName`; the profile's `tlsClient`, when present, presented for mutual TLS."""
    return _tls(org.gateway.tls_ca_cert, org.gateway.server_name, org)


def _tls(ca: Path, server_name: str, client: OrgProfile) -> TlsConfig:
    return TlsConfig.from_files(
        ca,
        server_name=server_name,
        client_certificate=client.tls_client.cert if client.tls_client else None,
        client_key=client.tls_client.key if client.tls_client else None,
    )


def peer_client(
    profile: ConnectionProfile,
    org: OrgProfile,
    signer: SigningIdentity,
    timeouts: Timeouts | None = None,
    *,
    use_discovery: bool = True,
) -> PeerClient:
    """The older protocol's client for `org`: the profile's peers of every organisation, its
    orderers, the organisation's TLS client certificate presented to each. Raises OSError for
    an unreadable TLS file, ProfileError for a profile without orderers and ValueError for an
    organisation without peers."""
    if not profile.orderers:
        raise ProfileError(
            "the profile lists no orderers: the peer protocol submits through one; add them "
            "under orderers (docs/connection-profile.md#the-older-peer-protocol)"
        )

    def node(entry: NodeEndpoint, msp_id: str) -> Node:
        return Node(entry.endpoint, msp_id, _tls(entry.tls_ca_cert, entry.server_name, org))

    peers = {
        msp: [node(p, msp) for p in other.endorsing_peers]
        for msp, other in profile.organizations.items()
    }

    def node_for(endpoint: str, msp_id: str) -> Node | None:
        known = [n for n in peers.get(msp_id, []) if n.endpoint == endpoint]
        if known:
            return known[0]
        if msp_id not in profile.organizations:
            return None  # no TLS CA to check that peer against
        gateway = profile.organizations[msp_id].gateway
        host = endpoint.rsplit(":", 1)[0]
        return Node(endpoint, msp_id, _tls(gateway.tls_ca_cert, host, org))

    timeouts = timeouts or Timeouts()
    connections = Connections()
    planner = Planner(
        signer,
        org.msp_id,
        peers,
        profile.endorsement_policy,
        connections,
        node_for,
        timeout=timeouts.endorse,
        use_discovery=use_discovery,
    )
    orderers = [node(o, o.msp_id) for o in profile.orderers]
    return PeerClient(signer, peers[org.msp_id], planner, orderers, timeouts, connections)
