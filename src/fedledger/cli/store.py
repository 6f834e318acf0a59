"""`fedledger store`: check every object of the model store against its name, and remove the
objects no proposal on the ledger refers to (store/maintenance.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    StoreOption,
    fail,
    model_store,
    out,
    registry_for,
)
from fedledger.registry import Registry
from fedledger.store.maintenance import unreferenced, verify_objects

store_app = typer.Typer(
    help="Verify the model store and remove the objects no proposal refers to.",
    no_args_is_help=True,
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|m|h|d)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_grace(text: str) -> timedelta:
    """'90s', '30m', '24h', '7d' → a timedelta; ends the command naming --grace otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        fail(f"--grace {text!r} is not a duration like 30m, 24h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def referenced_models(registry: Registry) -> set[str]:
    """The SHA-256 of every model any proposal of any task names, whatever its status.

    The registry's and the ledger's errors (RegistryError, FabricError) go through."""
    return {
        proposal.model_sha256
        for task in registry.all_tasks()
        for proposal in registry.all_proposals(task_id=task.id)
    }


@store_app.command()
def verify(
    store: StoreOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Check that every object's bytes hash to its name.

    Lists each damaged or unreadable object with the hash its bytes have; exits 1 when there is
    one (`fedledger store` repairs nothing: put the intact model again, e.g. by proposing it,
    and the store replaces the damaged object).
    """
    opened = model_store(run_dir, store)
    checked = damaged = 0
    for check in verify_objects(opened):
        checked += 1
        if check.actual is None:
            out.print(f"UNREADABLE {check.stored.uri}: {check.problem}")
        elif not check.intact:
            out.print(f"DAMAGED {check.stored.uri}: its bytes have SHA-256 {check.actual}")
        damaged += not check.intact
    out.print(f"{checked} objects checked in {opened!r}, {damaged} damaged or unreadable")
    if damaged:
        raise typer.Exit(1)


@store_app.command()
def gc(
    grace: Annotated[
        str,
        typer.Option(
            help="Keep an unreferenced object written (or put again) less than this long ago: "
            "it may belong to a proposal on its way to the ledger (30m, 24h, 7d).",
        ),
    ] = "24h",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    store: StoreOption = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Remove the objects that no proposal on the ledger refers to, after a grace period.

    Every proposal of every task counts, whatever its status (an EXPIRED proposal may be
    proposed again). Only for a store that serves this ledger alone.
    """
    period = parse_grace(grace)
    opened = model_store(run_dir, store)
    with registry_for(run_dir, profile, org) as registry:
        keep = referenced_models(registry)
    now = datetime.now(UTC)
    removed = 0
    for stored in unreferenced(opened, keep, grace=period, now=now):
        age = _age(now - stored.modified)
        if not dry_run:
            opened.delete(stored.sha256)
        verb = "would remove" if dry_run else "removed"
        out.print(f"{verb} {stored.uri} ({stored.size:,} bytes, written {age} ago)")
        removed += 1
    verb = "would be removed" if dry_run else "removed"
    out.print(
        f"{removed} unreferenced objects older than {grace} {verb}; "
        f"{len(keep)} models are referenced by proposals"
    )


def _age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
