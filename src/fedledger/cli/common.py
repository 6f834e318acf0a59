"""What every ledger-facing command shares: the profile, the acting organisation, the store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fedledger.cli.failures import console, fail
from fedledger.profile import ConnectionProfile
from fedledger.registry import Registry, open_registry
from fedledger.runtime.layout import RunLayout
from fedledger.schema.types import Schema
from fedledger.store.base import ModelStore
from fedledger.store.factory import open_store

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
        help="A task id on the ledger (read through the connection profile), or the path of a "
        "task file for offline work.",
    ),
]
_TASK_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def load_task_schema(task: str, run_dir: Path, profile: Path | None, org: str | None) -> Schema:
    """The schema of `task`: a task file when `task` names an existing file or ends in .yaml,
    .yml or .json (offline), else the task of that id on the ledger, its schema checked against
    the hash the chaincode recorded. Ends the command with every problem of a bad task file;
    lets the registry's and the ledger's errors through (the command line reports them)."""
    path = Path(task)
    if path.is_file() or path.suffix.lower() in _TASK_FILE_SUFFIXES:
        from fedledger.schema.task_file import read_task_file

        if not path.exists():
            fail(f"--task {task}: no such task file (a task id on the ledger has no file suffix)")
        check = read_task_file(path)
        if check.spec is None:
            fail(f"--task {task}: not a valid task file: " + "; ".join(check.problems))
        return check.spec.schema
    from fedledger.registry.evaluation import evaluation_task

    with registry_for(run_dir, profile, org) as registry:
        return evaluation_task(registry.get_task(task)).schema


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
