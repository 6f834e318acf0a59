"""Joining an organisation's peers to a channel with its genesis block, as `peer channel join`
does: a proposal to the peer's configuration system chaincode (cscc `JoinChain`, no channel),
signed by the organisation's admin, sent to the peer's Endorser service.

A peer already on the channel is left alone: its channels are asked first (cscc `GetChannels`).
"""

from __future__ import annotations

from typing import Any

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.peer import peer_pb2_grpc, proposal_pb2, query_pb2
from google.protobuf import timestamp_pb2

from fedledger.channelconfig.errors import ChannelConfigError
from fedledger.fabric.gateway import TlsConfig, open_channel
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.proposal import ProposalSpec, TransactionContext, build_proposal
from fedledger.profile import NodeEndpoint, OrgProfile

CSCC = "cscc"


def _call(
    peer: NodeEndpoint, tls: TlsConfig, admin: SigningIdentity, spec: ProposalSpec, timeout: float
) -> bytes:
    timestamp = timestamp_pb2.Timestamp()
    timestamp.GetCurrentTime()
    proposed = build_proposal(spec, TransactionContext.new(admin.creator), timestamp)
    proposal_bytes = proposed.proposal.proposal_bytes
    signed = proposal_pb2.SignedProposal(
        proposal_bytes=proposal_bytes, signature=admin.sign(proposal_bytes)
    )
    connection = open_channel(peer.endpoint, tls)
    try:
        stub: Any = peer_pb2_grpc.EndorserStub(connection)
        answer = stub.ProcessProposal(signed, timeout=timeout)
    except grpc.RpcError as error:
        raise ChannelConfigError(
            f"peer {peer.endpoint} refused {spec.function}: {error.code().name}: {error.details()}"
        ) from None
    finally:
        connection.close()
    if answer.response.status != common_pb2.SUCCESS:
        raise ChannelConfigError(
            f"peer {peer.endpoint} refused {spec.function}: {answer.response.status} "
            f"{answer.response.message}"
        )
    return bytes(answer.response.payload)


def join_peers(
    org: OrgProfile, admin: SigningIdentity, block: common_pb2.Block, timeout: float = 30.0
) -> list[str]:
    """Join each of `org`'s peers (its profile's) to the channel of genesis `block`; the
    endpoints of those that joined now. Raises ChannelConfigError with the peer's answer when one
    refuses or cannot be reached."""
    envelope = common_pb2.Envelope.FromString(block.data.data[0])
    payload = common_pb2.Payload.FromString(envelope.payload)
    channel = common_pb2.ChannelHeader.FromString(payload.header.channel_header).channel_id
    client = org.tls_client
    joined = []
    for peer in org.endorsing_peers:
        tls = TlsConfig.from_files(
            peer.tls_ca_cert,
            server_name=peer.server_name,
            client_certificate=client.cert if client else None,
            client_key=client.key if client else None,
        )
        listed = _call(peer, tls, admin, ProposalSpec("", CSCC, "GetChannels"), timeout)
        channels = query_pb2.ChannelQueryResponse.FromString(listed).channels
        if channel in [c.channel_id for c in channels]:
            continue
        join = ProposalSpec("", CSCC, "JoinChain", [block.SerializeToString()])
        _call(peer, tls, admin, join, timeout)
        joined.append(peer.endpoint)
    return joined
