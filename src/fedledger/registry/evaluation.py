"""A ledger task as the evaluation engine needs it: the agreed schema and the task's policy."""

from __future__ import annotations

from fedledger.evaluate.policy import Task as EvaluationTask
from fedledger.evaluate.policy import TaskPolicy
from fedledger.registry.records import Policy, Task
from fedledger.schema.types import Schema


def evaluation_task(task: Task, policy: Policy | None = None) -> EvaluationTask:
    """The evaluator's view of `task` under `policy` (a proposal's own; default the task's);
    its schema must hash to what the chaincode recorded."""
    policy = policy or task.policy
    schema = Schema.from_dict(task.schema)
    if schema.sha256() != task.schema_sha256:
        raise ValueError(
            f"task {task.id}: the schema on the ledger hashes to {schema.sha256()} here but the "
            f"chaincode recorded {task.schema_sha256}; the two canonical encodings disagree"
        )
    rules = TaskPolicy(
        metric=task.metric,
        higher_is_better=task.higher_is_better,
        min_score=policy.min_score,
        max_regression=policy.max_regression,
        max_model_bytes=policy.max_model_bytes,
    )
    return EvaluationTask(task.id, schema, rules)
