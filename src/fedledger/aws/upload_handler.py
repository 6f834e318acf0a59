"""The upload watcher as an AWS Lambda: an S3 ObjectCreated event proposes its models.

Configured by environment variables (docs/upload.md#the-lambda-fedledgerawsupload_handlerhandler):
the shared ones (aws/settings.py) with FEDLEDGER_ORG required (the organisation's MSP ID),
FEDLEDGER_STORE (model store, s3://bucket/prefix), FEDLEDGER_PROFILE (connection profile, default
connection-profile.yaml; its MSP folders relative to it), optionally FEDLEDGER_TASK (fixes the
task); and its own: FEDLEDGER_WATCH_PREFIX (the prefix a key's task folder is below),
FEDLEDGER_MAX_BYTES.

Lambda keeps no state file: S3 delivers an event at least once, and the ledger itself refuses
a model proposed twice (ALREADY_PROPOSED), which the Proposer counts as success.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fedledger.aws.settings import ORG, LambdaEnvironment, read_common, read_number
from fedledger.store.base import DEFAULT_MAX_BYTES
from fedledger.upload.errors import UploadError
from fedledger.upload.proposer import FAILED, Outcome


@dataclass(frozen=True)
class UploadSettings:
    common: LambdaEnvironment
    org: str
    watch_prefix: str
    max_bytes: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> UploadSettings:
        """The settings in `environ`. Raises UploadError naming the variable that is missing
        or invalid."""
        common = read_common(environ, [ORG], UploadError)
        max_bytes = read_number(
            environ,
            "FEDLEDGER_MAX_BYTES",
            DEFAULT_MAX_BYTES,
            int,
            1,
            "a whole number of bytes >= 1",
            UploadError,
        )
        return cls(common, environ[ORG], environ.get("FEDLEDGER_WATCH_PREFIX", ""), max_bytes)


class UploadRetryError(UploadError):
    """Some object of the event failed for a reason that may pass (the ledger or S3 could not
    be reached): raised so that Lambda retries the event; what succeeded is not redone."""


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Propose each object the S3 event names; {"outcomes": [...]} one per watched object.

    Raises UploadError naming a missing or invalid environment variable, UploadRetryError when an
    object failed transiently (Lambda then retries the whole event)."""
    outcomes = handle_event(event, os.environ)
    failed = [outcome for outcome in outcomes if outcome.outcome == FAILED]
    if failed:
        raise UploadRetryError("; ".join(outcome.line() for outcome in failed))
    return {"outcomes": [asdict(outcome) for outcome in outcomes]}


def handle_event(event: Mapping[str, Any], environment: Mapping[str, str]) -> list[Outcome]:
    """The outcome of each object of `event` below the watched prefix, configured by
    `environment` (the variables above).

    Raises UploadError naming a missing or invalid variable, ProfileError and MspFolderError
    when the profile or the organisation's credentials cannot be read."""
    import boto3

    from fedledger.profile import ConnectionProfile
    from fedledger.registry import open_registry
    from fedledger.store.factory import open_store
    from fedledger.upload.objects import S3Source, s3_records
    from fedledger.upload.proposer import Proposer
    from fedledger.upload.watcher import Watcher

    settings = UploadSettings.from_environment(environment)
    profile = ConnectionProfile.load(settings.common.profile)
    client = boto3.client("s3")
    outcomes: list[Outcome] = []
    with open_registry(profile, settings.org) as registry:
        proposer = Proposer(
            registry,
            open_store(settings.common.store),
            task=settings.common.task,
            max_bytes=settings.max_bytes,
        )
        watcher = Watcher(proposer, _NoListing(), None, report=outcomes.append)
        for bucket, key, etag in s3_records(event):
            uploaded = S3Source(bucket, settings.watch_prefix, client).object_for(key, etag)
            if uploaded is not None:
                watcher.consider(uploaded)
    return outcomes


class _NoListing:
    def listing(self) -> list[Any]:
        return []
