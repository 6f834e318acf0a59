"""S3 event notifications read from an SQS queue (the bucket's notification configuration
sends ObjectCreated events there)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fedledger.upload.errors import UploadSourceError
from fedledger.upload.objects import S3Source, UploadedObject, s3_records


@dataclass(frozen=True)
class Message:
    """One queue message: the watched objects its records name (none for a test event, a
    removal, another bucket, or a body that is no S3 event) and the handle that deletes it."""

    receipt: str
    objects: list[UploadedObject]
    readable: bool


class EventQueue:
    def __init__(self, url: str, client: Any, source: S3Source) -> None:
        """`client` is a boto3 SQS client (typed Any: the stubs of SQS are not installed)."""
        self.url = url
        self.client = client
        self.source = source

    def receive(self, wait_seconds: int) -> Iterator[Message]:
        """The messages that arrive within `wait_seconds` (a long poll), at most 10.

        Raises UploadSourceError when the queue cannot be read."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            reply = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            )
        except (BotoCoreError, ClientError) as error:
            raise UploadSourceError(f"cannot read queue {self.url}: {error}") from error
        for raw in reply.get("Messages", []):
            yield self._message(raw)

    def _message(self, raw: Any) -> Message:
        try:
            event = json.loads(raw["Body"])
            records = s3_records(event) if isinstance(event, dict) else []
        except (ValueError, KeyError, TypeError):
            return Message(raw["ReceiptHandle"], [], readable=False)
        objects = []
        for bucket, key, etag in records:
            found = self.source.object_for(key, etag) if bucket == self.source.bucket else None
            if found is not None:
                objects.append(found)
        return Message(raw["ReceiptHandle"], objects, readable=True)

    def delete(self, message: Message) -> None:
        """Remove a handled message; one left in the queue comes back after its visibility
        timeout. Raises UploadSourceError when SQS refuses."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt)
        except (BotoCoreError, ClientError) as error:
            raise UploadSourceError(f"cannot delete a message of {self.url}: {error}") from error
