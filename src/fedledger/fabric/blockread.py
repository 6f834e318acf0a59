"""Reading committed blocks: each transaction's id, validation code and chaincode event.

A block's envelopes are in `data.data`; the committing peer's verdict on each is one byte per
transaction in the `TRANSACTIONS_FILTER` metadata slot (a `TxValidationCode`). The chaincode
event of an endorser transaction sits in its (only) chaincode action. Deliver serves whole
blocks, which the client reads here for chaincode events (a filtered block drops the event
payload), and filtered blocks, which the embedded ledger builds here from whole ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fabric_protos.common import common_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    events_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf.message import DecodeError


@dataclass(frozen=True)
class BlockTransaction:
    """One envelope of a block as the committing peer judged it."""

    transaction_id: str
    header_type: int
    validation_code: int
    event: chaincode_event_pb2.ChaincodeEvent | None

    @property
    def valid(self) -> bool:
        return bool(self.validation_code == transaction_pb2.TxValidationCode.VALID)


def transactions(block: common_pb2.Block) -> Iterator[BlockTransaction]:
    """The block's transactions in order. An envelope that cannot be parsed (which a committing
    peer marks invalid) gives an empty id and no event rather than stopping the reader."""
    codes = _validation_codes(block)
    for index, raw in enumerate(block.data.data):
        code = codes[index] if index < len(codes) else transaction_pb2.TxValidationCode.VALID
        try:
            header, event = _read(common_pb2.Envelope.FromString(raw))
        except DecodeError:
            yield BlockTransaction("", common_pb2.HeaderType.MESSAGE, code, None)
            continue
        yield BlockTransaction(str(header.tx_id), int(header.type), code, event)


def _validation_codes(block: common_pb2.Block) -> bytes:
    slots = block.metadata.metadata
    if len(slots) > common_pb2.BlockMetadataIndex.TRANSACTIONS_FILTER:
        return bytes(slots[common_pb2.BlockMetadataIndex.TRANSACTIONS_FILTER])
    return b""


def _read(
    envelope: common_pb2.Envelope,
) -> tuple[common_pb2.ChannelHeader, chaincode_event_pb2.ChaincodeEvent | None]:
    payload = common_pb2.Payload.FromString(envelope.payload)
    header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    if header.type != common_pb2.HeaderType.ENDORSER_TRANSACTION:
        return header, None
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    if not transaction.actions:
        return header, None
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
        transaction.actions[0].payload
    )
    response = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    action = proposal_pb2.ChaincodeAction.FromString(response.extension)
    if not action.events:
        return header, None
    return header, chaincode_event_pb2.ChaincodeEvent.FromString(action.events)


def filtered_block(block: common_pb2.Block, channel: str) -> events_pb2.FilteredBlock:
    """What DeliverFiltered sends of a block: ids, types, validation codes, and each chaincode
    event without its payload (a filtered block carries no ledger data)."""
    filtered = events_pb2.FilteredBlock(channel_id=channel, number=block.header.number)
    for tx in transactions(block):
        entry = filtered.filtered_transactions.add(
            txid=tx.transaction_id, type=tx.header_type, tx_validation_code=tx.validation_code
        )
        if tx.header_type == common_pb2.HeaderType.ENDORSER_TRANSACTION:
            actions = entry.transaction_actions
            actions.SetInParent()
            if tx.event is not None:
                actions.chaincode_actions.add(
                    chaincode_event=chaincode_event_pb2.ChaincodeEvent(
                        chaincode_id=tx.event.chaincode_id,
                        tx_id=tx.event.tx_id,
                        event_name=tx.event.event_name,
                    )
                )
    return filtered
