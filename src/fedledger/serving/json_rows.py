"""JSON rows in the agreed shape decoded straight into the model's inputs (msgspec).

Profiled on a 1,000-row request of 20 features, decoding the body into Python lists and dicts
(pydantic-core) cost about twice what onnxruntime does. Here the body is decoded by a decoder
typed from the task's schema: each row becomes one small struct whose fields already have their
feature's type (a number for int and float features, one of the categories, true or false,
null only where the feature is nullable), then whole columns become arrays.

This is only the fast path of `exact_rows.py`, and takes exactly the rows that one takes. A body
it does not take (a missing field, a string for a number, an unknown category, a row that is not
an object, text that is not JSON, a number JSON cannot hold as a double) goes down the existing
path, which gives the same arrays or the 422 naming row, field and value: what it takes is
scored as before, what it refuses is refused as before. `tests/unit/test_json_rows.py` checks
both against `exact_feeds`.
"""

from __future__ import annotations

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
        self._numeric = [f for f in schema.features if f.type != "category"]
        self._categories = [f for f in schema.features if f.type == "category"]
        self._ints = [i for i, f in enumerate(self._numeric) if f.type == "int"]
        # Struct fields are named f0, f1, ...: a feature's name need not be an identifier.
        names = {f.name: f"f{i}" for i, f in enumerate(schema.features)}
        row = msgspec.defstruct(
            "Row",
            [(names[f.name], _field_type(f)) for f in schema.features],
            rename={names[f.name]: f.name for f in schema.features},
        )
        self._decoder = msgspec.json.Decoder(list[row])  # type: ignore[valid-type]
        self._numbers = _getter([names[f.name] for f in self._numeric])
        self._texts = [attrgetter(names[f.name]) for f in self._categories]

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
        if self._numeric:
            numbers = np.array(list(map(self._numbers, rows)), dtype=np.float64)  # None -> NaN
            if not self._numbers_exact(numbers):
                return None
            for index, feature in enumerate(self._numeric):
                feeds[feature.name] = numbers[:, index].astype(dtype).reshape(-1, 1)
        for feature, text in zip(self._categories, self._texts, strict=True):
            values = [MISSING_CATEGORY if v is None else v for v in map(text, rows)]
            feeds[feature.name] = np.array(values, dtype=str).reshape(-1, 1)
        return {f.name: feeds[f.name] for f in self._schema.features}

    def _numbers_exact(self, numbers: npt.NDArray[np.float64]) -> bool:
        # Nulls (NaN here) were allowed by the decoder only where the feature is nullable; an
        # infinity is a number JSON gave that no feature takes.
        if np.isinf(numbers).any():
            return False
        if self._ints:
            whole = numbers[:, self._ints]
            known = ~np.isnan(whole)
            return bool(np.array_equal(whole[known], np.floor(whole[known])))
        return True


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


def _getter(names: list[str]) -> Any:
    """A function of a row giving the named fields as a tuple (attrgetter gives a bare value
    for one name)."""
    if len(names) == 1:
        only = attrgetter(names[0])
        return lambda row: (only(row),)
    return attrgetter(*names)
