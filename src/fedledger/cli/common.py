"""What every ledger-facing command shares: the profile, the acting organisation, the store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from fedledger.fabric.errors import FabricError
from fedledger.orgs.msp import MspFolderError
from fedledger.profile import ConnectionProfile, ProfileError
from fedledger.registry import Registry, RegistryError, open_registry
from fedledger.runtime.layout import RunLayout
from fedledger.store.base import ModelStore
from fedledger.store.errors import StoreError
from fedledger.store.factory import open_store

console = Console(stderr=True, soft_wrap=True)
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


def fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(1)


def load_profile(run_dir: Path, profile: Path | None) -> ConnectionProfile:
    try:
        return ConnectionProfile.load(profile or run_dir / "connection-profile.yaml")
    except ProfileError as error:
        fail(str(error))


def acting_org(loaded: ConnectionProfile, org: str | None) -> str:
    if org is None:
        return loaded.msp_ids[0]
    if org not in loaded.organizations:
        fail(f"no organisation {org} in the profile (known: {', '.join(loaded.msp_ids)})")
    return org


def model_store(run_dir: Path, location: str | None) -> ModelStore:
    try:
        return open_store(location or RunLayout(run_dir).store)
    except StoreError as error:
        fail(str(error))


@contextmanager
def registry_for(run_dir: Path, profile: Path | None, org: str | None) -> Iterator[Registry]:
    """A registry acting as `org`; ledger and chaincode errors end the command with a message."""
    loaded = load_profile(run_dir, profile)
    msp_id = acting_org(loaded, org)
    try:
        with open_registry(loaded, msp_id) as registry:
            yield registry
    except (RegistryError, FabricError, StoreError, MspFolderError, ProfileError) as error:
        fail(str(error))
