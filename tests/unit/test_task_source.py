"""`--task`: an existing file or a name ending in .yaml/.yml/.json is a task file, read offline;
any other value is a task id."""

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
def test_a_suffix_says_task_file(value: str, is_file: bool) -> None:
    assert is_task_file(value) is is_file


def test_an_existing_file_without_a_suffix_is_a_task_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("credit.v2").write_text("id: credit.v2\n")
    assert is_task_file("credit.v2")


def test_a_task_file_gives_its_id_schema_and_policy(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    document = {
        "id": "loans-1",
        "metric": "log_loss",
        "policy": {"minScore": 0.5, "maxRegression": 0.01, "maxModelBytes": 1000},
        "schema": SCHEMA.to_dict(),
    }
    path.write_text(yaml.safe_dump(document))
    task = task_from_file(str(path))
    assert (task.task_id, task.schema.sha256()) == ("loans-1", SCHEMA.sha256())
    policy = task.policy
    assert (policy.metric, policy.higher_is_better) == ("log_loss", False)
    assert (policy.min_score, policy.max_regression, policy.max_model_bytes) == (0.5, 0.01, 1000)


def test_a_wrong_task_file_lists_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump({"id": "loans-1", "metric": "auc", "schema": SCHEMA.to_dict()}))
    with pytest.raises(TaskFileError) as refused:
        task_from_file(str(path))
    assert str(refused.value) == (
        f"--task {path}: not a valid task file: metric must be one of roc_auc, accuracy, f1, "
        'log_loss, rmse, mae, r2, got "auc"; did you mean roc_auc?'
    )


def test_a_missing_task_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError) as refused:
        task_from_file(str(tmp_path / "nowhere.yaml"))
    assert str(refused.value) == (
        f"--task {tmp_path / 'nowhere.yaml'}: no such task file (a task id on the ledger has "
        "no file suffix)"
    )
