"""The peer's side of the chaincode protocol, spoken to a chaincode running as a service.

The embedded ledger dials the chaincode server (`protos.Chaincode/Connect`), answers its
REGISTER with REGISTERED and READY, then sends one TRANSACTION per simulation and answers the
state calls the shim makes for it until COMPLETED or ERROR. Rules this code keeps, learnt from
the shim (fabric-shim 2.5): every request gets exactly one answer, in order; no message type
the shim does not know is ever sent (it exits on one); the shim never times out waiting for
the peer, so each transaction has its own timeout here; a range query page announcing more
results is never followed by an empty one; every history entry carries a timestamp.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_pb2,
)
from fabric_protos.peer import proposal_response_pb2 as response_pb2
from fabric_protos.peer.chaincode_shim_pb2 import ChaincodeMessage as Msg
from google.protobuf import timestamp_pb2

from fedledger.embedded.simulator import RangeRecord, TxSimulator

MAX_MESSAGE_BYTES = 100 * 1024 * 1024  # gRPC's 4 MB default kills the stream on a larger value
PAGE_SIZE = 100  # results per answer to a range or history query, as a peer's maxResultLimit
TOTAL_QUERY_LIMIT = 100_000
# Fabric's message when the stream to a chaincode ends; the Gateway recognises it by suffix.
STREAM_TERMINATED = "chaincode stream terminated"

UNSUPPORTED = {
    Msg.GET_QUERY_RESULT: "rich queries need CouchDB; the embedded ledger keeps key-value state",
    Msg.GET_PRIVATE_DATA_HASH: "private data collections are not supported",
    Msg.PURGE_PRIVATE_DATA: "private data collections are not supported",
    Msg.GET_STATE_METADATA: "key-level endorsement (state metadata) is not supported",
    Msg.PUT_STATE_METADATA: "key-level endorsement (state metadata) is not supported",
    Msg.INVOKE_CHAINCODE: "chaincode-to-chaincode calls are not supported",
    Msg.GET_STATE_MULTIPLE: "batched reads are not supported",
    Msg.WRITE_BATCH_STATE: "batched writes are not supported",
}


class ChaincodeError(Exception):
    """The chaincode could not run a transaction (not connected, stream ended, timed out)."""


class _RequestError(Exception):
    """A chaincode request answered with ERROR; the message goes back to the chaincode."""


@dataclass(frozen=True)
class Invocation:
    txid: str
    channel: str
    input: bytes  # serialized ChaincodeInput
    signed_proposal: proposal_pb2.SignedProposal


@dataclass(frozen=True)
class Outcome:
    response: response_pb2.Response
    event: chaincode_event_pb2.ChaincodeEvent | None


@dataclass
class _Iterator:
    results: list[bytes]
    record: RangeRecord | None
    keys: list[tuple[str, tuple[int, int]]] = field(default_factory=list)
    position: int = 0
    metadata: bytes = b""


class _TxContext:
    def __init__(self, simulator: TxSimulator, future: asyncio.Future[Outcome]) -> None:
        self.simulator = simulator
        self.future = future
        self.iterators: dict[str, _Iterator] = {}
        self.paginated = False

    def finish(self, outcome: Outcome) -> None:
        for iterator in self.iterators.values():
            _close_record(iterator)
        if not self.future.done():
            self.future.set_result(outcome)

    def fail(self, error: Exception) -> None:
        if not self.future.done():
            self.future.set_exception(error)


class ChaincodeStream:
    """One gRPC stream to one chaincode server, shared by every transaction in flight."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._channel: grpc.aio.Channel | None = None
        self._call: grpc.aio.StreamStreamCall | None = None
        self._outbox: asyncio.Queue[Msg | None] = asyncio.Queue()
        self._contexts: dict[tuple[str, str], _TxContext] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = asyncio.Event()
        self.chaincode_id = ""

    async def open(self, timeout: float) -> None:
        """Dial until the server answers, then register it; raise ChaincodeError on failure."""
        options = [
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
        self._channel = grpc.aio.insecure_channel(self.address, options=options)
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout)
            self._call = chaincode_shim_pb2_grpc.ChaincodeStub(self._channel).Connect()
            first = await asyncio.wait_for(self._call.read(), timeout)
        except (TimeoutError, grpc.aio.AioRpcError) as error:
            await self._channel.close()
            raise ChaincodeError(
                f"no chaincode server answered at {self.address} within {timeout:.0f} s: {error}"
            ) from None
        if first is grpc.aio.EOF or first.type != Msg.REGISTER:
            await self._channel.close()
            raise ChaincodeError(f"the chaincode at {self.address} did not register first")
        registered = chaincode_pb2.ChaincodeID()
        registered.ParseFromString(first.payload)
        self.chaincode_id = registered.name
        await self._call.write(Msg(type=Msg.REGISTERED))
        await self._call.write(Msg(type=Msg.READY))
        self._tasks = [
            asyncio.create_task(self._read_loop()),
            asyncio.create_task(self._write_loop()),
        ]

    async def close(self) -> None:
        self._terminate(STREAM_TERMINATED)
        self._outbox.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        if self._channel is not None:
            await self._channel.close()

    async def execute(
        self, invocation: Invocation, simulator: TxSimulator, timeout: float
    ) -> Outcome:
        """Run one transaction, answering the chaincode's state calls from `simulator`. Raises
        ChaincodeError when the stream ends (Fabric's 'chaincode stream terminated'), the
        transaction id is already executing, or no answer comes within `timeout`.
        """
        if self.closed.is_set():
            raise ChaincodeError(STREAM_TERMINATED)
        key = (invocation.channel, invocation.txid)
        if key in self._contexts:
            raise ChaincodeError(f"transaction {invocation.txid} is already executing")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        context = _TxContext(simulator, future)
        self._contexts[key] = context
        # A timer rather than asyncio.wait_for, which wraps the future in a task of its own.
        timer = loop.call_later(
            timeout,
            context.fail,
            ChaincodeError(
                f"failed to execute transaction {invocation.txid}: timeout expired while "
                f"executing transaction ({timeout:g} s)"
            ),
        )
        self._outbox.put_nowait(
            Msg(
                type=Msg.TRANSACTION,
                payload=invocation.input,
                txid=invocation.txid,
                channel_id=invocation.channel,
                proposal=invocation.signed_proposal,
            )
        )
        try:
            return await future
        finally:
            timer.cancel()
            self._contexts.pop(key, None)

    def _terminate(self, reason: str) -> None:
        self.closed.set()
        contexts, self._contexts = self._contexts, {}
        for context in contexts.values():
            context.fail(ChaincodeError(reason))

    async def _write_loop(self) -> None:
        assert self._call is not None
        while (message := await self._outbox.get()) is not None:
            try:
                await self._call.write(message)
            except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError):
                self._terminate(STREAM_TERMINATED)
                return

    async def _read_loop(self) -> None:
        assert self._call is not None
        try:
            while True:
                message = await self._call.read()
                if message is grpc.aio.EOF:
                    break
                self._dispatch(message)
        except grpc.aio.AioRpcError:
            pass
        finally:
            self._terminate(STREAM_TERMINATED)

    def _dispatch(self, message: Msg) -> None:
        context = self._contexts.get((message.channel_id, message.txid))
        kind = message.type
        if kind == Msg.COMPLETED:
            if context is not None:
                response = response_pb2.Response()
                response.ParseFromString(message.payload)
                event = message.chaincode_event if message.chaincode_event.event_name else None
                context.finish(Outcome(response, event))
            return
        if kind == Msg.ERROR:
            if context is not None:
                text = message.payload.decode(errors="replace")
                context.finish(
                    Outcome(
                        response_pb2.Response(
                            status=500, message=f"transaction returned with failure: {text}"
                        ),
                        None,
                    )
                )
            return
        if kind not in _REQUESTS and kind not in UNSUPPORTED:
            return  # KEEPALIVE and anything else carries no request to answer
        try:
            if context is None:
                raise _RequestError(
                    f"no transaction context for {message.txid} on channel {message.channel_id}"
                )
            if kind in UNSUPPORTED:
                raise _RequestError(
                    f"{Msg.Type.Name(kind)} is not supported by the embedded ledger: "
                    f"{UNSUPPORTED[kind]}"
                )
            payload = _REQUESTS[kind](context, message.payload)
            reply = Msg(type=Msg.RESPONSE, payload=payload)
        except _RequestError as error:
            reply = Msg(type=Msg.ERROR, payload=str(error).encode())
        reply.txid = message.txid
        reply.channel_id = message.channel_id
        self._outbox.put_nowait(reply)


def _no_collection(collection: str, call: str) -> None:
    if collection:
        raise _RequestError(
            f"{call} on collection {collection!r} is not supported by the embedded ledger: "
            "private data collections are not supported"
        )


def _get_state(context: _TxContext, payload: bytes) -> bytes:
    request = chaincode_shim_pb2.GetState.FromString(payload)
    _no_collection(request.collection, "GET_STATE")
    return context.simulator.get_state(request.key)


def _put_state(context: _TxContext, payload: bytes) -> bytes:
    request = chaincode_shim_pb2.PutState.FromString(payload)
    _no_collection(request.collection, "PUT_STATE")
    _check_writable(context)
    if not request.key:
        raise _RequestError("an empty string is not a valid key")
    context.simulator.put_state(request.key, request.value)
    return b""


def _del_state(context: _TxContext, payload: bytes) -> bytes:
    request = chaincode_shim_pb2.DelState.FromString(payload)
    _no_collection(request.collection, "DEL_STATE")
    _check_writable(context)
    context.simulator.del_state(request.key)
    return b""


def _check_writable(context: _TxContext) -> None:
    if context.paginated:
        raise _RequestError(
            "transaction has already performed queries with pagination: writes are not allowed"
        )


def _range(context: _TxContext, payload: bytes) -> bytes:
    request = chaincode_shim_pb2.GetStateByRange.FromString(payload)
    _no_collection(request.collection, "GET_STATE_BY_RANGE")
    simulator = context.simulator
    metadata = chaincode_shim_pb2.QueryMetadata()
    if request.metadata:
        metadata.ParseFromString(request.metadata)
    iterator_id = str(uuid.uuid4())
    if metadata.pageSize > 0:
        if simulator.writes:
            raise _RequestError(
                "queries with pagination are not supported in transactions that write"
            )
        context.paginated = True
        start = max(request.startKey, metadata.bookmark) if metadata.bookmark else request.startKey
        entries = simulator.range_query(start, request.endKey, metadata.pageSize + 1)
        following = entries[metadata.pageSize] if len(entries) > metadata.pageSize else None
        entries = entries[: metadata.pageSize]
        response_metadata = chaincode_shim_pb2.QueryResponseMetadata(
            fetched_records_count=len(entries), bookmark=following.key if following else ""
        ).SerializeToString()
        record = RangeRecord(start, following.key if following else request.endKey)
    else:
        entries = simulator.range_query(request.startKey, request.endKey, TOTAL_QUERY_LIMIT)
        response_metadata = b""
        record = RangeRecord(request.startKey, request.endKey)
    simulator.record_range(record)
    namespace = simulator.namespace
    iterator = _Iterator(
        results=[
            kv_query_result_pb2.KV(
                namespace=namespace, key=e.key, value=e.value
            ).SerializeToString()
            for e in entries
        ],
        record=record,
        keys=[(e.key, e.version) for e in entries],
        metadata=response_metadata,
    )
    context.iterators[iterator_id] = iterator
    return _page(context, iterator_id)


def _history(context: _TxContext, payload: bytes) -> bytes:
    request = chaincode_shim_pb2.GetHistoryForKey.FromString(payload)
    results = []
    for entry in context.simulator.history(request.key):
        modification = kv_query_result_pb2.KeyModification(
            tx_id=entry.txid,
            value=entry.value,
            is_delete=entry.is_delete,
            timestamp=timestamp_pb2.Timestamp(seconds=entry.seconds, nanos=entry.nanos),
        )
        results.append(modification.SerializeToString())
    iterator_id = str(uuid.uuid4())
    context.iterators[iterator_id] = _Iterator(results=results, record=None)
    return _page(context, iterator_id)


def _next(context: _TxContext, payload: bytes) -> bytes:
    request = chaincode_shim_pb2.QueryStateNext.FromString(payload)
    if request.id not in context.iterators:
        raise _RequestError(f"query iterator {request.id} not found")
    return _page(context, request.id)


def _close(context: _TxContext, payload: bytes) -> bytes:
    request = chaincode_shim_pb2.QueryStateClose.FromString(payload)
    iterator = context.iterators.pop(request.id, None)
    if iterator is not None:
        _close_record(iterator)
    return chaincode_shim_pb2.QueryResponse(id=request.id).SerializeToString()  # type: ignore[no-any-return]


def _page(context: _TxContext, iterator_id: str) -> bytes:
    iterator = context.iterators[iterator_id]
    start = iterator.position
    end = min(start + PAGE_SIZE, len(iterator.results))
    iterator.position = end
    has_more = end < len(iterator.results)
    if iterator.record is not None:
        iterator.record.reads.extend(iterator.keys[start:end])
        if not has_more:
            iterator.record.exhausted = True
    response = chaincode_shim_pb2.QueryResponse(
        has_more=has_more, id=iterator_id, metadata=iterator.metadata
    )
    for result in iterator.results[start:end]:
        response.results.add(resultBytes=result)
    if not has_more:
        context.iterators.pop(iterator_id, None)
    return response.SerializeToString()  # type: ignore[no-any-return]


def _close_record(iterator: _Iterator) -> None:
    """An iterator closed early covers only the keys it returned (Fabric's end key rule)."""
    record = iterator.record
    if record is None or record.exhausted:
        return
    record.end_key = record.reads[-1][0] if record.reads else record.start_key
    iterator.record = None


_REQUESTS: dict[int, Callable[[_TxContext, bytes], bytes]] = {
    Msg.GET_STATE: _get_state,
    Msg.PUT_STATE: _put_state,
    Msg.DEL_STATE: _del_state,
    Msg.GET_STATE_BY_RANGE: _range,
    Msg.QUERY_STATE_NEXT: _next,
    Msg.QUERY_STATE_CLOSE: _close,
    Msg.GET_HISTORY_FOR_KEY: _history,
}

__all__ = [
    "STREAM_TERMINATED",
    "ChaincodeError",
    "ChaincodeStream",
    "Invocation",
    "Outcome",
]
