"""Objects in an S3 bucket under `<prefix>/sha256/<hex>`; URIs are `s3://<bucket>/<key>`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fedledger.store.base import (
    CHUNK_BYTES,
    DEFAULT_MAX_BYTES,
    StoredObject,
    check_sha256,
    digest_of,
    is_sha256,
    read_verified,
    sha256_of,
)
from fedledger.store.errors import (
    InvalidUriError,
    ModelTooLargeError,
    ObjectNotFoundError,
    StoreError,
    StoreUnavailableError,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_TRANSIENT = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError"}


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: S3Client | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_seconds: float = 30.0,
    ) -> None:
        if not bucket:
            raise InvalidUriError("an S3 store needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.max_bytes = max_bytes
        config = Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        self.client: S3Client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    def key_for(self, sha256: str) -> str:
        name = f"sha256/{check_sha256(sha256)}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def uri_for(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self.key_for(sha256)}"

    def put(self, data: bytes | Path) -> str:
        """Store `data` under its SHA-256; its URI. An object already there is kept when its bytes
        hash to its name (copied onto itself, which renews its time for `store gc`'s grace
        period) and replaced otherwise. Raises ModelTooLargeError over the store's limit,
        StoreUnavailableError when S3 fails, StoreError when S3 refuses.
        """
        sha256, size = sha256_of(data)
        uri = self.uri_for(sha256)
        if size > self.max_bytes:
            raise ModelTooLargeError(uri, size, self.max_bytes)
        key = self.key_for(sha256)
        with _translated(uri):
            if self._exists(key) and self._hash_of(key) == sha256:
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    Metadata={"sha256": sha256},
                    MetadataDirective="REPLACE",
                )
                return uri
            meta = {"sha256": sha256}
            if isinstance(data, bytes):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata=meta)
            else:
                self.client.upload_file(str(data), self.bucket, key, ExtraArgs={"Metadata": meta})
        return uri

    def get(self, uri: str, expected_sha256: str) -> bytes:
        """The verified bytes of `uri`. Raises ObjectNotFoundError, ModelTooLargeError,
        HashMismatchError, StoreUnavailableError when S3 fails, or InvalidUriError.
        """
        check_sha256(expected_sha256)
        bucket, key = parse_s3_uri(uri)
        with _translated(uri):
            response = self.client.get_object(Bucket=bucket, Key=key)
            body = response["Body"]
            try:
                length = int(response.get("ContentLength", 0))
                if length > self.max_bytes:
                    raise ModelTooLargeError(uri, length, self.max_bytes)
                chunks: Iterable[bytes] = body.iter_chunks(CHUNK_BYTES)
                return read_verified(
                    chunks, uri=uri, expected_sha256=expected_sha256, max_bytes=self.max_bytes
                )
            finally:
                body.close()

    def exists(self, sha256: str) -> bool:
        """Raises StoreUnavailableError when S3 fails, StoreError when it refuses."""
        with _translated(self.uri_for(sha256)):
            return self._exists(self.key_for(sha256))

    def digest(self, sha256: str) -> str:
        """The SHA-256 of the bytes stored under `sha256` (equal to it when intact), streamed.

        Raises ObjectNotFoundError, StoreUnavailableError when S3 fails, StoreError when it
        refuses.
        """
        with _translated(self.uri_for(sha256)):
            return self._hash_of(self.key_for(sha256))

    def delete(self, sha256: str) -> None:
        """Remove the object (nothing when it is not there).

        Raises StoreUnavailableError when S3 fails, StoreError when it refuses.
        """
        with _translated(self.uri_for(sha256)):
            self.client.delete_object(Bucket=self.bucket, Key=self.key_for(sha256))

    def objects(self) -> Iterator[StoredObject]:
        """Every object under the prefix, by name; other keys are skipped.

        Raises StoreUnavailableError when S3 fails, StoreError when it refuses.
        """
        folder = f"{self.prefix}/sha256/" if self.prefix else "sha256/"
        pages = self.client.get_paginator("list_objects_v2")
        with _translated(f"s3://{self.bucket}/{folder}"):
            for page in pages.paginate(Bucket=self.bucket, Prefix=folder):
                for item in page.get("Contents", []):
                    name = item["Key"].removeprefix(folder)
                    if is_sha256(name):
                        yield StoredObject(
                            name, self.uri_for(name), item["Size"], item["LastModified"]
                        )

    def _hash_of(self, key: str) -> str:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            return digest_of(body.iter_chunks(CHUNK_BYTES))[0]
        finally:
            body.close()

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return False
            raise
        return True


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Bucket and key of an s3:// URI; raises InvalidUriError for any other."""
    parsed = urlparse(uri)
    key = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not key:
        raise InvalidUriError(f"{uri!r} is not an s3://bucket/key URI")
    check_sha256(key.rsplit("/", 1)[-1])
    return parsed.netloc, key


def _code(exc: ClientError) -> str:
    error: Any = exc.response.get("Error", {})
    return str(error.get("Code", ""))


@contextmanager
def _translated(uri: str) -> Iterator[None]:
    """Turn botocore's exceptions into the store's: not found, transient, or permanent."""
    try:
        yield
    except ClientError as exc:
        code = _code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in _NOT_FOUND:
            raise ObjectNotFoundError(uri) from exc
        if code in _TRANSIENT or status >= 500:
            raise StoreUnavailableError(f"S3 is unavailable for {uri}: {exc}") from exc
        raise StoreError(f"S3 refused {uri}: {exc}") from exc
    except BotoCoreError as exc:
        raise StoreUnavailableError(f"S3 is unreachable for {uri}: {exc}") from exc
