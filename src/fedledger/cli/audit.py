"""`fedledger audit`: a task's complete history for an auditor, and checking one against the
ledger (docs/governance.md#audit-export)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    acting_org,
    console,
    load_profile,
    out,
)

audit_app = typer.Typer(
    help="Export a task's complete history and verify an export against the ledger.",
    no_args_is_help=True,
)


class Format(StrEnum):
    json = "json"
    csv = "csv"


@audit_app.command()
def export(
    task_id: Annotated[str, typer.Option("--task", help="Task id.")],
    format: Annotated[Format, typer.Option("--format", help="json or csv.")] = Format.json,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of standard output.")
    ] = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Every proposal, vote, decision and change of a task, with blocks and transaction ids."""
    from fedledger.audit import open_audit_ledger, to_csv, to_json

    loaded = load_profile(run_dir, profile)
    with open_audit_ledger(loaded, acting_org(loaded, org)) as ledger:
        rows = ledger.rows(task_id)
        text = (
            to_json(task_id, ledger.channel, ledger.chaincode, rows)
            if format is Format.json
            else to_csv(rows)
        )
    if out_file is None:
        typer.echo(text, nl=False)
        return
    out_file.write_text(text, encoding="utf-8")
    console.print(
        f"wrote {len(rows)} events of task {task_id} to {out_file}", highlight=False, markup=False
    )


@audit_app.command()
def verify(
    export_file: Annotated[Path, typer.Argument(help="An export of `audit export`, JSON or CSV.")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Re-read every exported transaction from the ledger and report each difference."""
    from fedledger.audit import open_audit_ledger, read_export
    from fedledger.audit import verify as check

    exported = read_export(export_file)
    loaded = load_profile(run_dir, profile)
    with open_audit_ledger(loaded, acting_org(loaded, org)) as ledger:
        result = check(exported, ledger)
    newer = f"; {result.newer} later events are not in it" if result.newer else ""
    if result.ok:
        out.print(
            f"{export_file}: all {result.checked} events of task {exported.task_id} match the "
            f"ledger (valid transactions, blocks, times, records) and none is missing{newer}",
            highlight=False,
            markup=False,
        )
        return
    console.print(
        f"[red]error:[/red] {escape(str(export_file))}: {len(result.problems)} differences from "
        "the ledger",
        highlight=False,
    )
    for problem in result.problems:
        console.print(f"  - {problem}", highlight=False, markup=False)
    raise typer.Exit(1)
