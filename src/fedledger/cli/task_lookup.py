"""`--task T` for the model commands: a task file for offline work, or a task id on the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fedledger.cli.common import fail, registry_for
from fedledger.profile import ProfileError
from fedledger.task_source import is_task_file, task_from_file

if TYPE_CHECKING:
    from fedledger.evaluate.policy import Task

TASK_RULE = (
    "A task file (a value ending in .yaml, .yml or .json, docs/task-file.md; read offline) or "
    "a task id (read from the ledger through the connection profile)."
)
TaskOption = Annotated[str, typer.Option("--task", help=TASK_RULE)]


def find_task(value: str, run_dir: Path, profile: Path | None, org: str | None) -> Task:
    """The task `value` names; a task id whose ledger cannot be reached ends the command
    with a hint to give the task file instead."""
    if is_task_file(value):
        return task_from_file(Path(value))
    from fedledger.registry.evaluation import evaluation_task

    try:
        with registry_for(run_dir, profile, org) as registry:
            return evaluation_task(registry.get_task(value))
    except ProfileError as error:
        fail(
            f"--task {value} is a task id, read from the ledger, but {error}; to work offline, "
            "give the task file instead (--task task.yaml)"
        )
