"""The query system chaincode (qscc), answered from the store as a peer answers it.

Clients use it to read the chain height before they open an event stream
(`GetChainInfo`) and to fetch blocks and transactions. Arguments and replies follow Fabric's
qscc: the channel name first, replies are serialized `common.BlockchainInfo`, `common.Block`
or `peer.ProcessedTransaction`, failures are status 500 with Fabric's wording.
"""

from __future__ import annotations

from collections.abc import Sequence

from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.peer import transaction_pb2
from fabric_protos.peer.proposal_response_pb2 import Response

from fedledger.embedded.store import Store

NAME = "qscc"


def _ok(payload: bytes) -> Response:
    return Response(status=200, payload=payload)


def _error(message: str) -> Response:
    return Response(status=500, message=message)


def invoke(store: Store, channel: str, args: Sequence[bytes]) -> Response:
    if not args:
        return _error("Incorrect number of arguments, 0")
    function = args[0].decode(errors="replace")
    values = [a.decode(errors="replace") for a in args[1:]]
    if not values or values[0] != channel:
        return _error(f"Invalid chain ID, {values[0] if values else ''}")
    if function == "GetChainInfo":
        return _chain_info(store)
    if len(values) < 2:
        return _error(f"missing 3rd argument for {function}")
    if function == "GetBlockByNumber":
        return _block_by_number(store, values[1])
    if function == "GetBlockByTxID":
        return _block_by_txid(store, values[1])
    if function == "GetTransactionByID":
        return _transaction(store, values[1])
    return _error(f"Requested function {function} not found.")


def _block_by_number(store: Store, text: str) -> Response:
    try:
        number = int(text)
    except ValueError:
        return _error(f"Failed to parse block number with error {text!r}")
    block = store.block(number)
    if block is None:
        return _error(f"Failed to get block number {number}, error Entry not found in index")
    return _ok(block)


def _block_by_txid(store: Store, txid: str) -> Response:
    found = store.tx_status(txid)
    block = store.block(found[1]) if found else None
    if block is None:
        return _error(f"Failed to get block for txID {txid}, error Entry not found in index")
    return _ok(block)


def _chain_info(store: Store) -> Response:
    last = store.last_block()
    info = ledger_pb2.BlockchainInfo(height=store.height())
    if last is not None:
        info.currentBlockHash = last.header_hash
        info.previousBlockHash = last.previous_hash
    return _ok(info.SerializeToString())


def _transaction(store: Store, txid: str) -> Response:
    location = store.tx_location(txid)
    if location is None:
        return _error(
            f"Failed to get transaction with id {txid}, error no such transaction ID [{txid}] "
            "in index"
        )
    number, position, code = location
    raw = store.block(number)
    assert raw is not None, "the transaction index names only stored blocks"
    block = common_pb2.Block.FromString(raw)
    processed = transaction_pb2.ProcessedTransaction(
        transactionEnvelope=common_pb2.Envelope.FromString(block.data.data[position]),
        validationCode=code,
    )
    return _ok(processed.SerializeToString())
