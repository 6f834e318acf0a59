"""The typed JSON decoder (serving/json_rows.py) against the path it shortcuts: for every body,
`read_feeds` with the decoder gives the same arrays, or the same refusal, as without it; and the
decoder takes exactly the bodies in the agreed shape."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from fedledger.models.inputs import NumericDType
from fedledger.schema.types import Schema
from fedledger.serving.errors import RowsError
from fedledger.serving.exact_rows import exact_feeds
from fedledger.serving.json_rows import JsonRowDecoder
from fedledger.serving.rows import read_feeds

SCHEMA = Schema.from_dict(
    {
        "features": [
            {"name": "x", "type": "float", "nullable": True},
            {"name": "n", "type": "int"},
            {"name": "flag", "type": "bool", "nullable": True},
            {"name": "owns-home", "type": "bool"},
            {"name": "region", "type": "category", "categories": ["north", "west"],
             "nullable": True},
            {"name": "class", "type": "category", "categories": ["a", "b"]},
        ],
        "target": {"name": "label", "type": "category", "classes": ["no", "yes"]},
    }
)  # fmt: skip
ROW = {"x": 0.5, "n": 2, "flag": True, "owns-home": False, "region": "north", "class": "a"}
JSON = "application/json"


def _body(*rows: object) -> bytes:
    return json.dumps(list(rows)).encode()


TAKEN = [
    pytest.param(_body(ROW), id="one row"),
    pytest.param(
        _body(ROW, {**ROW, "x": None, "n": 3.0, "flag": None, "region": None, "id": "r-2"}),
        id="nulls where nullable, a whole float for an int, an extra field",
    ),
    pytest.param(_body(*[{**ROW, "x": i / 7, "n": -i} for i in range(50)]), id="fifty rows"),
    pytest.param(_body({**ROW, "x": 12345678901234567890}), id="a big integer for a float"),
]
NOT_TAKEN = [
    pytest.param(_body({**ROW, "x": "1.5"}), id="a number as text"),
    pytest.param(_body({**ROW, "n": 2.5}), id="a fraction for an int"),
    pytest.param(_body({**ROW, "n": None}), id="null where not nullable"),
    pytest.param(_body({k: v for k, v in ROW.items() if k != "n"}), id="a missing field"),
    pytest.param(_body({**ROW, "region": "North"}), id="a category spelled otherwise"),
    pytest.param(_body({**ROW, "region": "east"}), id="an unknown category"),
    pytest.param(_body({**ROW, "x": True}), id="a boolean for a number"),
    pytest.param(_body({**ROW, "flag": 1}), id="a number for a boolean"),
    pytest.param(_body({**ROW, "x": [1]}), id="a list as a value"),
    pytest.param(_body({**ROW, "x": float("inf")}), id="Infinity"),
    pytest.param(_body({**ROW, "x": float("nan")}), id="NaN"),
    pytest.param(_body(ROW).replace(b"0.5", b"1e400"), id="a number over a double's range"),
    pytest.param(_body(ROW, 3), id="a row that is not an object"),
    pytest.param(b'{"x": 1}', id="an object, not a list"),
    pytest.param(b"[{", id="not JSON"),
    pytest.param(b"[]", id="no rows"),
    pytest.param(_body(ROW, ROW, ROW), id="over max_rows"),
]


def _outcome(body: bytes, decoder: JsonRowDecoder | None, dtype: NumericDType) -> Any:
    try:
        return read_feeds(body, JSON, SCHEMA, 2 if b"r-2" not in body else 10, dtype, decoder)
    except RowsError as error:
        return (error.status, error.message, error.problems)


def _same(got: Any, expected: Any) -> None:
    if isinstance(expected, tuple):
        assert got == expected
        return
    assert list(got) == list(expected) == [f.name for f in SCHEMA.features]
    for name, values in expected.items():
        assert got[name].dtype == values.dtype, name
        assert got[name].shape == values.shape, name
        assert np.array_equal(got[name], values, equal_nan=values.dtype.kind == "f"), name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("body", TAKEN + NOT_TAKEN)
def test_the_decoder_gives_what_the_reading_gives_without_it(
    body: bytes, dtype: NumericDType
) -> None:
    decoder = JsonRowDecoder(SCHEMA)
    _same(_outcome(body, decoder, dtype), _outcome(body, None, dtype))


@pytest.mark.parametrize("body", TAKEN)
def test_rows_in_the_agreed_shape_take_the_decoder(body: bytes) -> None:
    decoder = JsonRowDecoder(SCHEMA)
    rows = decoder.rows(body)
    assert rows is not None
    feeds = decoder.feeds(rows, "float32")
    assert feeds is not None
    expected = exact_feeds(json.loads(body), SCHEMA, "float32")
    assert expected is not None
    _same(feeds, expected)


@pytest.mark.parametrize("body", NOT_TAKEN[:-2])  # "no rows" and "over max_rows" are taken
def test_rows_in_another_shape_leave_the_decoder(body: bytes) -> None:
    decoder = JsonRowDecoder(SCHEMA)
    rows = decoder.rows(body)
    assert rows is None or decoder.feeds(rows, "float32") is None


def test_the_refusal_of_a_row_the_decoder_refuses_names_row_field_and_value() -> None:
    error = _outcome(_body(ROW, {**ROW, "n": "two"}), JsonRowDecoder(SCHEMA), "float32")
    assert error[0] == 422
    assert error[2] == [{"row": 1, "field": "n", "value": "two", "problem": error[2][0]["problem"]}]


def test_a_schema_with_a_country_feature_has_no_decoder() -> None:
    schema = Schema.from_dict(
        {
            "features": [{"name": "c", "type": "category", "format": "iso3166-alpha2",
                          "categories": ["DE", "FR"]}],
            "target": {"name": "label", "type": "category", "classes": ["no", "yes"]},
        }
    )  # fmt: skip
    assert JsonRowDecoder.for_schema(schema) is None
    assert JsonRowDecoder.for_schema(SCHEMA) is not None
