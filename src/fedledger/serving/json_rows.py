"""JSON rows in the agreed shape decoded straight into the model's inputs (msgspec).

Profiled on a 1,000-row request of 20 features, decoding the body into Python lists and dicts
(pydantic-core) cost about twice what onnxruntime does. Here the body is decoded by a decoder
typed from the task's schema: each row becomes one small struct whose fields already have their
feature's type (a number for int and float features, one of the categories, true or false,
null only where the feature is nullable), then each column becomes an array in one pass.

This is only the fast path of `exact_rows.py`, and takes exactly the rows that one takes. A body
it does not take (a missing field, a string for a number, an unknown category, a row that is not
an object, text that is not JSON, a number JSON cannot hold as a double) goes down the existing
path, which gives the same arrays or the 422 naming row, field and value: what it takes is
scored as before, what it refuses is refused as before. `tests/unit/test_json_rows.py` checks
both against `exact_feeds`.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from fedledger.models.inputs import MISSING_CATEGORY, NumericDType
from fedledger.schema.types import Feature, Schema

Feeds = dict[str, npt.NDArray[np.generic]]


class JsonRowDecoder:
    """Decodes a JSON list of rows for one schema. Build it once per schema (it compiles a
    decoder); `feeds` is then safe to call from several threads."""

    def __init__(self, schema: Schema) -> None:
        self._schema = schema
        # Struct fields are named f0, f1, ...: a feature's name need not be an identifier.
        names = {f.name: f"f{i}" for i, f in enumerate(schema.features)}
        row = msgspec.defstruct(
            "Row",
            [(names[f.name], _field_type(f)) for f in schema.features],
            rename={names[f.name]: f.name for f in schema.features},
            gc=False,  # its fields are numbers and strings: nothing for the collector to trace
        )
        self._decoder = msgspec.json.Decoder(list[row])  # type: ignore[valid-type]
        self._cells = [attrgetter(names[f.name]) for f in schema.features]

    @classmethod
    def for_schema(cls, schema: Schema) -> JsonRowDecoder | None:
        """The decoder of `schema`, or None when no row of it can take the fast path (a country
        feature is always read cell by cell; a category without categories has no type here).
        Raises nothing."""
        for feature in schema.features:
            if feature.is_country or (feature.type == "category" and not feature.categories):
                return None
        return cls(schema)

    def rows(self, body: bytes) -> list[Any] | None:
        """The rows of `body` as typed structs, or None when the body is not a list of rows in
        the agreed shape. Raises nothing."""
        try:
            return self._decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None

    def feeds(self, rows: list[Any], dtype: NumericDType) -> Feeds | None:
        """The model inputs of `rows` (from `rows`), as `exact_feeds` makes them; None when a
        number is not finite or an int feature's value is not whole (the existing path then
        names it). Raises nothing."""
        feeds: Feeds = {}
        for feature, cell in zip(self._schema.features, self._cells, strict=True):
            if feature.type == "category":
                values = [MISSING_CATEGORY if v is None else v for v in map(cell, rows)]
                feeds[feature.name] = np.array(values, dtype=str).reshape(-1, 1)
                continue
            numbers = _numbers(map(cell, rows), len(rows), feature.nullable)
            if not _exact(numbers, feature):
                return None
            feeds[feature.name] = numbers.astype(dtype, copy=False).reshape(-1, 1)
        return feeds


def _numbers(cells: Iterator[Any], count: int, nullable: bool) -> npt.NDArray[np.float64]:
    if nullable:  # None -> NaN, which fromiter does not do
        return np.array(list(cells), dtype=np.float64)
    return np.fromiter(cells, dtype=np.float64, count=count)


def _exact(numbers: npt.NDArray[np.float64], feature: Feature) -> bool:
    """Nulls (NaN here) were let through by the decoder only where the feature is nullable; an
    infinity is a number JSON gave that no feature takes; an int feature takes whole numbers."""
    if np.isinf(numbers).any():
        return False
    if feature.type != "int":
        return True
    known = numbers[~np.isnan(numbers)]
    return bool(np.array_equal(known, np.floor(known)))


def _field_type(feature: Feature) -> Any:
    """The JSON type a column in the agreed shape has. An int feature is a float here because
    the fast path takes 3.0 for 3, as the cell-by-cell reading does; its wholeness is checked
    on the column."""
    kind: Any
    if feature.type == "category":
        kind = Literal[tuple(feature.categories)]
    elif feature.type == "bool":
        kind = bool
    else:
        kind = float  # msgspec takes a JSON integer for a float, and refuses true and false
    return kind | None if feature.nullable else kind
