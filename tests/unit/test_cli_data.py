"""`task init`, `data check` and `data sanitise` as a user types them: relative paths, in the
folder that holds the files, with a task file (offline)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner, Result

from fedledger.cli.app import app
from fedledger.schema.draft import DraftError, draft_task, task_id_from
from fedledger.schema.task_file import read_task_file

runner = CliRunner()

TRAIN = """loan_id,country,income,age,has_mortgage,segment,flag,Class
1,Brazil,1200.5,34,yes,retail,0,good
2,United States,300,45,no,Retail,1,bad
3,BR,,51,yes,corporate,0,good
4,us,800,29,no,retail,1,good
5,BRA,950.25,38,yes,retail,0,bad
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.csv").write_text(TRAIN)
    return tmp_path


def fedledger(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_task_init_drafts_a_task_file_that_validates(folder: Path) -> None:
    made = fedledger("task", "init", "--from", "train.csv", "--target", "Class")
    assert made.exit_code == 0, made.output
    assert "wrote task.yaml: 7 features; 7 things to decide" in made.output
    text = (folder / "task.yaml").read_text()
    assert "#   income: float, observed 300 to 1200.5, 1 missing\n" in text
    assert "#   loan_id: every value differs, as in an identifier; remove it\n" in text
    assert "#   flag: only 0 and 1 seen; declare type: bool if it is a yes/no\n" in text
    assert "the last (good) is the positive class" in text
    doc = yaml.safe_load(text)
    assert doc["id"] == "train"
    assert doc["metric"] == "roc_auc"
    features = {f["name"]: f for f in doc["schema"]["features"]}
    assert features["country"] == {
        "name": "country",
        "type": "category",
        "categories": ["BR", "US"],
        "format": "iso3166-alpha2",
    }
    assert features["segment"]["categories"] == ["corporate", "retail"]
    assert features["has_mortgage"]["type"] == "bool"
    assert features["income"] == {"name": "income", "type": "float", "nullable": True}
    assert features["age"]["type"] == "int"
    assert doc["schema"]["target"] == {
        "name": "Class",
        "type": "category",
        "classes": ["bad", "good"],
    }
    assert read_task_file(Path("task.yaml")).ok
    validated = fedledger("task", "validate", "task.yaml")
    assert validated.exit_code == 0, validated.output


def test_task_init_refuses_to_overwrite_and_names_a_missing_target(folder: Path) -> None:
    (folder / "task.yaml").write_text("mine")
    kept = fedledger("task", "init", "--from", "train.csv", "--target", "Class")
    assert kept.exit_code == 1
    assert "--out task.yaml exists: remove it, choose another name, or pass --overwrite" in (
        kept.output
    )
    assert (folder / "task.yaml").read_text() == "mine"
    wrong = fedledger("task", "init", "--from", "train.csv", "--target", "y", "--out", "t.yaml")
    assert wrong.exit_code == 1
    assert "train.csv has no column 'y' for --target (columns: loan_id, country" in wrong.output
    assert not (folder / "t.yaml").exists()


def test_task_init_with_an_unfit_metric_writes_nothing(folder: Path) -> None:
    made = fedledger("task", "init", "--from", "train.csv", "--target", "Class", "--metric", "rmse")
    assert made.exit_code == 1
    assert "the draft is not a valid task file, nothing was written: metric rmse is a " in (
        made.output
    )
    assert not (folder / "task.yaml").exists()


def test_check_then_sanitise_then_check(folder: Path) -> None:
    assert fedledger("task", "init", "--from", "train.csv", "--target", "Class").exit_code == 0
    checked = fedledger("data", "check", "--task", "task.yaml", "train.csv")
    assert checked.exit_code == 1
    lines = checked.stdout.splitlines()
    assert lines[0] == "row 2, country 'Brazil' -> 'BR' (country name to alpha-2)"
    assert lines[-1] == (
        "train.csv: 5 rows; 0 value(s) cannot be used (0 rows), 10 value(s) `fedledger data "
        "sanitise` would normalise"
    )
    bounded = fedledger("data", "check", "--task", "task.yaml", "train.csv", "--limit", "3")
    assert bounded.stdout.splitlines()[3:] == [
        "... 7 more not listed (--limit 3; --limit 0 lists all)",
        lines[-1],
    ]
    cleaned = fedledger(
        "data", "sanitise", "--task", "task.yaml", "train.csv", "--out", "clean.csv"
    )
    assert cleaned.exit_code == 0, cleaned.output
    assert cleaned.stdout.splitlines()[:2] == [
        "wrote clean.csv: 5 rows, 10 values changed:",
        "  country: alpha-3 code to alpha-2: 1",
    ]
    assert (folder / "train.csv").read_text() == TRAIN
    again = fedledger("data", "check", "--task", "task.yaml", "clean.csv")
    assert again.exit_code == 0, again.output
    assert again.stdout == "clean.csv: 5 rows, all in the task's agreed shape\n"


def test_sanitise_refusal_lists_the_rows_and_writes_nothing(folder: Path) -> None:
    assert fedledger("task", "init", "--from", "train.csv", "--target", "Class").exit_code == 0
    (folder / "new.csv").write_text(TRAIN.replace("2,United States", "2,France"))
    refused = fedledger("data", "sanitise", "--task", "task.yaml", "new.csv", "--out", "o.csv")
    assert refused.exit_code == 1
    assert "  row 3, country 'France': the country FR is not one of the categories (BR, US)" in (
        refused.output
    )
    assert "error: new.csv: 1 row(s) have values that cannot be normalised (rows 3)" in (
        refused.output
    )
    assert not (folder / "o.csv").exists()
    aside = fedledger(
        "data",
        "sanitise",
        "--task",
        "task.yaml",
        "new.csv",
        "--out",
        "o.csv",
        "--rejects",
        "r.csv",
    )
    assert aside.exit_code == 0, aside.output
    assert "set aside 1 row(s) that cannot be normalised in r.csv" in aside.stdout
    assert len((folder / "o.csv").read_text().splitlines()) == 5


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            "nothere.yaml",
            "error: --task nothere.yaml: no such task file (a task id on the ledger "
            "has no file suffix)",
        ),
        ("bad.yaml", "error: --task bad.yaml: not a valid task file: metric is required"),
    ],
)
def test_a_task_file_that_is_missing_or_invalid(folder: Path, task: str, message: str) -> None:
    (folder / "bad.yaml").write_text(
        "id: x\nschema: {features: [{name: a, type: float}], target: {name: y, type: float}}\n"
    )
    result = fedledger("data", "check", "--task", task, "train.csv")
    assert result.exit_code == 1
    assert message in result.output


def test_a_task_id_without_a_network_names_the_missing_profile(folder: Path) -> None:
    result = fedledger("data", "check", "--task", "credit-1", "train.csv")
    assert result.exit_code == 1
    assert "error: " in result.output
    assert "connection-profile.yaml" in result.output


def test_draft_errors() -> None:
    with pytest.raises(DraftError) as one_class:
        draft_task(pd.DataFrame({"x": ["1", "2"], "y": ["a", "a"]}), "y", "t", None, "f.csv")
    assert str(one_class.value) == (
        "target y has 1 distinct value(s); a classification target needs two classes, and a "
        "numeric target more than that"
    )
    with pytest.raises(DraftError) as no_feature:
        draft_task(pd.DataFrame({"bad name": ["1"], "y": ["a"]}), "y", "t", None, "f.csv")
    assert str(no_feature.value) == "f.csv: no column besides 'y' can be a feature"


@pytest.mark.parametrize(
    ("stem", "task_id"),
    [("train", "train"), ("bank data 2026", "bank-data-2026"), ("__x", "x"), ("", "task")],
)
def test_task_id_from_file_name(stem: str, task_id: str) -> None:
    assert task_id_from(stem) == task_id


def test_an_existing_file_without_a_suffix_is_a_task_file(folder: Path) -> None:
    assert fedledger("task", "init", "--from", "train.csv", "--target", "Class").exit_code == 0
    (folder / "task.yaml").rename(folder / "loans-task")
    result = fedledger("data", "check", "--task", "loans-task", "train.csv", "--limit", "1")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == (
        "row 2, country 'Brazil' -> 'BR' (country name to alpha-2)"
    )


def test_a_few_odd_cells_do_not_turn_a_number_or_country_column_into_text() -> None:
    """A float column with one 'n/a' stays a float and a country column with one unknown
    country stays a country: the odd cells are named for the members to fix."""
    rows = 100
    frame = pd.DataFrame(
        {
            "income": [f"{1000 + i * 7.5}" for i in range(rows - 1)] + ["n/a"],
            "country": ["Brazil", "BRA", " br ", "Germany"] * 24 + ["US", "PT", "GB", "Atlantis"],
            "y": ["no", "yes"] * (rows // 2),
        }
    )
    draft = draft_task(frame, "y", "t", None, "f.csv")
    income, country = draft.document["schema"]["features"]
    assert income == {"name": "income", "type": "float"}
    assert country == {
        "name": "country",
        "type": "category",
        "categories": ["BR", "DE", "GB", "PT", "US"],
        "format": "iso3166-alpha2",
    }
    assert (
        "income: drafted as numbers, but 1 value(s) are not: 'n/a'; `fedledger data check` "
        "lists their rows (fix them, or declare nullable: true for blanks)"
    ) in draft.decide
    assert any(
        d.startswith("country: drafted as ISO 3166 countries, but 1 value(s) are not: 'Atlantis'")
        for d in draft.decide
    )


def test_a_column_of_mostly_text_is_not_drafted_as_numbers() -> None:
    frame = pd.DataFrame({"code": ["A1", "B2", "7"] * 10, "y": ["no", "yes", "no"] * 10})
    (code,) = draft_task(frame, "y", "t", None, "f.csv").document["schema"]["features"]
    assert code["type"] == "category"
    assert code["categories"] == ["7", "A1", "B2"]


def test_rows_to_score_need_no_target(folder: Path) -> None:
    """A file without the target column is rows to score: checked and sanitised without it."""
    assert fedledger("task", "init", "--from", "train.csv", "--target", "Class").exit_code == 0
    header, *rows = TRAIN.splitlines()
    columns = header.split(",")
    keep = [i for i, name in enumerate(columns) if name != "Class"]
    (folder / "new.csv").write_text(
        "\n".join(",".join(line.split(",")[i] for i in keep) for line in [header, *rows]) + "\n"
    )
    cleaned = fedledger("data", "sanitise", "--task", "task.yaml", "new.csv", "--out", "ok.csv")
    assert cleaned.exit_code == 0, cleaned.output
    assert "Class" not in (folder / "ok.csv").read_text().splitlines()[0]
    checked = fedledger("data", "check", "--task", "task.yaml", "ok.csv")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout == "ok.csv: 5 rows, all in the task's agreed shape\n"
