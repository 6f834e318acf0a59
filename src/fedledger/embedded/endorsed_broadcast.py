"""Broadcast of endorsed transactions: into the same ordering queue as the Gateway's Submit.

The handler `BroadcastServicer` calls for ENDORSER_TRANSACTION envelopes, so clients of the
older protocol (fabric-sdk-node 2.2, the peer CLI, `fedledger.fabric` with `protocol: peer`)
order through the embedded ledger as through Fabric's orderer. It answers as that orderer does:
SUCCESS once the envelope is queued, BAD_REQUEST for a malformed or unsigned one, FORBIDDEN for
a creator who may not write to the channel or a signature that does not verify.
"""

from __future__ import annotations

import structlog
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import transaction_pb2

from fedledger.embedded.gateway import Ledger
from fedledger.embedded.messages import MessageError, check_envelope

log = structlog.get_logger("fedledger.embedded.broadcast")

_STATUS_OF_CODE = {
    transaction_pb2.BAD_PAYLOAD: common_pb2.Status.BAD_REQUEST,
    transaction_pb2.UNKNOWN_TX_TYPE: common_pb2.Status.BAD_REQUEST,
    transaction_pb2.TARGET_CHAIN_NOT_FOUND: common_pb2.Status.NOT_FOUND,
}


class EndorsedTransactions:
    """The Broadcast handler of ENDORSER_TRANSACTION envelopes."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def handle(
        self, envelope: common_pb2.Envelope, payload: common_pb2.Payload
    ) -> ab_pb2.BroadcastResponse:
        """Queue the envelope for ordering, or say why not (as a status: raises nothing)."""
        ledger = self.ledger
        if not envelope.signature:
            return ab_pb2.BroadcastResponse(
                status=common_pb2.Status.BAD_REQUEST, info="the envelope must be signed"
            )
        try:
            check_envelope(envelope, ledger.config.channel, ledger.members)
        except MessageError as error:
            status = _STATUS_OF_CODE.get(error.code, common_pb2.Status.FORBIDDEN)
            log.info("broadcast refused", status=common_pb2.Status.Name(status), reason=str(error))
            return ab_pb2.BroadcastResponse(status=status, info=str(error))
        ledger.cutter.enqueue(envelope.SerializeToString())
        return ab_pb2.BroadcastResponse(status=common_pb2.Status.SUCCESS)
