"""`fedledger champion`: the champions a task has had, and what made each."""

from __future__ import annotations

from typing import Annotated

import typer

from fedledger.cli.common import DEFAULT_RUN_DIR, OrgOption, ProfileOption, RunDir, registry_for
from fedledger.cli.tasks import print_events

champion_app = typer.Typer(help="Follow a task's champions.", no_args_is_help=True)


@champion_app.command()
def history(
    task_id: Annotated[str, typer.Argument(help="Task id.")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Every champion of the task, oldest first: when, and by which decision or change."""
    from fedledger.audit.trail import causes, task_events

    with registry_for(run_dir, profile, org) as registry:
        events = task_events(registry, task_id)
    champions = [e for e in events if e.kind == "champion"]
    if not champions:
        typer.echo(f"task {task_id} has had no champion")
        return
    print_events(champions, causes(events))
