"""`fedledger watch`: propose every new model uploaded to an S3 prefix or a folder, once."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlparse

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    StoreOption,
    acting_org,
    fail,
    load_profile,
    model_store,
    out,
)
from fedledger.store.base import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from fedledger.upload.objects import FolderSource, S3Source
    from fedledger.upload.queue import EventQueue
    from fedledger.upload.watcher import Watcher


Source = Annotated[
    str, typer.Argument(help="Where models are uploaded: s3://bucket/prefix/ or a folder.")
]
ObjectsTask = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="Propose every object for this task (default: the object's fedledger-task "
        "metadata, else the first folder of its key).",
    ),
]
Queue = Annotated[
    str | None,
    typer.Option(help="SQS queue URL receiving the bucket's ObjectCreated notifications."),
]


def watch(
    source: Source,
    task: ObjectsTask = None,
    queue: Queue = None,
    interval: Annotated[float, typer.Option(help="Seconds between listings.")] = 30.0,
    once: Annotated[
        bool, typer.Option("--once", help="List once, propose what is new, and exit.")
    ] = False,
    state: Annotated[
        Path | None,
        typer.Option(help="State file (default: <run dir>/watch/<org>.json)."),
    ] = None,
    max_bytes: Annotated[
        int, typer.Option(help="Largest object or model read, in bytes.")
    ] = DEFAULT_MAX_BYTES,
    org: OrgOption = None,
    store: StoreOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Propose every new model uploaded to an S3 prefix or a folder, exactly once."""
    from fedledger.registry import open_registry
    from fedledger.upload.proposer import Proposer
    from fedledger.upload.state import WatchState
    from fedledger.upload.watcher import Watcher

    log_problems_to_stderr()
    loaded = load_profile(run_dir, profile)
    msp_id = acting_org(loaded, org)
    watched = source_for(source)
    events = event_queue(queue, watched)
    state_file = WatchState(state or run_dir / "watch" / f"{msp_id}.json")
    stop = threading.Event()
    with open_registry(loaded, msp_id) as registry:
        proposer = Proposer(registry, model_store(run_dir, store), task=task, max_bytes=max_bytes)
        watcher = Watcher(
            proposer,
            watched,
            state_file,
            report=lambda outcome: out.print(outcome.line(), markup=False, highlight=False),
            queue=events,
            interval=interval,
            stop=stop,
        )
        if once:
            out.print(watcher.sweep_summary().line(), markup=False, highlight=False)
        else:
            out.print(f"watching {watched} as {msp_id}; state in {state_file.path}")
            run_until_signalled(watcher, stop)


def log_problems_to_stderr() -> None:
    """Refusals, failures, unreadable sources and each pass's summary (objects seen, proposed,
    refused...) as one JSON object a line on stderr, for a log collector; stdout keeps the line
    per object for people."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    upload_log = logging.getLogger("fedledger.upload")
    upload_log.addHandler(handler)
    upload_log.setLevel(logging.WARNING)
    upload_log.propagate = False
    logging.getLogger("fedledger.upload.passes").setLevel(logging.INFO)


def run_until_signalled(watcher: Watcher, stop: threading.Event) -> None:
    """Run the watcher until SIGTERM or SIGINT; the object in hand is finished first."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    watcher.run()
    out.print("stopped")


def source_for(location: str) -> S3Source | FolderSource:
    """The S3Source or FolderSource `location` names."""
    from fedledger.upload.objects import FolderSource, S3Source

    parsed = urlparse(location)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            fail(f"{location!r} names no bucket: write s3://bucket/prefix/")
        import boto3

        return S3Source(parsed.netloc, parsed.path, boto3.client("s3"))
    if parsed.scheme not in ("", "file"):
        fail(f"{location!r}: watch s3://bucket/prefix/ or a folder")
    return FolderSource(Path(parsed.path if parsed.scheme else location))


def event_queue(url: str | None, watched: S3Source | FolderSource) -> EventQueue | None:
    from fedledger.upload.objects import S3Source
    from fedledger.upload.queue import EventQueue

    if url is None:
        return None
    if not isinstance(watched, S3Source):
        fail("--queue carries S3 events: watch an s3:// location with it")
    import boto3

    return EventQueue(url, boto3.client("sqs"), watched)
