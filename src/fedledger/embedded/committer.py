"""Turning ordered batches into committed blocks, and telling waiters about them.

The committer is the only writer of the store. For each batch, in a worker thread while
simulations go on (each on its own snapshot): the stateless checks, then the state checks in
block order, then the block is built and signed, and block, state, history, transaction index
and events are written in one SQLite transaction. Only after that commit returns are clients
told: a transaction reported committed is on disk.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import structlog
from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2
from google.protobuf import timestamp_pb2

from fedledger.channelconfig.envelopes import last_config_index
from fedledger.channelconfig.genesis import OrgMaterial, channel_config
from fedledger.embedded.blocks import build_block, config_envelope, header_hash
from fedledger.embedded.config import EmbeddedConfig
from fedledger.embedded.identity import Signer
from fedledger.embedded.store import Event, Store, StoredBlock, TxRecord, Write
from fedledger.embedded.validator import VALID, BlockUpdates, Candidate, Validator

log = structlog.get_logger("fedledger.embedded.committer")
LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class CommittedTx:
    txid: str
    code: int


class Notifier:
    """Waiters for a transaction's commit and for the next block."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._waiters: dict[str, list[asyncio.Future[tuple[int, int]]]] = {}
        self._block = asyncio.Condition()
        self.height = store.height()

    async def commit_status(self, txid: str) -> tuple[int, int]:
        """(validation code, block number), waiting for the commit if it has not happened."""
        future: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(txid, []).append(future)
        try:
            found = self.store.tx_status(txid)
            if found is not None:
                return found
            return await future
        finally:
            waiters = self._waiters.get(txid, [])
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._waiters.pop(txid, None)

    async def wait_for_height(self, above: int) -> None:
        async with self._block:
            await self._block.wait_for(lambda: self.height > above)

    async def committed(self, number: int, transactions: list[CommittedTx]) -> None:
        first: dict[str, int] = {}
        for tx in transactions:
            first.setdefault(tx.txid, tx.code)
        for txid, code in first.items():
            status = self.store.tx_status(txid) or (code, number)
            for future in self._waiters.get(txid, []):
                if not future.done():
                    future.set_result(status)
        async with self._block:
            self.height = number + 1
            self._block.notify_all()


class Committer:
    def __init__(
        self,
        config: EmbeddedConfig,
        store: Store,
        validator: Validator,
        orderer: Signer,
        notifier: Notifier,
    ) -> None:
        self.config = config
        self.store = store
        self.validator = validator
        self.orderer = orderer
        self.notifier = notifier
        # Transaction blocks and config blocks are cut by different tasks; one at a time
        # appends to the chain.
        self._append = threading.Lock()
        last = store.last_block()
        self.last_config = last_config_index(common_pb2.Block.FromString(last.block)) if last else 0

    def ensure_genesis(self, genesis: bytes) -> None:
        if self.store.height() > 0:
            return
        block = build_block(0, b"", [genesis], [VALID], self.orderer, os.urandom(24))
        self.store.commit_block(_stored(block), [], [], [])
        self.notifier.height = 1

    async def commit_config(self, envelope: bytes) -> int:
        """Append a block holding only the CONFIG envelope, as an orderer cuts one; return its
        number. Blocks after it name it as their last config."""
        number = await asyncio.to_thread(self._commit_config, envelope)
        await self.notifier.committed(number, [])
        return number

    def _commit_config(self, envelope: bytes) -> int:
        with self._append:
            last = self.store.last_block()
            assert last is not None, "the genesis block is written at start-up"
            number = last.number + 1
            block = build_block(
                number, last.header_hash, [envelope], [VALID], self.orderer, os.urandom(24), number
            )
            self.store.commit_block(_stored(block), [], [], [])
            self.last_config = number
            return number

    async def commit(self, envelopes: list[bytes]) -> None:
        number, committed = await asyncio.to_thread(self._check_and_commit, envelopes)
        await self.notifier.committed(number, committed)

    def _check_and_commit(self, envelopes: list[bytes]) -> tuple[int, list[CommittedTx]]:
        """One thread hop per block: the stateless checks, then the commit."""
        candidates = [self.validator.check(e) for e in envelopes]
        with self._append:
            return self._commit(envelopes, candidates)

    def _commit(
        self, envelopes: list[bytes], candidates: list[Candidate]
    ) -> tuple[int, list[CommittedTx]]:
        last = self.store.last_block()
        assert last is not None, "the genesis block is written at start-up"
        number = last.number + 1
        namespace = self.config.chaincode_name
        known = self.store.known_txids(c.txid for c in candidates)
        seen: set[str] = set()
        updates = BlockUpdates()
        codes: list[int] = []
        records: list[TxRecord] = []
        writes: list[Write] = []
        events: list[Event] = []
        for position, candidate in enumerate(candidates):
            code, reason = self._validation(candidate, known, seen, updates, namespace)
            if candidate.txid:
                seen.add(candidate.txid)
            codes.append(code)
            records.append(TxRecord(candidate.txid, position, code))
            if code != VALID:
                log.info(
                    "transaction invalid",
                    txid=candidate.txid,
                    block=number,
                    code=transaction_pb2.TxValidationCode.Name(code),
                    reason=reason,
                )
                continue
            writes.extend(_writes(candidate, namespace, (number, position), updates))
            if candidate.event is not None:
                event = candidate.event
                events.append(
                    Event(
                        position,
                        candidate.txid,
                        event.chaincode_id,
                        event.event_name,
                        event.payload,
                    )
                )
        block = build_block(
            number,
            last.header_hash,
            envelopes,
            codes,
            self.orderer,
            os.urandom(24),
            self.last_config,
        )
        self.store.commit_block(_stored(block), records, writes, events)
        return number, [CommittedTx(r.txid, r.code) for r in records]

    def _validation(
        self,
        candidate: Candidate,
        known: set[str],
        seen: set[str],
        updates: BlockUpdates,
        namespace: str,
    ) -> tuple[int, str]:
        """The validation code of a candidate: its own checks', a reused transaction id's, or
        the world state's (MVCC) against the committed state and this block's earlier writes."""
        if candidate.code != VALID:
            return candidate.code, candidate.reason
        if candidate.txid in known or candidate.txid in seen:
            return transaction_pb2.DUPLICATE_TXID, "transaction id already used"
        return self.validator.check_state(candidate, self.store, updates, namespace)


def _stored(block: common_pb2.Block) -> StoredBlock:
    return StoredBlock(
        number=block.header.number,
        header_hash=header_hash(block.header),
        previous_hash=block.header.previous_hash,
        data_hash=block.header.data_hash,
        block=block.SerializeToString(),
    )


def genesis(config: EmbeddedConfig, crypto: Path) -> bytes:
    """Block 0's configuration envelope: the whole channel configuration, built from the
    organisation material. Every member's anchor peer is its Gateway endpoint; ordering
    (Broadcast) is served on each of them, the first is the one the configuration names."""
    ordering_port = config.members[0].gateway_port
    members = []
    for org in config.members:
        layout = config.org_layout(crypto, org)
        members.append(
            OrgMaterial(
                org.msp_id,
                layout.ca_cert.read_bytes(),
                layout.tlsca_cert.read_bytes(),
                ((LOCALHOST, org.gateway_port),),
            )
        )
    orderer_layout = config.orderer_layout(crypto)
    orderer = OrgMaterial(
        config.orderer_msp_id,
        orderer_layout.ca_cert.read_bytes(),
        orderer_layout.tlsca_cert.read_bytes(),
        ((LOCALHOST, ordering_port),),
    )
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    channel = channel_config(members, orderer, config.batch_timeout, config.max_message_count)
    return config_envelope(config.channel, channel, now)


def _writes(
    candidate: Candidate, namespace: str, version: tuple[int, int], updates: BlockUpdates
) -> list[Write]:
    """A valid transaction's writes, recorded in `updates` for the block's later transactions."""
    if candidate.kv is None:
        return []
    writes = []
    for write in candidate.kv.writes:
        value = None if write.is_delete else write.value
        updates.writes[write.key] = (value, version)
        writes.append(
            Write(
                namespace,
                write.key,
                value,
                version,
                candidate.txid,
                candidate.seconds,
                candidate.nanos,
            )
        )
    return writes
