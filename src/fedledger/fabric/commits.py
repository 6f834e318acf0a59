"""Commit status over the older protocol: one DeliverFiltered stream per channel.

The Gateway's CommitStatus asks the gateway peer, which follows its own blocks. Without it, the
client follows the channel itself: a DeliverFiltered stream from a peer of its organisation,
opened at the newest block before the client's first transaction is broadcast, so every block
that can hold one of its transactions is seen. A filtered block carries each transaction's id
and validation code; the watcher keeps those of the transactions the client submitted (the
first occurrence of an id: a later duplicate is marked invalid and changes nothing).
When the stream breaks (peer restarted), it reopens after the last block seen, from the next
peer of the organisation, after a backoff; waiters meanwhile keep waiting until their deadline.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import grpc
from fabric_protos.peer import events_pb2_grpc

from fedledger.fabric.events import Backoff
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.nodes import Connections, Node
from fedledger.fabric.seek import newest, seek_envelope, specified

log = logging.getLogger(__name__)

# A commit's status may be asked more than once (`Commit.wait()` then `Commit.status()`), so
# statuses are kept, the oldest forgotten past this many.
RESULTS_KEPT = 10_000


class CommitWatcher:
    """The commits of one channel, as seen by a peer of the client's organisation. Thread-safe."""

    def __init__(
        self,
        connections: Connections,
        peers: Sequence[Node],
        signer: SigningIdentity,
        channel: str,
        backoff: Backoff | None = None,
    ) -> None:
        self._connections = connections
        self._peers = list(peers)
        self._signer = signer
        self.channel = channel
        self._backoff = backoff or Backoff()
        self._condition = threading.Condition()
        self._expected: set[str] = set()
        self._results: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._ready = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._call: Any = None
        self.last_error = "no block received yet"

    def expect(self, transaction_id: str, timeout: float) -> None:
        """Watch for `transaction_id`; call before broadcasting it. Raises TimeoutError when the
        stream has not reached the newest block within `timeout` seconds."""
        with self._condition:
            self._expected.add(transaction_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._follow, name=f"commits-{self.channel}", daemon=True
                )
                self._thread.start()
        if not self._ready.wait(timeout):
            self.forget(transaction_id)
            peers = ", ".join(str(p) for p in self._peers)
            raise TimeoutError(f"no block from {peers} within {timeout:g} s ({self.last_error})")

    def forget(self, transaction_id: str) -> None:
        with self._condition:
            self._expected.discard(transaction_id)
            self._results.pop(transaction_id, None)

    def wait(self, transaction_id: str, timeout: float) -> tuple[int, int]:
        """(validation code, block number) of an expected transaction. Raises TimeoutError."""
        with self._condition:
            if not self._condition.wait_for(lambda: transaction_id in self._results, timeout):
                raise TimeoutError(
                    f"transaction {transaction_id} was not committed within {timeout:g} s "
                    f"({self.last_error})"
                )
            return self._results[transaction_id]

    def close(self) -> None:
        self._closed.set()
        with self._condition:
            call, self._call = self._call, None
        if call is not None:
            call.cancel()

    def _follow(self) -> None:
        next_block: int | None = None
        delays = self._backoff.delays()
        attempt = 0
        while not self._closed.is_set():
            node = self._peers[attempt % len(self._peers)]
            try:
                for number in self._stream(node, next_block):
                    next_block = number + 1
                    delays = self._backoff.delays()
            except grpc.RpcError as error:
                if self._closed.is_set():
                    return
                self.last_error = f"{node}: {error.code().name}: {error.details()}"
                log.warning("commit stream of %s interrupted: %s", self.channel, self.last_error)
            except Exception as error:
                # Waiters would otherwise wait for a thread that is gone; say why and go on.
                self.last_error = f"{node}: {error!r}"
                log.exception("commit stream of %s failed", self.channel)
            attempt += 1
            if self._closed.wait(next(delays)):
                return

    def _stream(self, node: Node, next_block: int | None) -> Any:
        start = newest() if next_block is None else specified(next_block)
        envelope = seek_envelope(
            self._signer, self.channel, start, tls_cert_hash=node.tls_cert_hash
        )
        stub = events_pb2_grpc.DeliverStub(self._connections.channel(node))
        with self._condition:
            if self._closed.is_set():
                return
            self._call = call = stub.DeliverFiltered(iter([envelope]))
        for response in call:
            if response.WhichOneof("Type") == "status":
                self.last_error = f"{node} answered {response.status}"
                log.warning("commit stream of %s ended: %s", self.channel, self.last_error)
                return
            block = response.filtered_block
            self._record(block)
            self._ready.set()
            yield int(block.number)

    def _record(self, block: Any) -> None:
        with self._condition:
            for tx in block.filtered_transactions:
                if tx.txid in self._expected:
                    self._expected.discard(tx.txid)
                    self._results[tx.txid] = (int(tx.tx_validation_code), int(block.number))
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
            self._condition.notify_all()
