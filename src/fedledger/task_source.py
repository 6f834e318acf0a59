"""Where a command's `--task T` comes from (docs/bring-your-own-model.md, "Which task").

A value ending in .yaml, .yml or .json is a task file (docs/task-file.md), read offline; any
other value is a task id, read from the ledger. Both give the evaluator's view of the task:
its id, schema and policy.
"""

from __future__ import annotations

from pathlib import Path

from fedledger.evaluate.policy import Task, TaskPolicy
from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.task_file import read_task_file

TASK_FILE_SUFFIXES = (".yaml", ".yml", ".json")


class TaskFileError(TaskSchemaError):
    """The task file given as `--task` cannot be read or breaks a rule; lists every problem."""


def is_task_file(value: str) -> bool:
    return Path(value).suffix.lower() in TASK_FILE_SUFFIXES


def task_from_file(path: Path) -> Task:
    """The task a task file describes, checked as `fedledger task validate` checks it.

    Raises TaskFileError listing every problem. Members do not matter to a model's checks, so
    a file without them is fine here.
    """
    check = read_task_file(path, default_members=None)
    if check.spec is None or not check.ok:
        raise TaskFileError(
            f"task file {path}: "
            + "; ".join(check.problems)
            + " (fedledger task validate lists them by field)"
        )
    spec = check.spec
    policy = TaskPolicy(
        metric=spec.metric,
        higher_is_better=spec.higher_is_better,
        min_score=spec.policy["minScore"],
        max_regression=spec.policy["maxRegression"],
        max_model_bytes=spec.policy["maxModelBytes"],
    )
    return Task(spec.id, spec.schema, policy)
