"""A ledger task as the evaluation engine needs it: the agreed schema and the task's policy."""

from __future__ import annotations

from fedledger.evaluate.policy import Task as EvaluationTask
from fedledger.evaluate.policy import TaskPolicy
from fedledger.registry.errors import RegistryError
from fedledger.registry.records import Policy, Task
from fedledger.schema.types import Schema


class SchemaHashMismatchError(RegistryError):
    """The task's schema, encoded here, does not hash to what the chaincode recorded: this
    package and the chaincode disagree on the canonical encoding (a version skew), which is
    never the fault of a model evaluated against that schema."""

    def __init__(self, task_id: str, computed: str, recorded: str) -> None:
        self.task_id = task_id
        self.computed = computed
        self.recorded = recorded
        super().__init__(
            f"task {task_id}: the schema on the ledger hashes to {computed} here but the "
            f"chaincode recorded {recorded}; the two canonical encodings disagree"
        )


def evaluation_task(task: Task, policy: Policy | None = None) -> EvaluationTask:
    """The evaluator's view of `task` under `policy` (a proposal's own; default the task's);
    its schema must hash to what the chaincode recorded (SchemaHashMismatchError if not)."""
    policy = policy or task.policy
    schema = Schema.from_dict(task.schema)
    if schema.sha256() != task.schema_sha256:
        raise SchemaHashMismatchError(task.id, schema.sha256(), task.schema_sha256)
    rules = TaskPolicy(
        metric=task.metric,
        higher_is_better=task.higher_is_better,
        min_score=policy.min_score,
        max_regression=policy.max_regression,
        max_model_bytes=policy.max_model_bytes,
    )
    return EvaluationTask(task.id, schema, rules)
