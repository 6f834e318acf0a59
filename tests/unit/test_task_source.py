"""`--task`: a value ending in .yaml/.yml/.json is a task file, read offline; others are ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fedledger.models.synthetic import synthetic_schema
from fedledger.task_source import TaskFileError, is_task_file, task_from_file

SCHEMA = synthetic_schema()


@pytest.mark.parametrize(
    ("value", "is_file"),
    [
        ("task.yaml", True),
        ("tasks/credit.YML", True),
        ("task.json", True),
        ("credit-risk-1", False),
        ("credit.v2", False),
    ],
)
def test_the_value_alone_says_file_or_id(value: str, is_file: bool) -> None:
    assert is_task_file(value) is is_file


def test_a_task_file_gives_its_id_schema_and_policy(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    document = {
        "id": "loans-1",
        "metric": "log_loss",
        "policy": {"minScore": 0.5, "maxRegression": 0.01, "maxModelBytes": 1000},
        "schema": SCHEMA.to_dict(),
    }
    path.write_text(yaml.safe_dump(document))
    task = task_from_file(path)
    assert (task.task_id, task.schema.sha256()) == ("loans-1", SCHEMA.sha256())
    policy = task.policy
    assert (policy.metric, policy.higher_is_better) == ("log_loss", False)
    assert (policy.min_score, policy.max_regression, policy.max_model_bytes) == (0.5, 0.01, 1000)


def test_a_wrong_task_file_lists_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump({"id": "loans-1", "metric": "auc", "schema": SCHEMA.to_dict()}))
    with pytest.raises(TaskFileError) as refused:
        task_from_file(path)
    assert str(refused.value) == (
        f"task file {path}: metric must be one of roc_auc, accuracy, f1, log_loss, rmse, mae, "
        'r2, got "auc"; did you mean roc_auc? (fedledger task validate lists them by field)'
    )


def test_a_missing_task_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError) as refused:
        task_from_file(tmp_path / "nowhere.yaml")
    assert str(refused.value) == (
        f"task file {tmp_path / 'nowhere.yaml'}: cannot read the task file: No such file or "
        "directory (fedledger task validate lists them by field)"
    )
