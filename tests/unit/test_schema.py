"""Schema: shared hash vectors, strict parsing, file validation and sanitisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fedledger.schema.conform import conform_file
from fedledger.schema.text import MISSING, js_number, show
from fedledger.schema.types import Feature, Schema, SchemaError, Target
from fedledger.schema.validate import SchemaValidationError, validate_frame

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "testdata" / "schema-vectors.json").read_text("utf-8")
)


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors_encode_and_hash_exactly(vector: dict[str, Any]) -> None:
    schema = Schema.from_dict(vector["schema"])
    assert schema.canonical_json() == vector["canonical"].encode("utf-8")
    assert schema.sha256() == vector["sha256"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors_are_refused_with_the_chaincodes_words(vector: dict[str, Any]) -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(vector["schema"])
    assert info.value.problems == (vector["error"],)
    assert str(info.value) == vector["error"]


def test_vectors_cover_bool_features() -> None:
    bool_valid = [v for v in VECTORS["valid"] if '"type":"bool"' in v["canonical"]]
    assert bool_valid
    schema = Schema.from_dict(bool_valid[0]["schema"])
    assert [f.type for f in schema.features].count("bool") == 2
    assert all(f.is_numeric for f in schema.features if f.type == "bool")
    names = {v["name"] for v in VECTORS["invalid"]}
    assert {"categories on a bool feature", "class labels written as numbers"} <= names


X = {"name": "x", "type": "float"}
Y = {"name": "y", "type": "float"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "schema must be an object with features and target, got an array"),
        (
            {"features": [X], "target": Y, "extra": 1},
            "unknown field schema.extra (allowed: features, target)",
        ),
        (
            {"features": [{**X, "type": "Float"}], "target": Y},
            'schema.features[0].type must be one of float, int, bool, category, got "Float"; '
            "use float",
        ),
        (
            {"features": [{"name": "x"}], "target": Y},
            "schema.features[0].type must be one of float, int, bool, category, got nothing",
        ),
        (
            {"features": [{**X, "type": "category", "categories": "a, b"}], "target": Y},
            'schema.features[0].categories must be a list of strings, got "a, b"',
        ),
        (
            {"features": [{**X, "type": "category", "categories": ["a", "b" * 257]}], "target": Y},
            "schema.features[0].categories[1] is 257 characters, over the limit of 256",
        ),
        (
            {"features": [{**X, "type": "category", "categories": ["\ud800"]}], "target": Y},
            "schema.features[0].categories[0] is not valid Unicode text (lone surrogate)",
        ),
        (
            {"features": [{**X, "name": "x" * 129}], "target": Y},
            "schema.features[0].name is 129 characters, over the limit of 128",
        ),
        (
            {"features": [X], "target": {**Y, "type": "category", "classes": [False, True]}},
            "schema.target.classes[0] must be a string, got false; class labels are strings, "
            'so quote them: classes: ["false", "true"]',
        ),
        (
            {"features": [X], "target": {**Y, "type": "category", "classes": [0, 1, 2, 3, 4, 5]}},
            "schema.target.classes[0] must be a string, got 0; class labels are strings, "
            'so quote them: classes: ["0", "1", "2", "3", "4", ...]',
        ),
        (
            {"features": [X], "target": {**Y, "type": "category", "classes": ["a", {"b": 1}]}},
            "schema.target.classes[1] must be a string, got an object; class labels are strings",
        ),
        (
            {"features": [X], "target": {"type": "float"}},
            "schema.target.name must be a non-empty string, got nothing",
        ),
        (
            {"features": [X], "target": "y"},
            'schema.target must be an object with name and type, got "y"',
        ),
    ],
)
def test_schema_errors_name_the_field_and_the_fix(doc: Any, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(doc)
    assert info.value.problems == (message,)


def test_every_schema_problem_is_reported_at_once() -> None:
    doc = {
        "features": [
            {"name": "a b", "type": "float"},
            {"name": "paid", "type": "bool", "categories": ["n", "y"]},
            {"name": "grade", "type": "category"},
        ],
        "target": {"name": "y", "type": "bool"},
    }
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(doc)
    assert [p.split(" ")[0] for p in info.value.problems] == [
        "schema.features[0].name",
        "schema.features[1].categories",
        "schema.features[2].categories",
        "schema.target.type",
    ]
    assert str(info.value) == "; ".join(info.value.problems)


def test_schemas_built_directly_are_checked_too() -> None:
    with pytest.raises(SchemaError, match=r"schema\.features\[0\]\.type must be one of"):
        Schema((Feature("x", "string"),), Target("y", "float"))  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="only allowed on category features"):
        Schema((Feature("x", "bool", categories=("a",)),), Target("y", "float"))
    with pytest.raises(SchemaError, match="only allowed on a category target"):
        Schema((Feature("x", "bool"),), Target("y", "float", classes=("a", "b")))


def test_text_rendering_follows_javascript() -> None:
    assert [js_number(v) for v in (1.0, 0.5, 1e-7, 1e21, 123456789012.0, -2.5e-6, 1e-6)] == [
        "1",
        "0.5",
        "1e-7",
        "1e+21",
        "123456789012",
        "-0.0000025",
        "0.000001",
    ]
    assert show("x" * 100) == '"' + "x" * 76 + "..."
    assert show(MISSING) == "nothing"
    assert show(None) == "null"


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
    conformed = conform_file(csv, schema)
    assert not conformed.refused, conformed.describe_refusals()
    frame = conformed.typed_frame()
    assert list(frame["country"]) == ["BR", "DE", "NA"]  # "NA" is Namibia, not a missing value
    assert frame["income"].isna().sum() == 1
    parquet = tmp_path / "data.parquet"
    _frame().to_parquet(parquet)
    assert not conform_file(parquet, schema).refused


@pytest.fixture
def bool_schema() -> Schema:
    return Schema.from_dict(
        {
            "features": [
                {"name": "amount", "type": "float"},
                {"name": "paid", "type": "bool"},
                {"name": "joint", "type": "bool", "nullable": True},
                {"name": "delinq", "type": "int"},
            ],
            "target": {"name": "Class", "type": "category", "classes": ["bad", "good"]},
        }
    )


def test_csv_bool_column_reads_true_false_1_0_in_any_case(
    bool_schema: Schema, tmp_path: Path
) -> None:
    csv = tmp_path / "data.csv"
    csv.write_text(
        "amount,paid,joint,delinq,Class\n"
        "1.5,true, FALSE ,0,good\n"
        "2.5,TRUE,,1,bad\n"
        "3.5, 1 ,0,2,good\n"
        "4.5,False,True,0,bad\n"
        "5.5,0,1,0,good\n"
    )
    conformed = conform_file(csv, bool_schema)
    assert not conformed.refused, conformed.describe_refusals()
    frame = conformed.typed_frame()
    assert frame["paid"].tolist() == [True, True, True, False, False]
    assert frame["joint"].tolist()[:2] == [False, pd.NA]
    assert str(frame["paid"].dtype) == "boolean"


def test_parquet_booleans_are_taken_as_they_are(bool_schema: Schema, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.0, 2.0],
            "paid": [True, False],
            "joint": pd.array([None, True], dtype="boolean"),
            "delinq": [0, 1],
            "Class": ["good", "bad"],
        }
    )
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    conformed = conform_file(path, bool_schema)
    assert not conformed.refused, conformed.describe_refusals()
    assert conformed.typed_frame()["paid"].tolist() == [True, False]


def test_numbers_0_and_1_pass_for_a_bool_feature_others_do_not(bool_schema: Schema) -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.0, 2.0, 3.0],
            "paid": [1, 0, 1],
            "joint": [0.0, np.nan, 3.0],
            "delinq": [0, 1, 2],
            "Class": ["good", "bad", "good"],
        }
    )
    report = validate_frame(frame, bool_schema)
    [problem] = report.problems
    assert problem.message == (
        "column 'joint' (schema.features[2] is bool) has 1 value(s) that are not true, false, "
        "1 or 0: row 3: 3.0; write each as one of those"
    )


def test_int_column_holding_booleans_says_to_declare_bool(bool_schema: Schema) -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.0, 2.0],
            "paid": [True, False],
            "joint": [True, False],
            "delinq": [True, False],
            "Class": ["good", "bad"],
        }
    )
    [problem] = validate_frame(frame, bool_schema).problems
    assert problem.kind == "wrong_type"
    assert problem.message == (
        "column 'delinq' holds booleans (e.g. ['True', 'False']) but schema.features[3].type "
        "is int; declare the feature as type: bool"
    )


def test_data_messages_name_the_schema_field(schema: Schema) -> None:
    frame = _frame()
    frame["delinq"] = [0.0, 1.5, 2.0]
    frame["amount"] = [1.0, np.nan, np.inf]
    frame = frame.drop(columns=["Class"])
    report = validate_frame(frame, schema)
    assert [p.message for p in report.problems] == [
        "column 'amount' has 1 missing value(s) (rows 2); schema.features[0].nullable is false: "
        "fill them in or declare the feature nullable: true",
        "column 'amount' has 1 infinite value(s); schema.features[0] takes finite numbers only",
        "column 'delinq' should be int but has 1 fractional value(s), e.g. ['1.5']; declare "
        "schema.features[2] as type: float, or round them",
        "missing target column 'Class' (schema.target.name); the data has columns "
        "['amount', 'income', 'delinq', 'country']",
    ]
