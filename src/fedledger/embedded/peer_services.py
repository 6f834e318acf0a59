"""The older peer services of one organisation's peer: Endorser and Deliver.

Fabric 2.2 clients (fabric-sdk-node 2.2, the peer CLI, `fedledger.fabric` with
`protocol: peer`) endorse with `Endorser/ProcessProposal` on each peer, submit with the orderer's
Broadcast (`broadcast.py`) and learn commits and events from `Deliver`. Answers take the shapes a
Fabric 2.5 peer gives them: a proposal refused before the chaincode runs (not a member, bad
signature, duplicate id) is a gRPC error UNKNOWN with the reason; one the chaincode refuses or
cannot run is a ProposalResponse with status 500 and the reason; a refused Deliver request is a
final DeliverResponse status (BAD_REQUEST, FORBIDDEN, NOT_FOUND); a completed one ends with
SUCCESS.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import NoReturn

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import (
    events_pb2,
    events_pb2_grpc,
    peer_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
)

from fedledger.embedded.config import OrgConfig
from fedledger.embedded.endorser import (
    Endorser,
    ProposalRefusedError,
    Simulation,
    SimulationFailedError,
)
from fedledger.embedded.gateway import Ledger
from fedledger.embedded.identity import IdentityError
from fedledger.embedded.messages import MessageError, parse
from fedledger.fabric.blockread import filtered_block

FAILED = 500


def _failed(message: str) -> proposal_response_pb2.ProposalResponse:
    return proposal_response_pb2.ProposalResponse(
        response=proposal_response_pb2.Response(status=FAILED, message=message)
    )


async def _refuse(context: grpc.aio.ServicerContext[object, object], message: str) -> NoReturn:
    await context.abort(grpc.StatusCode.UNKNOWN, message)
    raise AssertionError("abort returns only by raising")  # pragma: no cover


class SharedSimulations:
    """One simulation per transaction id while it runs, shared by every peer asked to endorse
    it: one chaincode process serves all the peers, and it refuses a second concurrent run of a
    transaction id (a real network runs one per peer)."""

    def __init__(self, endorser: Endorser) -> None:
        self.endorser = endorser
        self._running: dict[str, asyncio.Future[Simulation]] = {}

    async def run(self, signed: proposal_pb2.SignedProposal) -> Simulation:
        """Raises ProposalRefusedError and SimulationFailedError as `Endorser` does."""
        proposal = self.endorser.check(signed)
        txid = proposal.txid
        running = self._running.get(txid)
        if running is None:
            running = asyncio.ensure_future(self.endorser.simulate(proposal))
            self._running[txid] = running
            running.add_done_callback(lambda _: self._running.pop(txid, None))
        return await asyncio.shield(running)


class EndorserServicer(peer_pb2_grpc.EndorserServicer):  # type: ignore[misc]
    def __init__(self, simulations: SharedSimulations, org: OrgConfig) -> None:
        self.simulations = simulations
        self.org = org

    async def ProcessProposal(  # noqa: N802 (gRPC method name)
        self,
        request: proposal_pb2.SignedProposal,
        context: grpc.aio.ServicerContext[object, object],
    ) -> proposal_response_pb2.ProposalResponse:
        try:
            simulation = await self.simulations.run(request)
        except ProposalRefusedError as error:
            # Fabric's endorser returns its pre-checks' error as a gRPC error (UNKNOWN)...
            await _refuse(context, str(error))
        except SimulationFailedError as error:
            # ...and a failure to run the chaincode as a response with status 500.
            return _failed(str(error))
        if not simulation.succeeded:
            return proposal_response_pb2.ProposalResponse(response=simulation.response)
        return proposal_response_pb2.ProposalResponse(
            version=1,
            response=simulation.response,
            payload=simulation.response_payload,
            endorsement=self.simulations.endorser.endorsement(simulation, self.org.msp_id),
        )


class DeliverRefusedError(Exception):
    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(common_pb2.Status.Name(status))


class DeliverServicer(events_pb2_grpc.DeliverServicer):  # type: ignore[misc]
    """Blocks from the store, each request handled to its end before the next is read, as
    Fabric's deliver handler does."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def Deliver(  # noqa: N802
        self,
        request_iterator: AsyncIterator[common_pb2.Envelope],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[events_pb2.DeliverResponse]:
        async for envelope in request_iterator:
            async for response in self._serve(envelope, filtered=False):
                yield response

    async def DeliverFiltered(  # noqa: N802
        self,
        request_iterator: AsyncIterator[common_pb2.Envelope],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[events_pb2.DeliverResponse]:
        async for envelope in request_iterator:
            async for response in self._serve(envelope, filtered=True):
                yield response

    async def _serve(
        self, envelope: common_pb2.Envelope, filtered: bool
    ) -> AsyncIterator[events_pb2.DeliverResponse]:
        try:
            seek = self._checked(envelope)
            first, last = self._range(seek)
        except DeliverRefusedError as refused:
            yield events_pb2.DeliverResponse(status=refused.status)
            return
        notifier, store, channel = (
            self.ledger.notifier,
            self.ledger.store,
            self.ledger.config.channel,
        )
        waits = seek.behavior == ab_pb2.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY
        for number in range(first, last + 1):
            if number >= notifier.height:
                if not waits:
                    yield events_pb2.DeliverResponse(status=common_pb2.Status.NOT_FOUND)
                    return
                await notifier.wait_for_height(number)
            block = common_pb2.Block.FromString(store.block(number) or b"")
            if filtered:
                yield events_pb2.DeliverResponse(filtered_block=filtered_block(block, channel))
            else:
                yield events_pb2.DeliverResponse(block=block)
        yield events_pb2.DeliverResponse(status=common_pb2.Status.SUCCESS)

    def _checked(self, envelope: common_pb2.Envelope) -> ab_pb2.SeekInfo:
        """The request's SeekInfo once the envelope is well formed, for this channel and signed
        by a member. Raises DeliverRefusedError with the status to answer."""
        try:
            payload = parse(common_pb2.Payload, envelope.payload, "the envelope payload")
            header = parse(
                common_pb2.ChannelHeader, payload.header.channel_header, "the channel header"
            )
            signature = parse(
                common_pb2.SignatureHeader, payload.header.signature_header, "the signature header"
            )
            seek = parse(ab_pb2.SeekInfo, payload.data, "the seek info")
        except MessageError:
            raise DeliverRefusedError(common_pb2.Status.BAD_REQUEST) from None
        if header.channel_id != self.ledger.config.channel:
            raise DeliverRefusedError(common_pb2.Status.NOT_FOUND)
        try:
            member = self.ledger.members.deserialize(signature.creator)
            member.verify(envelope.payload, envelope.signature)
        except IdentityError:
            raise DeliverRefusedError(common_pb2.Status.FORBIDDEN) from None
        return seek

    def _range(self, seek: ab_pb2.SeekInfo) -> tuple[int, int]:
        """First and last block numbers of a SeekInfo; newest is the last block committed when
        the request arrives. Raises DeliverRefusedError: NOT_FOUND for a start past the next
        block, BAD_REQUEST for a stop before the start or a position of no known kind."""
        newest = self.ledger.notifier.height - 1
        first = _position(seek.start, newest, oldest=0)
        if first > newest + 1:
            # Fabric's block iterator waits for the next block only, not for later ones.
            raise DeliverRefusedError(common_pb2.Status.NOT_FOUND)
        last = _position(seek.stop, newest, oldest=0) if seek.HasField("stop") else first
        if first > last:
            raise DeliverRefusedError(common_pb2.Status.BAD_REQUEST)
        return first, last


def _position(position: ab_pb2.SeekPosition, newest: int, oldest: int) -> int:
    kind = position.WhichOneof("Type")
    if kind == "specified":
        return int(position.specified.number)
    if kind == "newest":
        return newest
    if kind == "oldest":
        return oldest
    raise DeliverRefusedError(common_pb2.Status.BAD_REQUEST)
