"""The organisation's own connection profile, written from the channel's configuration.

Everything a client needs about the other members is in the channel's configuration, which
every member's peer holds: each organisation's anchor peers (the `AnchorPeers` value) and the
CA of their TLS certificates (the `MSP` value's TLS root certificates). So a joining
organisation never needs a profile file from anyone: it reads the configuration through its own
peer (on the embedded ledger, through the ledger's endpoint it was given), writes each other
member's TLS CA into `channel/`, and lists its own identities from its folder.

Another member's gateway is its first anchor peer, checked under the anchor's host as TLS name:
the name the certificate must carry (Fabric's anchor peers are dialled the same way by gossip).
"""

from __future__ import annotations

from pathlib import Path

from fabric_protos.common import configtx_pb2
from fabric_protos.msp import msp_config_pb2

from fedledger.channelconfig.ledger import latest_config
from fedledger.channelconfig.members import application, member_summaries
from fedledger.fabric.connect import tls_of
from fedledger.fabric.errors import FabricError
from fedledger.fabric.gateway import Gateway
from fedledger.fabric.identity import SigningIdentity
from fedledger.orgnode.errors import OrgNodeError
from fedledger.orgnode.layout import NodeFolders
from fedledger.orgnode.peer import peer_address, peer_name
from fedledger.orgnode.settings import StartSettings
from fedledger.orgs.standalone import StandaloneOrg
from fedledger.profile import (
    ConnectionProfile,
    GatewayEndpoint,
    OrdererEndpoint,
    OrgProfile,
    TlsClient,
)
from fedledger.runtime import health


def own_gateway(org: StandaloneOrg, settings: StartSettings) -> GatewayEndpoint:
    """The organisation's own way in: its peer on Fabric; on the embedded ledger, which is every
    organisation's peer in one process, the ledger's endpoint it was given as the orderer
    (that process serves the Gateway and Broadcast on every port).

    Raises StartSettingsError when no orderer is known.
    """
    if settings.ledger == "embedded":
        address, tls_ca, name = settings.require_orderer()
        return GatewayEndpoint(address, name, tls_ca)
    return GatewayEndpoint(peer_address(org), peer_name(org), org.layout.tlsca_cert)


def own_entry(org: StandaloneOrg, settings: StartSettings) -> OrgProfile:
    """Raises StartSettingsError as `own_gateway` does."""
    client = org.layout.client
    return OrgProfile(
        msp_id=org.msp_id,
        gateway=own_gateway(org, settings),
        identities={"admin": org.layout.admin.msp, "user": client.msp},
        tls_client=TlsClient(client.tls_cert("client"), client.tls_key("client")),
    )


def read_channel_config(
    org: StandaloneOrg, settings: StartSettings, timeout: float
) -> configtx_pb2.Config:
    """The channel's configuration in force, read as the organisation's client through its own
    gateway, once it lists the organisation as a member: a peer that has just joined replays
    the chain from the genesis block, and refuses the organisation's clients until it has
    reached the update that added it.

    Raises NotReadyError (naming the last refusal) when that takes over `timeout` seconds, and
    StartSettingsError when no orderer is known.
    """
    gateway = own_gateway(org, settings)
    user = SigningIdentity.from_msp_folder(org.layout.client.msp, org.msp_id)
    tls = tls_of(own_entry(org, settings))
    last: list[str] = ["no answer yet"]

    def member_config() -> configtx_pb2.Config | None:
        try:
            with Gateway.connect(gateway.endpoint, user, tls) as connection:
                config, _ = latest_config(connection.network(settings.channel))
        except FabricError as error:
            last[0] = str(error)
            return None
        if org.msp_id in application(config).groups:
            return config
        last[0] = f"the configuration at sequence {config.sequence} does not list {org.msp_id}"
        return None

    try:
        return health.wait_for(
            member_config, f"{org.msp_id} in channel {settings.channel}", timeout, 0.5
        )
    except health.NotReadyError as error:
        raise health.NotReadyError(
            f"{error} (last: {last[0]}); is the channel update adding {org.msp_id} submitted? "
            "(`fedledger channel add-org`, docs/multi-host.md)"
        ) from None


def tls_root(group: configtx_pb2.ConfigGroup, msp_id: str) -> bytes:
    """The first TLS root certificate of an organisation's MSP value; raises OrgNodeError when it
    has none."""
    msp = msp_config_pb2.MSPConfig.FromString(group.values["MSP"].value)
    roots = msp_config_pb2.FabricMSPConfig.FromString(msp.config).tls_root_certs
    if not roots:
        raise OrgNodeError(
            f"{msp_id}'s MSP in the channel configuration has no TLS root certificate"
        )
    return bytes(roots[0])


def profile_from_config(
    org: StandaloneOrg, settings: StartSettings, config: configtx_pb2.Config
) -> ConnectionProfile:
    """The organisation's profile: itself with its identities, every other member by its
    anchor peer and TLS CA (written under `channel/`), and the orderer. Members without an anchor
    peer are left out (no client could reach them). Raises OrgNodeError for a member whose MSP
    has no TLS root, StartSettingsError when no orderer is known."""
    folders = NodeFolders(org.root)
    folders.channel.mkdir(parents=True, exist_ok=True)
    organizations = {org.msp_id: own_entry(org, settings)}
    for member in member_summaries(config):
        if member.msp_id == org.msp_id or not member.anchor_peers:
            continue
        tls_ca = folders.channel / f"{member.msp_id}-tlsca.pem"
        tls_ca.write_bytes(tls_root(application(config).groups[member.msp_id], member.msp_id))
        anchor = member.anchor_peers[0]
        organizations[member.msp_id] = OrgProfile(
            member.msp_id, GatewayEndpoint(anchor, anchor.rpartition(":")[0], tls_ca), {}
        )
    address, tls_ca_file, name = settings.require_orderer()
    return ConnectionProfile(
        name=f"{org.msp_id}-view",
        ledger=settings.ledger,
        channel=settings.channel,
        chaincode=settings.chaincode,
        organizations=organizations,
        path=folders.profile,
        orderers=(OrdererEndpoint(address, name, tls_ca_file),),
    )


def write_org_profile(org: StandaloneOrg, settings: StartSettings, timeout: float) -> Path:
    """Read the channel's configuration and write the organisation's profile; its path.
    Raises what `read_channel_config` and `profile_from_config` raise."""
    profile = profile_from_config(org, settings, read_channel_config(org, settings, timeout))
    profile.write(NodeFolders(org.root).profile)
    return NodeFolders(org.root).profile
