"""The Gateway service of one organisation's peer: a thin servicer over the ledger's parts.

Errors take the shapes a Fabric 2.5 Gateway gives them (internal/pkg/gateway), so clients
handle them the same way: a gRPC status code and message, with one `gateway.ErrorDetail` per
peer or orderer involved in the status details (`grpc-status-details-bin`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import NoReturn

import grpc
import structlog
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import chaincode_event_pb2
from google.protobuf import any_pb2
from google.rpc import status_pb2

from fedledger.embedded.committer import Notifier
from fedledger.embedded.config import EmbeddedConfig, OrgConfig
from fedledger.embedded.endorser import (
    Endorser,
    ProposalRefusedError,
    Simulation,
    SimulationFailedError,
)
from fedledger.embedded.identity import IdentityError, MemberRegistry
from fedledger.embedded.messages import MessageError, check_envelope, parse
from fedledger.embedded.orderer import BlockCutter
from fedledger.embedded.store import Store

log = structlog.get_logger("fedledger.embedded.gateway")
EVENT_BLOCKS_PER_READ = 100


@dataclass(frozen=True)
class Ledger:
    """The parts every organisation's Gateway shares."""

    config: EmbeddedConfig
    members: MemberRegistry
    store: Store
    endorser: Endorser
    cutter: BlockCutter
    notifier: Notifier


async def _abort(
    context: grpc.aio.ServicerContext[object, object],
    code: grpc.StatusCode,
    message: str,
    details: list[gateway_pb2.ErrorDetail] | None = None,
) -> NoReturn:
    status = status_pb2.Status(code=code.value[0], message=message)
    for detail in details or []:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    await context.abort(
        code, message, trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()),)
    )
    raise AssertionError("abort returns only by raising")  # pragma: no cover


class GatewayServicer(gateway_pb2_grpc.GatewayServicer):  # type: ignore[misc]
    def __init__(self, ledger: Ledger, org: OrgConfig) -> None:
        self.ledger = ledger
        self.org = org

    def _detail(self, message: str, org: OrgConfig | None = None) -> gateway_pb2.ErrorDetail:
        org = org or self.org
        return gateway_pb2.ErrorDetail(address=org.address, msp_id=org.msp_id, message=message)

    def _orderer_detail(self, message: str) -> gateway_pb2.ErrorDetail:
        config = self.ledger.config
        return gateway_pb2.ErrorDetail(
            address=f"orderer0.{config.orderer_domain}:embedded",
            msp_id=config.orderer_msp_id,
            message=message,
        )

    async def _simulate(
        self,
        request_proposal: object,
        context: grpc.aio.ServicerContext[object, object],
        stage: str,
    ) -> Simulation:
        endorser = self.ledger.endorser
        try:
            proposal = endorser.check(request_proposal)
        except ProposalRefusedError as error:
            # As Fabric's Gateway: Evaluate names the endorser's refusal; Endorse reports every
            # failed endorser the same way, in the details.
            if stage == "evaluate":
                code = grpc.StatusCode.FAILED_PRECONDITION
                message = f"evaluate call to endorser returned error: {error}"
            else:
                code = grpc.StatusCode.ABORTED
                message = "failed to endorse transaction, see attached details for more info"
            await _abort(context, code, message, [self._detail(str(error))])
        try:
            return await endorser.simulate(proposal)
        except SimulationFailedError as error:
            verb = "evaluate" if stage == "evaluate" else "endorse"
            await _abort(
                context,
                grpc.StatusCode.ABORTED,
                f"failed to {verb} transaction, see attached details for more info",
                [self._detail(str(error))],
            )

    async def Evaluate(  # noqa: N802 (gRPC method name)
        self,
        request: gateway_pb2.EvaluateRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> gateway_pb2.EvaluateResponse:
        simulation = await self._simulate(request.proposed_transaction, context, "evaluate")
        if not simulation.succeeded:
            response = simulation.response
            message = f"chaincode response {response.status}, {response.message}"
            await _abort(
                context,
                grpc.StatusCode.UNKNOWN,
                f"evaluate call to endorser returned error: {message}",
                [self._detail(message)],
            )
        return gateway_pb2.EvaluateResponse(result=simulation.response)

    async def Endorse(  # noqa: N802
        self,
        request: gateway_pb2.EndorseRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> gateway_pb2.EndorseResponse:
        endorser = self.ledger.endorser
        try:
            orgs = endorser.endorsing_orgs(self.org.msp_id, list(request.endorsing_organizations))
        except ProposalRefusedError as error:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(error))
        simulation = await self._simulate(request.proposed_transaction, context, "endorse")
        if not simulation.succeeded:
            response = simulation.response
            message = f"chaincode response {response.status}, {response.message}"
            await _abort(
                context,
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction, see attached details for more info",
                [self._detail(message, self.ledger.config.member(orgs[0]))],
            )
        envelope = endorser.endorse(simulation, orgs)
        return gateway_pb2.EndorseResponse(prepared_transaction=envelope)

    async def Submit(  # noqa: N802
        self,
        request: gateway_pb2.SubmitRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> gateway_pb2.SubmitResponse:
        envelope = request.prepared_transaction
        if not request.HasField("prepared_transaction"):
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "a prepared transaction is required"
            )
        if not envelope.signature:
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "prepared transaction must be signed"
            )
        ledger = self.ledger
        try:
            check_envelope(envelope, ledger.config.channel, ledger.members)
        except MessageError as error:
            status = "BAD_REQUEST" if error.code == 2 else "FORBIDDEN"
            reason = f"{status}: {error}"
            log.info("envelope refused", txid=request.transaction_id, reason=reason)
            await _abort(
                context,
                grpc.StatusCode.ABORTED,
                f"received unsuccessful response from orderer: {status}",
                [self._orderer_detail(reason)],
            )
        ledger.cutter.enqueue(envelope.SerializeToString())
        return gateway_pb2.SubmitResponse()

    def _check_signed(
        self, request_bytes: bytes, identity: bytes, signature: bytes, what: str
    ) -> str:
        """The ACL check of CommitStatus and ChaincodeEvents: a member signed the request."""
        try:
            member = self.ledger.members.deserialize(identity)
            member.verify(request_bytes, signature)
        except IdentityError as error:
            return f"access denied: {what} request: {error}"
        return ""

    async def CommitStatus(  # noqa: N802
        self,
        request: gateway_pb2.SignedCommitStatusRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> gateway_pb2.CommitStatusResponse:
        if not request.request:
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "a commit status request is required"
            )
        try:
            inner = parse(gateway_pb2.CommitStatusRequest, request.request, "the request")
        except MessageError as error:
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, f"invalid status request: {error}"
            )
        denied = self._check_signed(
            request.request, inner.identity, request.signature, "commit status"
        )
        if denied:
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED, denied)
        if inner.channel_id != self.ledger.config.channel:
            await _abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"channel '{inner.channel_id}' not found",
            )
        code, block = await self.ledger.notifier.commit_status(inner.transaction_id)
        return gateway_pb2.CommitStatusResponse(result=code, block_number=block)

    async def ChaincodeEvents(  # noqa: N802
        self,
        request: gateway_pb2.SignedChaincodeEventsRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[gateway_pb2.ChaincodeEventsResponse]:
        if not request.request:
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "a chaincode events request is required"
            )
        try:
            inner = parse(gateway_pb2.ChaincodeEventsRequest, request.request, "the request")
        except MessageError as error:
            await _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"invalid chaincode events request: {error}",
            )
        denied = self._check_signed(
            request.request, inner.identity, request.signature, "chaincode events"
        )
        if denied:
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED, denied)
        if inner.channel_id != self.ledger.config.channel:
            await _abort(
                context, grpc.StatusCode.NOT_FOUND, f"channel '{inner.channel_id}' not found"
            )
        async for response in self._events(inner, context):
            yield response

    async def _events(
        self,
        request: gateway_pb2.ChaincodeEventsRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[gateway_pb2.ChaincodeEventsResponse]:
        store, notifier = self.ledger.store, self.ledger.notifier
        after = request.after_transaction_id
        next_block = store.height()
        found = store.tx_status(after) if after else None
        position = request.start_position.WhichOneof("Type")
        if found is not None:
            next_block = found[1]
        elif position == "specified":
            next_block = request.start_position.specified.number
        elif position not in (None, "next_commit"):
            await _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"invalid start position type: {position}",
            )
        passed_after = not after or found is None
        while True:
            if next_block >= notifier.height:
                await notifier.wait_for_height(next_block)
                continue
            last = min(notifier.height, next_block + EVENT_BLOCKS_PER_READ)
            by_block: dict[int, list[chaincode_event_pb2.ChaincodeEvent]] = {}
            for row in store.events(next_block, last, request.chaincode_id):
                if not passed_after:
                    passed_after = row.txid == after
                    continue
                by_block.setdefault(row.block, []).append(
                    chaincode_event_pb2.ChaincodeEvent(
                        chaincode_id=row.chaincode,
                        tx_id=row.txid,
                        event_name=row.name,
                        payload=row.payload,
                    )
                )
            for number, events in by_block.items():
                yield gateway_pb2.ChaincodeEventsResponse(events=events, block_number=number)
            next_block = last


__all__ = ["GatewayServicer", "Ledger"]
