"""`fedledger ledger`: check the embedded ledger's integrity."""

from __future__ import annotations

import typer

from fedledger.cli.common import DEFAULT_RUN_DIR, RunDir, console, out
from fedledger.embedded import verify_ledger

ledger_app = typer.Typer(help="Inspect the embedded ledger.", no_args_is_help=True)


@ledger_app.command()
def verify(run_dir: RunDir = DEFAULT_RUN_DIR) -> None:
    """Recompute the hash chain and the world state from the blocks; report the first mismatch."""
    report = verify_ledger(run_dir)
    if report.ok:
        out.print(report.summary())
        return
    console.print(f"[red]ledger verification failed:[/red] {report.summary()}")
    raise typer.Exit(1)
