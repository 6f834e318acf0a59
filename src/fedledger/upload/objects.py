"""Uploaded objects, wherever they are: an S3 prefix, a local folder, or S3 event records
(from an SQS queue or as Lambda delivers them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from fedledger.upload.archive import is_candidate
from fedledger.upload.errors import UploadSourceError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TASK_METADATA = "fedledger-task"  # x-amz-meta-fedledger-task


@dataclass(frozen=True)
class Fetched:
    data: bytes
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class UploadedObject:
    """One object: `location` names it everywhere (s3://bucket/key or a file path), `key` is
    its name below the watched prefix or folder, `etag` changes when its bytes do."""

    location: str
    key: str
    etag: str
    fetch: Callable[[], Fetched]


class S3Source:
    """The model objects below `s3://bucket/prefix/`."""

    def __init__(self, bucket: str, prefix: str, client: S3Client) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def __repr__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def relative(self, key: str) -> str | None:
        """`key` below the prefix, or None when it is outside it."""
        if not self.prefix:
            return key
        head = self.prefix + "/"
        return key[len(head) :] if key.startswith(head) else None

    def listing(self) -> Iterator[UploadedObject]:
        """Every candidate object (.onnx, .tar.gz) below the prefix.

        Raises UploadSourceError when S3 cannot be listed."""
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for entry in page.get("Contents", []):
                    found = self.object_for(entry["Key"], entry.get("ETag", ""))
                    if found is not None:
                        yield found
        except (BotoCoreError, ClientError) as error:
            raise UploadSourceError(f"cannot list {self}: {error}") from error

    def object_for(self, key: str, etag: str) -> UploadedObject | None:
        """The object `key` (a full key in the bucket), or None when it is outside the prefix
        or not a candidate."""
        relative = self.relative(key)
        if relative is None or not relative or not is_candidate(relative):
            return None
        return UploadedObject(
            f"s3://{self.bucket}/{key}", relative, etag.strip('"'), lambda: self._get(key)
        )

    def _get(self, key: str) -> Fetched:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=key)
            return Fetched(reply["Body"].read(), dict(reply.get("Metadata", {})))
        except (BotoCoreError, ClientError) as error:
            raise UploadSourceError(f"cannot read s3://{self.bucket}/{key}: {error}") from error


class FolderSource:
    """The model files below a local folder; a file's etag is its size and modification time."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return str(self.root)

    def listing(self) -> Iterator[UploadedObject]:
        """Every candidate file below the folder, in name order.

        Raises UploadSourceError when the folder cannot be read."""
        if not self.root.is_dir():
            raise UploadSourceError(f"{self.root} is not a folder (create it, or watch another)")
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if not path.is_file() or not is_candidate(relative) or relative.startswith("."):
                continue
            stat = path.stat()
            yield UploadedObject(
                str(path), relative, f"{stat.st_size}-{stat.st_mtime_ns}", _reader(path)
            )


def _reader(path: Path) -> Callable[[], Fetched]:
    def read() -> Fetched:
        try:
            return Fetched(path.read_bytes(), {})
        except OSError as error:
            raise UploadSourceError(f"cannot read {path}: {error}") from error

    return read


def s3_records(event: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(bucket, key, etag) of each object-created record of an S3 event notification, as
    Lambda delivers it or as it arrives in an SQS message body. Keys arrive URL-encoded (a
    space as `+`); an s3:TestEvent or a removal has no such record."""
    found = []
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3", {})
        found.append(
            (
                s3["bucket"]["name"],
                unquote_plus(s3["object"]["key"]),
                str(s3["object"].get("eTag", "")),
            )
        )
    return found
