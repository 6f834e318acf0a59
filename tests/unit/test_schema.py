"""Schema: shared hash vectors, strict parsing, file validation and sanitisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fedledger.schema.sanitise import normalise_categories, sanitise_frame
from fedledger.schema.types import Schema, SchemaError
from fedledger.schema.validate import SchemaValidationError, validate_file, validate_frame

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "testdata" / "schema-vectors.json").read_text("utf-8")
)


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors_encode_and_hash_exactly(vector: dict[str, Any]) -> None:
    schema = Schema.from_dict(vector["schema"])
    assert schema.canonical_json() == vector["canonical"].encode("utf-8")
    assert schema.sha256() == vector["sha256"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors_are_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(SchemaError):
        Schema.from_dict(vector["schema"])


X = {"name": "x", "type": "float"}
Y = {"name": "y", "type": "float"}


@pytest.mark.parametrize(
    ("feature", "target", "message"),
    [
        ({**X, "unit": "m"}, Y, "unknown field"),
        (X, {**Y, "type": "int"}, "use 'float' for regression"),
        ({**X, "nullable": "yes"}, Y, "nullable must be true or false"),
        ({**X, "type": "category"}, Y, "categories is required"),
        (X, None, "target is required"),
        (X, {**Y, "classes": ["a", "b"]}, "only allowed on a category target"),
        ({**X, "type": "category", "categories": ["a", 1]}, Y, "list of strings"),
        ({**X, "type": "category", "categories": ["\ud800"]}, Y, "lone surrogate"),
    ],
)
def test_schema_errors_name_the_field(
    feature: dict[str, Any], target: dict[str, Any] | None, message: str
) -> None:
    doc: dict[str, Any] = {"features": [feature]}
    if target is not None:
        doc["target"] = target
    with pytest.raises(SchemaError, match=message):
        Schema.from_dict(doc)


def test_round_trip_through_canonical_json() -> None:
    schema = Schema.from_dict(VECTORS["valid"][0]["schema"])
    again = Schema.from_json(schema.canonical_json())
    assert again == schema
    assert again.sha256() == schema.sha256()
    assert schema.feature_names == ("funded_amnt", "term", "delinq_2yrs", "annual_inc")


@pytest.fixture
def schema() -> Schema:
    return Schema.from_dict(
        {
            "features": [
                {"name": "amount", "type": "float"},
                {"name": "income", "type": "float", "nullable": True},
                {"name": "delinq", "type": "int"},
                {"name": "country", "type": "category", "categories": ["BR", "DE", "NA"]},
            ],
            "target": {"name": "Class", "type": "category", "classes": ["bad", "good"]},
        }
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": [1000.0, 2500.5, 300.0],
            "income": [50_000.0, np.nan, 42_000.0],
            "delinq": [0, 2, 1],
            "country": ["BR", "DE", "NA"],
            "Class": ["good", "bad", "good"],
        }
    )


def test_conforming_frame_has_no_problems(schema: Schema) -> None:
    report = validate_frame(_frame(), schema)
    assert report.ok
    assert report.rows == 3
    report.raise_for_problems()


def test_every_problem_is_reported_at_once(schema: Schema) -> None:
    frame = _frame().drop(columns=["income"])
    frame["amount"] = [1.0, np.nan, np.inf]
    frame["delinq"] = [0.0, 1.5, 2.0]
    frame["country"] = ["BR", "XX", "YY"]
    frame["Class"] = ["good", "meh", "bad"]
    report = validate_frame(frame, schema)
    by_kind = {(p.kind, p.column): p for p in report.problems}
    assert set(by_kind) == {
        ("missing_column", "income"),
        ("null_not_allowed", "amount"),
        ("non_finite", "amount"),
        ("wrong_type", "delinq"),
        ("unknown_category", "country"),
        ("unknown_class", "Class"),
    }
    assert by_kind[("unknown_category", "country")].examples == ("XX", "YY")
    assert by_kind[("unknown_category", "country")].count == 2
    with pytest.raises(SchemaValidationError, match="missing column 'income'") as info:
        report.raise_for_problems("holdout.csv")
    assert info.value.report is report


def test_text_in_numeric_column_is_wrong_type(schema: Schema) -> None:
    frame = _frame()
    frame["amount"] = ["1000", "lots", "3"]
    report = validate_frame(frame, schema)
    [problem] = report.problems
    assert problem.kind == "wrong_type"
    assert problem.examples == ("lots",)


def test_row_count_and_missing_target(schema: Schema) -> None:
    frame = _frame().drop(columns=["Class"])
    assert validate_frame(frame, schema, require_target=False).ok
    report = validate_frame(frame, schema, min_rows=10)
    assert report.kinds() == {"row_count", "missing_column"}


def test_csv_keeps_category_text_and_parquet_round_trips(schema: Schema, tmp_path: Path) -> None:
    csv = tmp_path / "data.csv"
    _frame().to_csv(csv, index=False)
    frame, report = validate_file(csv, schema)
    assert report.ok, report.problems
    assert list(frame["country"]) == ["BR", "DE", "NA"]  # "NA" is Namibia, not a missing value
    assert frame["income"].isna().sum() == 1
    parquet = tmp_path / "data.parquet"
    _frame().to_parquet(parquet)
    _, report = validate_file(parquet, schema)
    assert report.ok


def test_unreadable_file_is_a_problem_not_a_crash(schema: Schema, tmp_path: Path) -> None:
    _, report = validate_file(tmp_path / "absent.csv", schema)
    assert report.kinds() == {"unreadable"}
    _, report = validate_file(tmp_path / "data.xlsx", schema)
    assert report.kinds() == {"unreadable"}


def test_normalise_categories_trims_and_folds_case() -> None:
    values = pd.Series([" br", "De ", "NA", None, "xx", "Na"])
    out = normalise_categories(values, ["BR", "DE", "NA"])
    assert out.tolist() == ["BR", "DE", "NA", pd.NA, "xx", "NA"]


def test_normalise_categories_leaves_ambiguous_case_alone() -> None:
    out = normalise_categories(pd.Series(["a", "A", "aa"]), ["a", "A", "AA"])
    assert out.tolist() == ["a", "A", "AA"]


def test_sanitise_frame_fixes_common_cases_then_validates(schema: Schema) -> None:
    frame = _frame()
    frame.columns = [f" {c} " for c in frame.columns]
    frame[" country "] = ["br ", " de", "na"]
    frame[" amount "] = [" 1000", "2500.5 ", "300"]
    frame[" Class "] = ["GOOD", "Bad", "good"]
    clean = sanitise_frame(frame, schema)
    assert validate_frame(clean, schema).ok
    assert clean["country"].tolist() == ["BR", "DE", "NA"]
    assert clean["amount"].tolist() == [1000.0, 2500.5, 300.0]


def test_sanitise_frame_keeps_unparseable_numbers_for_validation(schema: Schema) -> None:
    frame = _frame()
    frame["amount"] = ["1", "two", "3"]
    clean = sanitise_frame(frame, schema)
    assert validate_frame(clean, schema).kinds() == {"wrong_type"}
