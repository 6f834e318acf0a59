"""Endorsement: check a proposal as a peer does, simulate it on the chaincode, sign the result.

The proposal is simulated once and the result signed by each endorsing organisation's peer
identity. On a real network each peer simulates on its own; with one deterministic chaincode
process the results would be identical, so one simulation stands for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fabric_protos.common import common_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)

from fedledger.embedded import qscc
from fedledger.embedded.chaincode_protocol import ChaincodeError, Invocation, Outcome
from fedledger.embedded.config import CHAINCODE_VERSION, EmbeddedConfig
from fedledger.embedded.identity import MemberRegistry, Signer
from fedledger.embedded.messages import MessageError, Proposal, check_proposal
from fedledger.embedded.simulator import TxSimulator
from fedledger.embedded.store import Store

ERROR_THRESHOLD = 400  # chaincode responses from here on are failures (shim.ERRORTHRESHOLD)

Execute = Callable[[Invocation, TxSimulator], Awaitable[Outcome]]


class ProposalRefusedError(Exception):
    """A proposal a peer refuses before running the chaincode (Fabric's preProcess errors)."""


class SimulationFailedError(Exception):
    """The chaincode could not be run; the peer answers 500 without a payload."""


@dataclass(frozen=True)
class Simulation:
    proposal: Proposal
    response: proposal_response_pb2.Response
    response_payload: bytes  # serialized ProposalResponsePayload: what endorsers sign

    @property
    def succeeded(self) -> bool:
        status: int = self.response.status
        return 200 <= status < ERROR_THRESHOLD


class Endorser:
    def __init__(
        self,
        config: EmbeddedConfig,
        members: MemberRegistry,
        peers: dict[str, Signer],
        store: Store,
        execute: Execute,
    ) -> None:
        self.config = config
        self.members = members
        self.peers = peers
        self.store = store
        self.execute = execute

    def check(self, signed: proposal_pb2.SignedProposal) -> Proposal:
        """Raise ProposalRefusedError with the peer's reason, or return the checked proposal."""
        try:
            proposal = check_proposal(signed, self.members)
        except MessageError as error:
            raise ProposalRefusedError(f"error validating proposal: {error}") from None
        if proposal.channel != self.config.channel:
            raise ProposalRefusedError(f"channel '{proposal.channel}' not found")
        if self.store.tx_status(proposal.txid) is not None:
            raise ProposalRefusedError(
                f"duplicate transaction found [{proposal.txid}]. "
                f"Creator [{proposal.signature_header.creator.hex()}]"
            )
        if proposal.chaincode not in (self.config.chaincode_name, qscc.NAME):
            raise ProposalRefusedError(
                f"make sure the chaincode {proposal.chaincode} has been successfully defined on "
                f"channel {proposal.channel} and try again: chaincode definition for "
                f"'{proposal.chaincode}' not found (this ledger runs "
                f"'{self.config.chaincode_name}')"
            )
        return proposal

    async def simulate(self, proposal: Proposal) -> Simulation:
        """Execute the proposal on the chaincode against committed state; raises
        SimulationFailedError (Fabric's 'error in simulation') when the chaincode or its stream
        fails.
        """
        invocation = Invocation(proposal.txid, proposal.channel, proposal.input, proposal.signed)
        try:
            with self.store.snapshot() as snapshot:
                simulator = TxSimulator(snapshot, proposal.chaincode)
                if proposal.chaincode == qscc.NAME:
                    args = list(proposal.spec.input.args)
                    outcome = Outcome(qscc.invoke(self.store, proposal.channel, args), None)
                else:
                    outcome = await self.execute(invocation, simulator)
        except ChaincodeError as error:
            raise SimulationFailedError(f"error in simulation: {error}") from None
        results = simulator.results() if outcome.response.status < ERROR_THRESHOLD else b""
        event = b""
        if outcome.event is not None:
            event = chaincode_event_pb2.ChaincodeEvent(
                chaincode_id=proposal.chaincode,
                tx_id=proposal.txid,
                event_name=outcome.event.event_name,
                payload=outcome.event.payload,
            ).SerializeToString()
        action = proposal_pb2.ChaincodeAction(
            results=results,
            events=event,
            response=outcome.response,
            chaincode_id=chaincode_pb2.ChaincodeID(
                name=proposal.chaincode, version=CHAINCODE_VERSION
            ),
        )
        payload = proposal_response_pb2.ProposalResponsePayload(
            proposal_hash=proposal.hash, extension=action.SerializeToString()
        )
        return Simulation(proposal, outcome.response, payload.SerializeToString())

    def endorsing_orgs(self, local: str, requested: list[str]) -> list[str]:
        """The orgs named by the client, or the local org and others up to a majority of the
        channel's current members (only members' peers endorse: a removed organisation's peer
        is left out, an added organisation without a peer here cannot be chosen).

        Raises ProposalRefusedError naming any organisation not in the channel.
        """
        if requested:
            unknown = [m for m in requested if m not in self.peers]
            if unknown:
                raise ProposalRefusedError(
                    f"failed to find any endorsing peers for org(s): {', '.join(unknown)}"
                )
            return list(dict.fromkeys(requested))
        members = set(self.members.msp_ids)
        candidates = [m for m in dict.fromkeys([local, *self.peers]) if m in members]
        return candidates[: self.members.endorsement_quorum]

    def endorse(self, simulation: Simulation, orgs: list[str]) -> common_pb2.Envelope:
        """Sign the simulation result as each org's peer; assemble the unsigned transaction."""
        return prepare_transaction(simulation, [self.endorsement(simulation, m) for m in orgs])

    def endorsement(self, simulation: Simulation, msp_id: str) -> proposal_response_pb2.Endorsement:
        """Org `msp_id`'s peer's signature over the simulation result (and its identity)."""
        peer = self.peers[msp_id]
        signed = simulation.response_payload + peer.serialized
        signature = peer.sign(signed)
        self.members.signatures.remember(peer.serialized, signed, signature)
        return proposal_response_pb2.Endorsement(endorser=peer.serialized, signature=signature)


def prepare_transaction(
    simulation: Simulation, endorsements: list[proposal_response_pb2.Endorsement]
) -> common_pb2.Envelope:
    proposal = simulation.proposal
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal.payload_without_transient,
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=simulation.response_payload, endorsements=endorsements
        ),
    )
    transaction = transaction_pb2.Transaction()
    transaction.actions.add(
        header=proposal.header.signature_header, payload=action_payload.SerializeToString()
    )
    payload = common_pb2.Payload(header=proposal.header, data=transaction.SerializeToString())
    return common_pb2.Envelope(payload=payload.SerializeToString())
