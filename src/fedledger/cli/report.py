"""`fedledger report`: the dashboard's views of a task as one self-contained HTML file, for a
model-risk review (docs/dashboard.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    acting_org,
    console,
    load_profile,
)
from fedledger.cli.failures import fail


def report(
    task_id: Annotated[str, typer.Option("--task", help="Task id.")],
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Write a task's proposals, scores, cross-site matrix and audit trail as one HTML file.

    Plots are inline SVG and styles inline CSS: the file makes no request when opened. Every
    number is read from the ledger as the acting organisation sees it.
    """
    from fedledger.audit import open_audit_ledger
    from fedledger.dashboard import read_view, report_page

    if not out_file.parent.is_dir():
        fail(f"--out {out_file}: no folder {out_file.parent}; create it or write elsewhere")
    loaded = load_profile(run_dir, profile)
    with open_audit_ledger(loaded, acting_org(loaded, org)) as ledger:
        view = read_view(ledger, task_id)
    try:
        out_file.write_text(report_page(view), encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {out_file}: {error.strerror}")
    console.print(
        f"wrote the report of task {task_id} ({len(view.timeline)} proposals, "
        f"{len(view.audit)} events through block {view.through_block}) to {out_file}",
        highlight=False,
        markup=False,
    )
