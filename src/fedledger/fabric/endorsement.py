"""Which peers endorse, whether their answers agree, and the transaction built from them.

With the Gateway, the gateway peer does all of this; with the older protocol the client does:

- **The plan.** An endorsement policy is satisfied by some number of peers from each of some
  groups (a group: the peers of one organisation, for a profile's plan). A peer's discovery
  service computes the layouts that satisfy the chaincode's actual policy; without discovery, the
  plan follows the profile's `endorsementPolicy` over the profile's organisations: MAJORITY (the
  channel default `MAJORITY Endorsement` fedledger deploys with), ANY or ALL, the client's own
  organisation first. Organisations the caller names replace the policy's choice.
- **Agreement.** Every endorser signs the same `ProposalResponsePayload` (the read/write set,
  the event and the response), or the transaction would fail validation at commit; a mismatch
  (a peer behind the others, a nondeterministic chaincode) is refused before anything is sent.
- **The transaction.** The proposal's header, the chaincode proposal payload without its
  transient data (which must not reach the ledger), and the endorsements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from fedledger.fabric.errors import EndorseError, ErrorDetail
from fedledger.fabric.nodes import Node

# Chaincode responses from here on are failures (the shim's ERRORTHRESHOLD); 2xx and 3xx succeed,
# as the Gateway judges them.
ERROR_THRESHOLD = 400
REFUSED = "failed to endorse transaction, see attached details for more info"


@dataclass(frozen=True)
class Group:
    """`quantity` endorsements from distinct peers among `peers`."""

    name: str
    peers: tuple[Node, ...]
    quantity: int = 1


@dataclass(frozen=True)
class Plan:
    """Groups that together satisfy the endorsement policy; `source` says how it was chosen."""

    groups: tuple[Group, ...]
    source: str


class PlanError(ValueError):
    """No plan can be made: an organisation without peers in the profile, or too few of them."""


def profile_plan(
    peers: Mapping[str, Sequence[Node]],
    local: str,
    policy: str,
    requested: Sequence[str] = (),
) -> Plan:
    """One peer of each organisation the policy needs, from the profile.

    `requested` organisations replace the policy's choice. Raises PlanError naming an
    organisation the profile lists no peers for.
    """
    if requested:
        chosen = list(dict.fromkeys(requested))
        source = "the organisations asked for"
    else:
        ordered = [local, *(msp for msp in peers if msp != local)]
        count = {"ANY": 1, "ALL": len(ordered)}.get(policy, len(ordered) // 2 + 1)
        chosen = ordered[:count]
        source = f"the profile's {policy} of {len(ordered)} organisations"
    unknown = [msp for msp in chosen if not peers.get(msp)]
    if unknown:
        raise PlanError(f"failed to find any endorsing peers for org(s): {', '.join(unknown)}")
    return Plan(tuple(Group(msp, tuple(peers[msp])) for msp in chosen), source)


def choose_layout(layouts: Sequence[Plan], local: str) -> Plan:
    """The first layout with enough reachable peers in every group, preferring one that
    includes a peer of the client's own organisation (as the Gateway prefers its own peer).

    Raises PlanError when no layout can be met.
    """

    def has_local(plan: Plan) -> bool:
        return any(node.msp_id == local for group in plan.groups for node in group.peers)

    usable = [p for p in layouts if all(len(g.peers) >= g.quantity for g in p.groups)]
    if not usable:
        raise PlanError("no layout of the endorsement policy has enough peers this client knows")
    return sorted(usable, key=lambda plan: not has_local(plan))[0]


@dataclass(frozen=True)
class Endorsement:
    """One peer's answer to a proposal."""

    node: Node
    response: proposal_response_pb2.ProposalResponse

    @property
    def succeeded(self) -> bool:
        status = int(self.response.response.status)
        return 200 <= status < ERROR_THRESHOLD

    def detail(self) -> ErrorDetail:
        response = self.response.response
        message = f"chaincode response {response.status}, {response.message}"
        return ErrorDetail(self.node.endpoint, self.node.msp_id, message)


class EndorsementMismatchError(EndorseError):
    """The endorsing peers' results differ; asking again may cure it (peers commit each block
    at slightly different times, so one may not yet have the block another simulated on)."""


def check_endorsements(transaction_id: str, endorsements: Sequence[Endorsement]) -> None:
    """Raise EndorseError when a peer refused (its chaincode response, as the Gateway reports
    it), EndorsementMismatchError when the peers' results differ (naming the peers that differ
    from the first)."""
    refused = [e.detail() for e in endorsements if not e.succeeded]
    if refused:
        raise EndorseError(transaction_id, grpc.StatusCode.ABORTED, REFUSED, refused)
    first = endorsements[0]
    differing = [e for e in endorsements[1:] if e.response.payload != first.response.payload]
    if differing:
        names = ", ".join(str(e.node) for e in differing)
        raise EndorsementMismatchError(
            transaction_id,
            grpc.StatusCode.ABORTED,
            f"the endorsing peers returned different results: {names} differ from "
            f"{first.node}; their ledgers may be out of step (retry) or the chaincode is not "
            "deterministic",
            [
                ErrorDetail(e.node.endpoint, e.node.msp_id, "result differs")
                for e in (first, *differing)
            ],
        )


def assemble(
    signed: proposal_pb2.SignedProposal, endorsements: Sequence[Endorsement]
) -> common_pb2.Envelope:
    """The unsigned transaction envelope of an endorsed proposal. Raises DecodeError for a
    proposal that is not a serialized `peer.Proposal`."""
    proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal_pb2.ChaincodeProposalPayload(
            input=payload.input
        ).SerializeToString(),
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=endorsements[0].response.payload,
            endorsements=[e.response.endorsement for e in endorsements],
        ),
    )
    transaction = transaction_pb2.Transaction()
    transaction.actions.add(
        header=header.signature_header, payload=action_payload.SerializeToString()
    )
    envelope_payload = common_pb2.Payload(header=header, data=transaction.SerializeToString())
    return common_pb2.Envelope(payload=envelope_payload.SerializeToString())
