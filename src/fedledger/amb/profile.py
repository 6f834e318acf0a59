"""fedledger's connection profile for an AMB member, from the live endpoints AMB reports.

AMB runs Fabric 2.2: its peers have no Gateway service, so every organisation is written with
`protocol: peer` and the profile lists the network's ordering service (docs/connection-profile.md,
"The older peer protocol"). Every endpoint's TLS certificate chains to Amazon's TLS chain file,
which the user downloads (docs/aws-managed-blockchain.md). An AMB member's MSP ID is its member
ID. The other members are written with their peer nodes and no identities, so that this member's
client can ask their peers to endorse; a member whose nodes AWS does not show is left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
import yaml

from fedledger.amb.errors import AmbError, AmbInputError, AmbRequestError
from fedledger.amb.waiting import AVAILABLE

if TYPE_CHECKING:
    from fedledger.amb.client import AmbClient

log = structlog.get_logger("fedledger.amb")

TLS_CHAIN_SOURCE = "s3://<region>.managedblockchain/etc/managedblockchain-tls-chain.pem"


@dataclass(frozen=True)
class ProfileRequest:
    """What `fedledger amb profile` was asked for."""

    network_id: str
    member_id: str
    out: Path
    tls_chain: Path
    channel: str = "fedledger"
    chaincode: str = "fedledger"
    orderer_msp_id: str = "OrdererMSP"


@dataclass(frozen=True)
class WrittenProfile:
    """The profile written, and what its next steps need: the member's CA and first admin."""

    path: Path
    ca_endpoint: str
    admin_username: str
    identities: dict[str, Path]
    skipped_nodes: list[str] = field(default_factory=list)


def write_profile(client: AmbClient, request: ProfileRequest) -> WrittenProfile:
    """Read the network, the member and the peer nodes from AMB and write the profile.
    Raises AmbInputError (no TLS chain file), AmbError (the network or member not AVAILABLE,
    no AVAILABLE peer node), or an AmbRequestError of the calls."""
    if not request.tls_chain.is_file():
        raise AmbInputError(
            f"--tls-chain: no file at {request.tls_chain}: download Amazon's TLS chain with "
            f"`aws s3 cp {TLS_CHAIN_SOURCE.replace('<region>', client.region)} "
            f"{request.tls_chain}`"
        )
    network = _available(client.network(request.network_id), f"network {request.network_id}")
    member = _available(
        client.member(request.network_id, request.member_id), f"member {request.member_id}"
    )
    folder = request.out.resolve().parent
    chain = os.path.relpath(request.tls_chain.resolve(), folder)
    own, skipped = _member_entry(client, request.network_id, request.member_id, chain)
    if own is None:
        raise AmbError(
            f"member {request.member_id} has no AVAILABLE peer node: create one with "
            f"`fedledger amb node create --network-id {request.network_id} "
            f"--member-id {request.member_id}`"
        )
    identities = {name: f"{request.member_id}/{name}/msp" for name in ("admin", "user")}
    organizations = {request.member_id: {**own, "identities": identities}}
    organizations.update(_other_members(client, request, member, chain))
    document = {
        "name": str(network.get("Name", request.network_id)),
        "ledger": "fabric",
        "channel": request.channel,
        "chaincode": request.chaincode,
        "orderers": [_endpoint(_ordering_endpoint(network), chain, request.orderer_msp_id)],
        "organizations": organizations,
    }
    request.out.parent.mkdir(parents=True, exist_ok=True)
    request.out.write_text(yaml.safe_dump(document, sort_keys=False))
    log.info("amb profile written", path=str(request.out), members=list(organizations))
    fabric = member.get("FrameworkAttributes", {}).get("Fabric", {})
    return WrittenProfile(
        path=request.out,
        ca_endpoint=str(fabric.get("CaEndpoint", "")),
        admin_username=str(fabric.get("AdminUsername", "admin")),
        identities={name: folder / path for name, path in identities.items()},
        skipped_nodes=skipped,
    )


def _available(resource: dict[str, Any], what: str) -> dict[str, Any]:
    status = resource.get("Status", "")
    if status != AVAILABLE:
        raise AmbError(
            f"{what} is {status or 'of unknown status'}, not AVAILABLE: wait for it "
            "(`fedledger amb status`) before writing the profile"
        )
    return resource


def _ordering_endpoint(network: dict[str, Any]) -> str:
    endpoint = (
        network.get("FrameworkAttributes", {}).get("Fabric", {}).get("OrderingServiceEndpoint")
    )
    if not endpoint:
        raise AmbError(
            f"network {network.get('Id')} reports no ordering service endpoint: is it a "
            "Hyperledger Fabric network?"
        )
    return str(endpoint)


def _endpoint(address: str, chain: str, msp_id: str | None = None) -> dict[str, str]:
    host = address.rsplit(":", 1)[0]
    entry = {"mspId": msp_id} if msp_id else {}
    return {**entry, "endpoint": address, "serverName": host, "tlsCaCert": chain}


def _member_entry(
    client: AmbClient, network_id: str, member_id: str, chain: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """The organisation's profile entry from its AVAILABLE peer nodes (None without one), and
    the IDs of the nodes left out, with their status."""
    peers, skipped = [], []
    for node in client.nodes(network_id, member_id):
        address = node.get("FrameworkAttributes", {}).get("Fabric", {}).get("PeerEndpoint")
        if node.get("Status") == AVAILABLE and address:
            peers.append(_endpoint(str(address), chain))
        else:
            skipped.append(f"{node.get('Id')} ({node.get('Status')})")
    if skipped:
        log.warning("amb nodes left out", member=member_id, nodes=skipped)
    if not peers:
        return None, skipped
    return {"mspId": member_id, "protocol": "peer", "gateway": peers[0], "peers": peers}, skipped


def _other_members(
    client: AmbClient, request: ProfileRequest, member: dict[str, Any], chain: str
) -> dict[str, dict[str, Any]]:
    others: dict[str, dict[str, Any]] = {}
    for summary in client.members(request.network_id):
        other = str(summary.get("Id"))
        if other == member.get("Id") or summary.get("Status") != AVAILABLE:
            continue
        try:
            entry, _ = _member_entry(client, request.network_id, other, chain)
        except AmbRequestError as error:
            log.warning("amb member left out", member=other, code=error.code)
            continue
        if entry is not None:
            others[other] = {**entry, "identities": {}}
    return others
