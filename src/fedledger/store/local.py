"""A directory of objects named `<root>/sha256/<hex>`; URIs are `file:///<root>/sha256/<hex>`.

An object is found by its content address, the URI's last two parts: the folder before them
says where the proposer's store was, which another host or a container mounts elsewhere
(docs/docker-compose.md). Whatever the URI's folder, only this store's own folder is read, and
every read is checked against the expected SHA-256.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from fedledger.store.base import (
    DEFAULT_MAX_BYTES,
    StoredObject,
    check_sha256,
    file_chunks,
    is_sha256,
    read_verified,
    sha256_of,
)
from fedledger.store.errors import (
    InvalidUriError,
    ModelTooLargeError,
    ObjectNotFoundError,
    StoreUnavailableError,
)


class LocalStore:
    def __init__(self, root: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def uri_for(self, sha256: str) -> str:
        return self._path(check_sha256(sha256)).as_uri()

    def put(self, data: bytes | Path) -> str:
        """Store `data` under its SHA-256; its URI. An object already there is kept when its bytes
        hash to its name (its time is renewed, for `store gc`'s grace period) and replaced
        otherwise. Raises ModelTooLargeError over the store's limit, OSError when the file
        system refuses.
        """
        sha256, size = sha256_of(data)
        if size > self.max_bytes:
            raise ModelTooLargeError(f"<{sha256}>", size, self.max_bytes)
        target = self._path(sha256)
        if target.exists() and self._intact(target):
            os.utime(target)
            return target.as_uri()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target then rename, so a reader never sees half an object.
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes):
                    out.write(data)
                else:
                    with data.open("rb") as src:
                        shutil.copyfileobj(src, out)
            Path(tmp_name).replace(target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return target.as_uri()

    def get(self, uri: str, expected_sha256: str) -> bytes:
        """The verified bytes of `uri`. Raises ObjectNotFoundError, ModelTooLargeError,
        HashMismatchError, StoreUnavailableError when the file cannot be read, or
        InvalidUriError.
        """
        check_sha256(expected_sha256)
        path = self.path_of(uri)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ObjectNotFoundError(uri) from None
        except OSError as exc:
            raise StoreUnavailableError(f"cannot read {uri}: {exc}") from exc
        if size > self.max_bytes:
            raise ModelTooLargeError(uri, size, self.max_bytes)
        try:
            return read_verified(
                file_chunks(path),
                uri=uri,
                expected_sha256=expected_sha256,
                max_bytes=self.max_bytes,
            )
        except FileNotFoundError:
            raise ObjectNotFoundError(uri) from None
        except OSError as exc:
            raise StoreUnavailableError(f"cannot read {uri}: {exc}") from exc

    def exists(self, sha256: str) -> bool:
        """Raises InvalidUriError unless `sha256` is a lowercase hex SHA-256."""
        return self._path(check_sha256(sha256)).exists()

    def digest(self, sha256: str) -> str:
        """The SHA-256 of the bytes stored under `sha256` (equal to it when intact).

        Raises ObjectNotFoundError, StoreUnavailableError when the file cannot be read.
        """
        path = self._path(check_sha256(sha256))
        try:
            return sha256_of(path)[0]
        except FileNotFoundError:
            raise ObjectNotFoundError(path.as_uri()) from None
        except OSError as exc:
            raise StoreUnavailableError(f"cannot read {path.as_uri()}: {exc}") from exc

    def delete(self, sha256: str) -> None:
        """Remove the object (nothing when it is not there). Raises StoreUnavailableError."""
        path = self._path(check_sha256(sha256))
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(f"cannot remove {path.as_uri()}: {exc}") from exc

    def objects(self) -> Iterator[StoredObject]:
        """Every object, by name; files that are not objects (a put under way) are skipped."""
        folder = self.root / "sha256"
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            if not is_sha256(path.name):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # removed since the listing
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            yield StoredObject(path.name, path.as_uri(), stat.st_size, modified)

    def _intact(self, path: Path) -> bool:
        try:
            return sha256_of(path)[0] == path.name
        except OSError:
            return False

    def path_of(self, uri: str) -> Path:
        """Where this store keeps the object a folder store's `file://` URI names: the URI's
        `sha256/<hex>` address inside this store's root, wherever the URI's folder is.

        Raises InvalidUriError when the URI is not a folder store's object address.
        """
        parsed = urlparse(uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise InvalidUriError(f"{uri!r} is not a file:/// URI")
        path = Path(unquote(parsed.path))
        if path.parent.name != "sha256":
            raise InvalidUriError(
                f"{uri!r} is not an object address of a folder store (…/sha256/<hex>)"
            )
        return self._path(check_sha256(path.name))

    def _path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256
