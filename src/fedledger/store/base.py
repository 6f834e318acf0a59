"""What every store offers, and the streaming verification they share."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from fedledger.store.errors import HashMismatchError, InvalidUriError, ModelTooLargeError

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredObject:
    """An object as the store lists it: its name (the SHA-256 its bytes should have), URI, size
    and when it was last written."""

    sha256: str
    uri: str
    size: int
    modified: datetime


class ModelStore(Protocol):
    """Content-addressed storage: objects are named by their SHA-256.

    `put` is idempotent and repairs: an object already there is kept only when its bytes still
    hash to its name, and is rewritten otherwise (docs/model-pipeline.md, "The store").
    """

    def put(self, data: bytes | Path) -> str: ...

    def get(self, uri: str, expected_sha256: str) -> bytes: ...

    def uri_for(self, sha256: str) -> str: ...

    def exists(self, sha256: str) -> bool: ...

    def digest(self, sha256: str) -> str: ...

    def delete(self, sha256: str) -> None: ...

    def objects(self) -> Iterator[StoredObject]: ...


def check_sha256(value: str) -> str:
    """Raises InvalidUriError unless `value` is a lowercase hex SHA-256."""
    if not _HEX.fullmatch(value):
        raise InvalidUriError(f"{value!r} is not a lowercase hex SHA-256")
    return value


def read_verified(
    chunks: Iterable[bytes], *, uri: str, expected_sha256: str, max_bytes: int
) -> bytes:
    """Join chunks, refusing as soon as more than `max_bytes` arrived, then verify the hash.

    Raises ModelTooLargeError or HashMismatchError.
    """
    digest = hashlib.sha256()
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise ModelTooLargeError(uri, size, max_bytes, at_least=True)
        digest.update(chunk)
        parts.append(chunk)
    actual = digest.hexdigest()
    if actual != expected_sha256:
        raise HashMismatchError(uri, expected_sha256, actual)
    return b"".join(parts)


def file_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterable[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            yield chunk


def sha256_of(data: bytes | Path) -> tuple[str, int]:
    """The SHA-256 and size of bytes or of a file's content (OSError when it cannot be read)."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest(), len(data)
    return digest_of(file_chunks(data))


def digest_of(chunks: Iterable[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def is_sha256(value: str) -> bool:
    return _HEX.fullmatch(value) is not None
