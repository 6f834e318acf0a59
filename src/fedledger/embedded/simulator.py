"""Transaction simulation: chaincode reads and writes recorded as Fabric's read/write set.

Reads see committed state only, never the transaction's own writes (as on a Fabric peer). The
first read of a key records the version it saw; range queries record every key they returned
so that the validator can detect phantoms; the last write of a key wins. The simulation runs
inside one SQLite read transaction, so every read comes from the same committed snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2

from fedledger.embedded.store import HistoryEntry, StateEntry, Version


class StateReader(Protocol):
    def get_state(self, namespace: str, key: str) -> StateEntry | None: ...

    def state_range(
        self, namespace: str, start: str, end: str, limit: int | None = None
    ) -> list[StateEntry]: ...

    def history(self, namespace: str, key: str) -> list[HistoryEntry]: ...


@dataclass
class RangeRecord:
    start_key: str
    end_key: str
    reads: list[tuple[str, Version]] = field(default_factory=list)
    exhausted: bool = False


class TxSimulator:
    def __init__(self, state: StateReader, namespace: str) -> None:
        self.state = state
        self.namespace = namespace
        self.reads: dict[str, Version | None] = {}
        self.writes: dict[str, bytes | None] = {}
        self.ranges: list[RangeRecord] = []

    def get_state(self, key: str) -> bytes:
        entry = self.state.get_state(self.namespace, key)
        self.reads.setdefault(key, entry.version if entry else None)
        return entry.value if entry else b""

    def put_state(self, key: str, value: bytes) -> None:
        self.writes[key] = value

    def del_state(self, key: str) -> None:
        self.writes[key] = None

    def range_query(self, start: str, end: str, limit: int | None = None) -> list[StateEntry]:
        return self.state.state_range(self.namespace, start, end, limit)

    def record_range(self, record: RangeRecord) -> None:
        self.ranges.append(record)

    def history(self, key: str) -> list[HistoryEntry]:
        return self.state.history(self.namespace, key)

    def results(self) -> bytes:
        """The serialized TxReadWriteSet, keys sorted as Fabric sorts them."""
        kv = kv_rwset_pb2.KVRWSet()
        for key in sorted(self.reads):
            read = kv.reads.add(key=key)
            version = self.reads[key]
            if version is not None:
                read.version.block_num, read.version.tx_num = version
        for record in self.ranges:
            info = kv.range_queries_info.add(
                start_key=record.start_key,
                end_key=record.end_key,
                itr_exhausted=record.exhausted,
            )
            for key, (block, tx) in record.reads:
                raw = info.raw_reads.kv_reads.add(key=key)
                raw.version.block_num, raw.version.tx_num = block, tx
        for key in sorted(self.writes):
            value = self.writes[key]
            kv.writes.add(key=key, is_delete=value is None, value=value or b"")
        txrw = rwset_pb2.TxReadWriteSet(data_model=rwset_pb2.TxReadWriteSet.KV)
        if kv.reads or kv.writes or kv.range_queries_info:
            txrw.ns_rwset.add(namespace=self.namespace, rwset=kv.SerializeToString())
        return txrw.SerializeToString()  # type: ignore[no-any-return]
