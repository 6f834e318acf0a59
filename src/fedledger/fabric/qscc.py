"""The peer's query system chaincode (qscc): where a transaction is and what it wrote.

Fabric answers these from the gateway peer's own block store, evaluated like any chaincode query
(qscc is not routed through the contract API: its first argument is the channel name). The
replies are serialized protobufs: `common.Block` and `peer.ProcessedTransaction`. A transaction
the peer does not know is an EvaluateError whose message is the peer's ("no such transaction
ID"), as for any refused query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)

from fedledger.fabric.contract import Network
from fedledger.fabric.errors import validation_code_name

QSCC = "qscc"


@dataclass(frozen=True)
class CommittedTransaction:
    """One transaction as the peer's ledger holds it.

    `writes` maps each key the chaincode `namespace` wrote to its value (None for a delete);
    `event_name` is the chaincode event the transaction set ("" for none).
    """

    transaction_id: str
    block_number: int
    position: int
    validation_code: str
    timestamp: datetime
    event_name: str
    writes: dict[str, bytes | None]

    @property
    def valid(self) -> bool:
        return self.validation_code == "VALID"


class LedgerQueries:
    """qscc calls on one channel through the gateway peer. Thread-safe.

    Every call raises EvaluateError when the peer refuses (an unknown transaction id included)
    and the fabric package's other errors when the peer cannot be reached.
    """

    def __init__(self, network: Network) -> None:
        self._network = network
        self._qscc = network.contract(QSCC)

    def height(self) -> int:
        """The number of blocks on the channel."""
        return self._network.block_height()

    def block_by_number(self, number: int) -> common_pb2.Block:
        reply = self._qscc.evaluate("GetBlockByNumber", [self._network.name, str(number)])
        return common_pb2.Block.FromString(reply)

    def block_by_transaction(self, transaction_id: str) -> common_pb2.Block:
        reply = self._qscc.evaluate("GetBlockByTxID", [self._network.name, transaction_id])
        return common_pb2.Block.FromString(reply)

    def processed_transaction(self, transaction_id: str) -> transaction_pb2.ProcessedTransaction:
        reply = self._qscc.evaluate("GetTransactionByID", [self._network.name, transaction_id])
        return transaction_pb2.ProcessedTransaction.FromString(reply)

    def location(self, transaction_id: str) -> tuple[int, int]:
        """The number of the block holding the transaction and its position in that block."""
        block = self.block_by_transaction(transaction_id)
        return int(block.header.number), _position(block, transaction_id)

    def committed(self, transaction_id: str, namespace: str) -> CommittedTransaction:
        """Where `transaction_id` is (block, position in it), its validation code and what it
        did in chaincode `namespace`."""
        block = self.block_by_transaction(transaction_id)
        processed = self.processed_transaction(transaction_id)
        position = _position(block, transaction_id)
        header, action = _read_envelope(processed.transactionEnvelope)
        return CommittedTransaction(
            transaction_id=header.tx_id,
            block_number=int(block.header.number),
            position=position,
            validation_code=validation_code_name(processed.validationCode),
            timestamp=datetime.fromtimestamp(header.timestamp.seconds, UTC)
            + timedelta(microseconds=header.timestamp.nanos // 1000),
            event_name=_event_name(action.events),
            writes=_writes(action.results, namespace),
        )


@dataclass(frozen=True)
class BlockTransaction:
    """One endorsed transaction of a block: its id, its index among the block's envelopes and
    what it wrote in one chaincode's namespace, key to value (None for a delete), whatever its
    validation code: a reader that re-reads what these keys name loses nothing by reading once
    too often."""

    transaction_id: str
    position: int
    writes: dict[str, bytes | None]


def block_transactions(block: common_pb2.Block, namespace: str) -> list[BlockTransaction]:
    """The endorsed transactions of `block` (configuration envelopes are skipped), in order.
    Raises protobuf's DecodeError for a block that is not one."""
    found = []
    for index, raw in enumerate(block.data.data):
        envelope = common_pb2.Envelope.FromString(raw)
        header, _ = _channel_header(envelope)
        if header.type != common_pb2.ENDORSER_TRANSACTION:
            continue
        _, action = _read_envelope(envelope)
        found.append(BlockTransaction(header.tx_id, index, _writes(action.results, namespace)))
    return found


def _position(block: common_pb2.Block, transaction_id: str) -> int:
    """The transaction's index among the block's envelopes (-1 if absent, which a peer that
    answered GetBlockByTxID never gives)."""
    for index, raw in enumerate(block.data.data):
        header, _ = _channel_header(common_pb2.Envelope.FromString(raw))
        if header.tx_id == transaction_id:
            return index
    return -1


def _channel_header(
    envelope: common_pb2.Envelope,
) -> tuple[common_pb2.ChannelHeader, common_pb2.Payload]:
    payload = common_pb2.Payload.FromString(envelope.payload)
    return common_pb2.ChannelHeader.FromString(payload.header.channel_header), payload


def _read_envelope(
    envelope: common_pb2.Envelope,
) -> tuple[common_pb2.ChannelHeader, proposal_pb2.ChaincodeAction]:
    """The channel header and the (first, and in Fabric's endorser flow only) chaincode action."""
    header, payload = _channel_header(envelope)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action = proposal_pb2.ChaincodeAction()
    if transaction.actions:
        action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
            transaction.actions[0].payload
        )
        response = proposal_response_pb2.ProposalResponsePayload.FromString(
            action_payload.action.proposal_response_payload
        )
        action = proposal_pb2.ChaincodeAction.FromString(response.extension)
    return header, action


def _event_name(raw: bytes) -> str:
    return str(chaincode_event_pb2.ChaincodeEvent.FromString(raw).event_name) if raw else ""


def _writes(results: bytes, namespace: str) -> dict[str, bytes | None]:
    written: dict[str, bytes | None] = {}
    for ns in rwset_pb2.TxReadWriteSet.FromString(results).ns_rwset:
        if ns.namespace != namespace:
            continue
        for write in kv_rwset_pb2.KVRWSet.FromString(ns.rwset).writes:
            written[write.key] = None if write.is_delete else bytes(write.value)
    return written
