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
import pandas as pd

from fedledger.schema.types import Feature, Schema

NUMBER_TYPES = frozenset({int, float})


def exact_frame(rows: list[dict[str, Any]], schema: Schema) -> pd.DataFrame | None:
    """The typed frame of `rows` when every feature's column is exact, else None. Raises
    nothing."""
    data = {}
    for feature in schema.features:
        try:
            cells = list(map(itemgetter(feature.name), rows))
        except KeyError:
            return None
        column = _exact_column(cells, feature)
        if column is None:
            return None
        data[feature.name] = column
    return pd.DataFrame(data)


def _exact_column(cells: list[Any], feature: Feature) -> Any:
    types = set(map(type, cells))
    nulls = cells.count(None) if type(None) in types else 0
    if nulls and not feature.nullable:
        return None
    types.discard(type(None))
    if feature.type in ("int", "float"):
        return _numbers(cells, feature, types, nulls)
    if feature.type == "bool":
        return pd.array(cells, dtype="boolean") if types <= {bool} else None
    if feature.is_country or not types <= {str}:
        return None
    if not set(cells) - {None} <= set(feature.categories):
        return None
    return pd.array(cells, dtype="string")


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
