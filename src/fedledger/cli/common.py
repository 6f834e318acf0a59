"""What every ledger-facing command shares: the profile, the acting organisation, the store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from fedledger.cli.failures import console, fail
from fedledger.profile import ConnectionProfile, ProfileError
from fedledger.registry import Registry, open_registry
from fedledger.runtime.layout import RunLayout
from fedledger.schema.types import Schema
from fedledger.store.base import ModelStore
from fedledger.store.factory import open_store

if TYPE_CHECKING:
    from fedledger.evaluate.policy import Task

__all__ = [
    "DEFAULT_RUN_DIR",
    "OrgOption",
    "ProfileOption",
    "RunDir",
    "StoreOption",
    "TaskOption",
    "acting_org",
    "console",
    "fail",
    "load_profile",
    "load_task",
    "load_task_schema",
    "model_store",
    "out",
    "registry_for",
]

# Piped output keeps whole ids and paths rather than wrapping tables at 80 columns.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)

DEFAULT_RUN_DIR = Path(".fedledger")
RunDir = Annotated[
    Path,
    typer.Option(
        envvar="FEDLEDGER_RUN_DIR",
        resolve_path=True,  # absolute from here on: processes started elsewhere read its paths
        help="The network's folder: state, logs, records and its connection profile.",
    ),
]
ProfileOption = Annotated[
    Path | None,
    typer.Option(
        envvar="FEDLEDGER_PROFILE",
        help="Connection profile (default: the one in the run folder).",
    ),
]
OrgOption = Annotated[
    str | None,
    typer.Option("--org", envvar="FEDLEDGER_ORG", help="Act as this organisation (MSP ID)."),
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        envvar="FEDLEDGER_STORE",
        help="Model store: a folder, file:// or s3://bucket/prefix (default: <run dir>/store).",
    ),
]

TaskOption = Annotated[
    str,
    typer.Option(
        "--task",
        help="A task id on the ledger (read through the connection profile), or a task file "
        "for offline work: an existing file, or a name ending in .yaml, .yml or .json.",
    ),
]


def load_task(task: str, run_dir: Path, profile: Path | None, org: str | None) -> Task:
    """The task `task` names (fedledger/task_source.py): a task file, offline, or the task of
    that id on the ledger, its schema checked against the hash the chaincode recorded.

    Raises TaskFileError for a missing or wrong task file; a task id whose connection profile
    cannot be read ends the command with a hint to give the task file instead; the registry's
    and the ledger's errors go through (the command line reports them)."""
    from fedledger.task_source import is_task_file, task_from_file

    if is_task_file(task):
        return task_from_file(task)
    from fedledger.registry.evaluation import evaluation_task

    try:
        with registry_for(run_dir, profile, org) as registry:
            return evaluation_task(registry.get_task(task))
    except ProfileError as error:
        fail(
            f"--task {task} is a task id, read from the ledger, but {error}; to work offline, "
            "give the task file instead (--task task.yaml)"
        )


def load_task_schema(task: str, run_dir: Path, profile: Path | None, org: str | None) -> Schema:
    """The schema of the task `task` names, as `load_task` finds it."""
    return load_task(task, run_dir, profile, org).schema


def load_profile(run_dir: Path, profile: Path | None) -> ConnectionProfile:
    """`profile`, or the run folder's; raises ProfileError when it cannot be read."""
    return ConnectionProfile.load(profile or run_dir / "connection-profile.yaml")


def acting_org(loaded: ConnectionProfile, org: str | None) -> str:
    if org is None:
        return loaded.msp_ids[0]
    if org not in loaded.organizations:
        fail(f"no organisation {org} in the profile (known: {', '.join(loaded.msp_ids)})")
    return org


def model_store(run_dir: Path, location: str | None) -> ModelStore:
    """The store at `location`, or the run folder's; raises StoreError for a bad location."""
    return open_store(location or RunLayout(run_dir).store)


@contextmanager
def registry_for(run_dir: Path, profile: Path | None, org: str | None) -> Iterator[Registry]:
    """A registry acting as `org`.

    Raises ProfileError when the profile cannot be read, MspFolderError when the organisation's
    credentials cannot, and lets the registry's and the ledger's errors through; the command
    line's `failures()` turns each into its message.
    """
    loaded = load_profile(run_dir, profile)
    with open_registry(loaded, acting_org(loaded, org)) as registry:
        yield registry
