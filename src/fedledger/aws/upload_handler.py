"""The upload watcher as an AWS Lambda: an S3 ObjectCreated event proposes its models.

Configured by environment variables, read once per cold start (docs/upload.md):
FEDLEDGER_PROFILE (connection profile; its MSP folders relative to it), FEDLEDGER_ORG (the
organisation's MSP ID), FEDLEDGER_STORE (model store, s3://bucket/prefix), and optionally
FEDLEDGER_TASK (fixes the task), FEDLEDGER_WATCH_PREFIX (the prefix a key's task folder is
below), FEDLEDGER_MAX_BYTES.

Lambda keeps no state file: S3 delivers an event at least once, and the ledger itself refuses
a model proposed twice (ALREADY_PROPOSED), which the Proposer counts as success.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fedledger.store.base import DEFAULT_MAX_BYTES
from fedledger.upload.errors import UploadError
from fedledger.upload.proposer import FAILED, Outcome

REQUIRED = ("FEDLEDGER_PROFILE", "FEDLEDGER_ORG", "FEDLEDGER_STORE")


class UploadRetryError(UploadError):
    """Some object of the event failed for a reason that may pass (the ledger or S3 could not
    be reached): raised so that Lambda retries the event; what succeeded is not redone."""


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Propose each object the S3 event names; {"outcomes": [...]} one per watched object.

    Raises UploadError naming the missing environment variable, UploadRetryError when an
    object failed transiently (Lambda then retries the whole event)."""
    outcomes = handle_event(event, os.environ)
    failed = [outcome for outcome in outcomes if outcome.outcome == FAILED]
    if failed:
        raise UploadRetryError("; ".join(outcome.line() for outcome in failed))
    return {"outcomes": [asdict(outcome) for outcome in outcomes]}


def handle_event(event: Mapping[str, Any], environment: Mapping[str, str]) -> list[Outcome]:
    """The outcome of each object of `event` below the watched prefix, configured by
    `environment` (the variables above).

    Raises UploadError naming a missing variable, ProfileError and MspFolderError when the
    profile or the organisation's credentials cannot be read."""
    import boto3

    from fedledger.profile import ConnectionProfile
    from fedledger.registry import open_registry
    from fedledger.store.factory import open_store
    from fedledger.upload.objects import S3Source, s3_records
    from fedledger.upload.proposer import Proposer
    from fedledger.upload.watcher import Watcher

    missing = [name for name in REQUIRED if not environment.get(name)]
    if missing:
        raise UploadError(f"set {', '.join(missing)} in the Lambda's environment")
    profile = ConnectionProfile.load(Path(environment["FEDLEDGER_PROFILE"]))
    client = boto3.client("s3")
    prefix = environment.get("FEDLEDGER_WATCH_PREFIX", "")
    outcomes: list[Outcome] = []
    with open_registry(profile, environment["FEDLEDGER_ORG"]) as registry:
        proposer = Proposer(
            registry,
            open_store(environment["FEDLEDGER_STORE"]),
            task=environment.get("FEDLEDGER_TASK") or None,
            max_bytes=int(environment.get("FEDLEDGER_MAX_BYTES", DEFAULT_MAX_BYTES)),
        )
        watcher = Watcher(proposer, _NoListing(), None, report=outcomes.append)
        for bucket, key, etag in s3_records(event):
            uploaded = S3Source(bucket, prefix, client).object_for(key, etag)
            if uploaded is not None:
                watcher.consider(uploaded)
    return outcomes


class _NoListing:
    def listing(self) -> list[Any]:
        return []
