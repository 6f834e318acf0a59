"""Asking a peer's discovery service which peers can endorse a chaincode.

`discovery.Discovery/Discover` takes a signed request (the client's identity, the hash of its TLS
client certificate if it has one) with one chaincode query per channel, and answers with an
endorsement descriptor: the peers grouped (`endorsers_by_groups`) and the layouts that satisfy
the chaincode's endorsement policy (`quantities_by_group`: how many peers of each group). Each
peer comes as its gossip membership message (which holds its endpoint) and its identity (which
holds its MSP ID). A peer the client has no TLS trust for (an organisation the profile does
not list) is left out of the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fabric_protos.discovery import protocol_pb2, protocol_pb2_grpc
from fabric_protos.gossip import message_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import proposal_response_pb2

from fedledger.fabric.endorsement import Group, Plan
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.nodes import Node

NodeFor = Callable[[str, str], Node | None]


class DiscoveryError(Exception):
    """The discovery service answered with an error instead of a descriptor."""


def request(
    signer: SigningIdentity, channel: str, chaincode: str, tls_cert_hash: bytes = b""
) -> protocol_pb2.SignedRequest:
    """A signed endorsement-descriptor query for one chaincode. Raises nothing."""
    payload = protocol_pb2.Request(
        authentication=protocol_pb2.AuthInfo(
            client_identity=signer.creator, client_tls_cert_hash=tls_cert_hash
        ),
        queries=[
            protocol_pb2.Query(
                channel=channel,
                cc_query=protocol_pb2.ChaincodeQuery(
                    interests=[
                        proposal_response_pb2.ChaincodeInterest(
                            chaincodes=[proposal_response_pb2.ChaincodeCall(name=chaincode)]
                        )
                    ]
                ),
            )
        ],
    ).SerializeToString()
    return protocol_pb2.SignedRequest(payload=payload, signature=signer.sign(payload))


def discover(stub: Any, signed: protocol_pb2.SignedRequest, timeout: float) -> Any:
    """The endorsement descriptor; raises DiscoveryError for an error answer and grpc.RpcError
    when the call fails (UNIMPLEMENTED where the peer has no discovery service)."""
    response = stub.Discover(signed, timeout=timeout)
    if not response.results:
        raise DiscoveryError("the discovery service returned no result")
    result = response.results[0]
    if result.WhichOneof("result") == "error":
        raise DiscoveryError(result.error.content)
    if not result.cc_query_res.content:
        raise DiscoveryError("the discovery service returned no endorsement descriptor")
    return result.cc_query_res.content[0]


def stub_for(channel: Any) -> Any:
    return protocol_pb2_grpc.DiscoveryStub(channel)


def layouts(descriptor: Any, node_for: NodeFor) -> list[Plan]:
    """One plan per layout of the descriptor, each group's peers those the client can reach."""
    groups = {
        name: tuple(n for n in (_node(p, node_for) for p in peers.peers) if n is not None)
        for name, peers in descriptor.endorsers_by_groups.items()
    }
    return [
        Plan(
            tuple(
                Group(name, groups.get(name, ()), int(quantity))
                for name, quantity in sorted(layout.quantities_by_group.items())
            ),
            "the peer's discovery service",
        )
        for layout in descriptor.layouts
    ]


def _node(peer: Any, node_for: NodeFor) -> Node | None:
    envelope = peer.membership_info
    endpoint = message_pb2.GossipMessage.FromString(envelope.payload).alive_msg.membership.endpoint
    msp_id = identities_pb2.SerializedIdentity.FromString(peer.identity).mspid
    return node_for(str(endpoint), str(msp_id))
