"""The ledger's durable storage: one SQLite database in WAL mode.

Tables: `blocks` (the serialized blocks and their header hashes), `state` (world state with
the version of each key: the block and transaction that last wrote it), `history` (every
write and delete of a key, for GetHistoryForKey), `transactions` (transaction id → block,
position, validation code) and `events` (chaincode events of valid transactions, for event
streams). A block and everything derived from it is written in one SQLite transaction, so a
crash leaves either the whole block or none of it.

The committer thread writes through its own connection. The event loop reads through another
one, and in WAL mode sees the last committed block, never a half-written one. Each simulation
takes a connection of its own from a pool and reads inside one read transaction: a snapshot of
the state as of its first read, which a block committed meanwhile does not change (Fabric gets
the same from a lock that makes commits wait for simulations; a snapshot makes nobody wait).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY,
    header_hash BLOB NOT NULL,
    previous_hash BLOB NOT NULL,
    data_hash BLOB NOT NULL,
    tx_count INTEGER NOT NULL,
    block BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
    namespace TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    block INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    namespace TEXT NOT NULL,
    key BLOB NOT NULL,
    block INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    txid TEXT NOT NULL,
    value BLOB NOT NULL,
    is_delete INTEGER NOT NULL,
    seconds INTEGER NOT NULL,
    nanos INTEGER NOT NULL,
    PRIMARY KEY (namespace, key, block, tx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transactions (
    txid TEXT PRIMARY KEY,
    block INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    code INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    block INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    txid TEXT NOT NULL,
    chaincode TEXT NOT NULL,
    name TEXT NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (block, tx)
) WITHOUT ROWID;
"""

Version = tuple[int, int]  # (block number, transaction number in the block)


@dataclass(frozen=True)
class StateEntry:
    key: str
    value: bytes
    version: Version


@dataclass(frozen=True)
class HistoryEntry:
    txid: str
    value: bytes
    is_delete: bool
    seconds: int
    nanos: int


@dataclass(frozen=True)
class TxRecord:
    txid: str
    number: int  # position in the block
    code: int


@dataclass(frozen=True)
class Write:
    namespace: str
    key: str
    value: bytes | None  # None deletes the key
    version: Version
    txid: str
    seconds: int
    nanos: int


@dataclass(frozen=True)
class Event:
    tx: int
    txid: str
    chaincode: str
    name: str
    payload: bytes


@dataclass(frozen=True)
class StoredBlock:
    number: int
    header_hash: bytes
    previous_hash: bytes
    data_hash: bytes
    block: bytes


@dataclass(frozen=True)
class EventRow:
    block: int
    txid: str
    chaincode: str
    name: str
    payload: bytes


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed block survives power loss too, not only a crash of the process.
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA busy_timeout=5000")
    return connection


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = connect(path)
        self._writer.executescript(SCHEMA)
        self._reader = connect(path)
        self._pool: list[sqlite3.Connection] = []

    def close(self) -> None:
        for connection in self._pool:
            connection.close()
        self._reader.close()
        self._writer.close()

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """Reads that all see the state as of the first of them."""
        connection = self._pool.pop() if self._pool else connect(self.path)
        connection.execute("BEGIN")
        try:
            yield Snapshot(connection)
        finally:
            connection.execute("COMMIT")
            self._pool.append(connection)

    # Reads (event loop).

    def height(self) -> int:
        row = self._reader.execute("SELECT MAX(number) FROM blocks").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def last_block(self) -> StoredBlock | None:
        row = self._reader.execute(
            "SELECT number, header_hash, previous_hash, data_hash, block FROM blocks "
            "ORDER BY number DESC LIMIT 1"
        ).fetchone()
        return None if row is None else StoredBlock(*row)

    def block(self, number: int) -> bytes | None:
        row = self._reader.execute(
            "SELECT block FROM blocks WHERE number = ?", (number,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def get_state(self, namespace: str, key: str) -> StateEntry | None:
        return _get_state(self._reader, namespace, key)

    def state_range(
        self, namespace: str, start: str, end: str, limit: int | None = None
    ) -> list[StateEntry]:
        """Keys in [start, end) in byte order; an empty end means no upper bound."""
        return _range(self._reader, namespace, start, end, limit, inclusive_end=False)

    def history(self, namespace: str, key: str) -> list[HistoryEntry]:
        return _history(self._reader, namespace, key)

    def tx_status(self, txid: str) -> tuple[int, int] | None:
        """(validation code, block number) of a transaction id's first occurrence."""
        row = self._reader.execute(
            "SELECT code, block FROM transactions WHERE txid = ?", (txid,)
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def tx_location(self, txid: str) -> tuple[int, int, int] | None:
        """(block number, position in the block, validation code) of a transaction id."""
        row = self._reader.execute(
            "SELECT block, tx, code FROM transactions WHERE txid = ?", (txid,)
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]))

    def events(self, first_block: int, end_block: int, chaincode: str) -> list[EventRow]:
        """Events of blocks first_block ≤ n < end_block, in commit order."""
        rows = self._reader.execute(
            "SELECT block, txid, chaincode, name, payload FROM events "
            "WHERE block >= ? AND block < ? AND chaincode = ? ORDER BY block, tx",
            (first_block, end_block, chaincode),
        ).fetchall()
        return [EventRow(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    # Committer (its own thread, its own connection).

    def committed_version(self, namespace: str, key: str) -> Version | None:
        row = self._writer.execute(
            "SELECT block, tx FROM state WHERE namespace = ? AND key = ?",
            (namespace, key.encode()),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def committed_range(
        self, namespace: str, start: str, end: str, inclusive_end: bool
    ) -> list[StateEntry]:
        return _range(self._writer, namespace, start, end, None, inclusive_end=inclusive_end)

    def known_txids(self, txids: Iterable[str]) -> set[str]:
        wanted = [t for t in txids if t]
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self._writer.execute(
                    f"SELECT txid FROM transactions WHERE txid IN ({marks})",  # noqa: S608
                    chunk,
                )
            )
        return found

    def commit_block(
        self,
        block: StoredBlock,
        transactions: list[TxRecord],
        writes: list[Write],
        events: list[Event],
    ) -> None:
        """One block, its transactions, state writes, history and events: one SQLite
        transaction, so a crash leaves the block either whole or absent."""
        connection = self._writer
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "INSERT INTO blocks (number, header_hash, previous_hash, data_hash, tx_count, "
                "block) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    block.number,
                    block.header_hash,
                    block.previous_hash,
                    block.data_hash,
                    len(transactions),
                    block.block,
                ),
            )
            connection.executemany(
                "INSERT OR IGNORE INTO transactions (txid, block, tx, code) VALUES (?, ?, ?, ?)",
                [(t.txid, block.number, t.number, t.code) for t in transactions if t.txid],
            )
            _write_state(connection, writes)
            connection.executemany(
                "INSERT INTO events (block, tx, txid, chaincode, name, payload) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(block.number, e.tx, e.txid, e.chaincode, e.name, e.payload) for e in events],
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _write_state(connection: sqlite3.Connection, writes: list[Write]) -> None:
    """A block's writes: world state (the last write of each key in the block decides it, as
    several valid transactions of one block may write a key blindly) and every write's history."""
    last = {(w.namespace, w.key): w for w in writes}
    connection.executemany(
        "DELETE FROM state WHERE namespace = ? AND key = ?",
        [(w.namespace, w.key.encode()) for w in last.values() if w.value is None],
    )
    connection.executemany(
        "INSERT OR REPLACE INTO state (namespace, key, value, block, tx) VALUES (?, ?, ?, ?, ?)",
        [
            (w.namespace, w.key.encode(), w.value, *w.version)
            for w in last.values()
            if w.value is not None
        ],
    )
    connection.executemany(
        "INSERT INTO history (namespace, key, block, tx, txid, value, is_delete, "
        "seconds, nanos) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                w.namespace,
                w.key.encode(),
                *w.version,
                w.txid,
                w.value or b"",
                w.value is None,
                w.seconds,
                w.nanos,
            )
            for w in writes
        ],
    )


def _range(
    connection: sqlite3.Connection,
    namespace: str,
    start: str,
    end: str,
    limit: int | None,
    *,
    inclusive_end: bool,
) -> list[StateEntry]:
    # Keys are stored as UTF-8 BLOBs and compared bytewise, as Fabric's LevelDB compares them;
    # composite keys start with U+0000, which TEXT handling would not survive everywhere.
    query = "SELECT key, value, block, tx FROM state WHERE namespace = ? AND key >= ?"
    parameters: list[object] = [namespace, start.encode()]
    if end:
        query += " AND key <= ?" if inclusive_end else " AND key < ?"
        parameters.append(end.encode())
    query += " ORDER BY key"
    if limit is not None:
        query += " LIMIT ?"
        parameters.append(limit)
    rows = connection.execute(query, parameters).fetchall()
    return [StateEntry(bytes(r[0]).decode(), bytes(r[1]), (r[2], r[3])) for r in rows]


class Snapshot:
    """State reads inside one SQLite read transaction (see Store.snapshot)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def get_state(self, namespace: str, key: str) -> StateEntry | None:
        return _get_state(self._connection, namespace, key)

    def state_range(
        self, namespace: str, start: str, end: str, limit: int | None = None
    ) -> list[StateEntry]:
        return _range(self._connection, namespace, start, end, limit, inclusive_end=False)

    def history(self, namespace: str, key: str) -> list[HistoryEntry]:
        return _history(self._connection, namespace, key)


def _get_state(connection: sqlite3.Connection, namespace: str, key: str) -> StateEntry | None:
    row = connection.execute(
        "SELECT value, block, tx FROM state WHERE namespace = ? AND key = ?",
        (namespace, key.encode()),
    ).fetchone()
    return None if row is None else StateEntry(key, bytes(row[0]), (row[1], row[2]))


def _history(connection: sqlite3.Connection, namespace: str, key: str) -> list[HistoryEntry]:
    rows = connection.execute(
        "SELECT txid, value, is_delete, seconds, nanos FROM history "
        "WHERE namespace = ? AND key = ? ORDER BY block DESC, tx DESC",
        (namespace, key.encode()),
    ).fetchall()
    return [HistoryEntry(r[0], bytes(r[1]), bool(r[2]), r[3], r[4]) for r in rows]
