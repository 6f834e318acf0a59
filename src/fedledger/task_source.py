"""Where a command's `--task T` comes from (docs/data.md, "--task"; docs/bring-your-own-model.md).

A value that names an existing file, or ends in .yaml, .yml or .json, is a task file
(docs/task-file.md), read offline; any other value is a task id, read from the ledger. Both
give the evaluator's view of the task: its id, schema and policy.
"""

from __future__ import annotations

from pathlib import Path

from fedledger.evaluate.policy import Task, TaskPolicy
from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.task_file import read_task_file

TASK_FILE_SUFFIXES = (".yaml", ".yml", ".json")


class TaskFileError(TaskSchemaError):
    """The task file given as `--task` is missing or breaks a rule; lists every problem."""


def is_task_file(value: str) -> bool:
    path = Path(value)
    return path.is_file() or path.suffix.lower() in TASK_FILE_SUFFIXES


def task_from_file(value: str) -> Task:
    """The task the task file `value` describes, checked as `fedledger task validate` checks
    it. Raises TaskFileError for a missing file or listing every problem of a wrong one.
    Members do not matter to a model's or a data file's checks, so they may be left out."""
    path = Path(value)
    if not path.exists():
        raise TaskFileError(
            f"--task {value}: no such task file (a task id on the ledger has no file suffix)"
        )
    check = read_task_file(path)
    if check.spec is None or not check.ok:
        raise TaskFileError(f"--task {value}: not a valid task file: " + "; ".join(check.problems))
    spec = check.spec
    policy = TaskPolicy(
        metric=spec.metric,
        higher_is_better=spec.higher_is_better,
        min_score=spec.policy["minScore"],
        max_regression=spec.policy["maxRegression"],
        max_model_bytes=spec.policy["maxModelBytes"],
    )
    return Task(spec.id, spec.schema, policy)
