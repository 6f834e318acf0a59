"""Open the store a location names: a directory or file:// URI, or s3://bucket/prefix."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from fedledger.store.base import DEFAULT_MAX_BYTES, ModelStore
from fedledger.store.errors import InvalidUriError
from fedledger.store.local import LocalStore


def open_store(
    location: str | Path,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ModelStore:
    """`location` is a store root (`/var/models`, `file:///var/models`, `s3://bucket/prefix`).

    Raises InvalidUriError (a StoreError) for an s3:// location without a bucket or another
    scheme.
    """
    if isinstance(location, Path):
        return LocalStore(location, max_bytes=max_bytes)
    parsed = urlparse(location)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise InvalidUriError(f"{location!r} names no bucket")
        from fedledger.store.s3 import S3Store  # boto3 only for the commands that use S3

        return S3Store(
            parsed.netloc,
            parsed.path.strip("/"),
            endpoint_url=endpoint_url,
            region=region,
            max_bytes=max_bytes,
        )
    if parsed.scheme == "file":
        return LocalStore(unquote(parsed.path), max_bytes=max_bytes)
    if parsed.scheme == "":
        return LocalStore(location, max_bytes=max_bytes)
    raise InvalidUriError(f"{location!r}: unsupported store scheme {parsed.scheme!r}")


def store_root_of(uri: str) -> str:
    """The store location an object URI lives in (an object URI ends in `sha256/<hex>`).

    Raises InvalidUriError for any other URI.
    """
    parsed = urlparse(uri)
    parts = parsed.path.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "sha256":
        raise InvalidUriError(f"{uri!r} is not a content-addressed object URI")
    root = "/".join(parts[:-2])
    return f"{parsed.scheme}://{parsed.netloc}{root}" if parsed.scheme else root
