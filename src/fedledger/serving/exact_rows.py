"""The fast path for JSON rows already in the agreed shape: every value of a column has the
JSON type its feature takes (numbers for int and float features, the exact category text, true
or false), so reading it cell by cell (schema/conform.py) would change nothing. Such columns are
typed with whole-column operations; any other column sends the whole request through
conform_frame, which names each problem. `tests/unit/test_serving.py` checks that both paths
give the same frame.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fedledger.models.inputs import MISSING_CATEGORY, NumericDType
from fedledger.schema.types import Feature, Schema

NUMBER_TYPES = frozenset({int, float})


def exact_frame(rows: list[dict[str, Any]], schema: Schema) -> pd.DataFrame | None:
    """The typed frame of `rows` when every feature's column is exact, else None. Raises
    nothing."""
    columns = _exact_columns(rows, schema)
    if columns is None:
        return None
    data: dict[str, Any] = {}
    for feature, values in zip(schema.features, columns, strict=True):
        if feature.type == "bool":
            data[feature.name] = pd.array(values, dtype="boolean")
        elif feature.type == "category":
            data[feature.name] = pd.array(values, dtype="string")
        else:
            data[feature.name] = values
    return pd.DataFrame(data)


def exact_feeds(
    rows: list[dict[str, Any]], schema: Schema, dtype: NumericDType
) -> dict[str, npt.NDArray[np.generic]] | None:
    """The model inputs of `rows` (what frame_to_feeds makes of exact_frame's frame, built
    without the frame: pandas was only a carrier here) when every column is exact, else None.
    Raises nothing."""
    columns = _exact_columns(rows, schema)
    if columns is None:
        return None
    feeds: dict[str, npt.NDArray[np.generic]] = {}
    for feature, values in zip(schema.features, columns, strict=True):
        if feature.type == "category":
            text = [MISSING_CATEGORY if value is None else value for value in values]
            feeds[feature.name] = np.array(text, dtype=str).reshape(-1, 1)
        else:
            feeds[feature.name] = np.asarray(values, dtype=dtype).reshape(-1, 1)
    return feeds


def _exact_columns(rows: list[dict[str, Any]], schema: Schema) -> list[Any] | None:
    """Each feature's column, in schema order: float64 values (NaN where missing) for numbers,
    the cells themselves for bools and categories; None when a column is not exact."""
    columns = []
    for feature in schema.features:
        try:
            cells = list(map(itemgetter(feature.name), rows))
        except KeyError:
            return None
        column = _exact_column(cells, feature)
        if column is None:
            return None
        columns.append(column)
    return columns


def _exact_column(cells: list[Any], feature: Feature) -> Any:
    types = set(map(type, cells))
    nulls = cells.count(None) if type(None) in types else 0
    if nulls and not feature.nullable:
        return None
    types.discard(type(None))
    if feature.type in ("int", "float"):
        return _numbers(cells, feature, types, nulls)
    if feature.type == "bool":
        return cells if types <= {bool} else None
    if feature.is_country or not types <= {str}:
        return None
    if not set(cells) - {None} <= set(feature.categories):
        return None
    return cells


def _numbers(cells: list[Any], feature: Feature, types: set[type], nulls: int) -> Any:
    if not types <= NUMBER_TYPES:  # a bool's type is bool, not int: refused by the slow path
        return None
    values = np.array(cells, dtype=np.float64)  # None -> NaN
    finite = np.isfinite(values)
    if int(np.count_nonzero(~finite)) != nulls:
        return None
    if feature.type == "int" and not np.array_equal(values[finite], np.floor(values[finite])):
        return None
    return values
