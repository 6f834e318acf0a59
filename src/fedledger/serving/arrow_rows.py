"""Rows as an Apache Arrow IPC stream (`application/vnd.apache.arrow.stream`): the binary form
for clients that send many rows, read without parsing text. Columns already in the agreed shape
(numbers as integer or floating columns, categories as strings spelled as the schema spells
them, booleans as booleans) are taken whole; otherwise every cell goes through the same
cell-by-cell reading as JSON and CSV (schema/conform.py), as a Parquet file's typed cells do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fedledger.models.inputs import MISSING_CATEGORY, NumericDType
from fedledger.schema.types import Feature, Schema

ARROW_TYPES = frozenset({"application/vnd.apache.arrow.stream"})


def arrow_table(body: bytes) -> Any:
    """The table in `body`. Raises ValueError (pyarrow's ArrowInvalid is one) when it is not an
    Arrow IPC stream."""
    import pyarrow as pa

    with pa.ipc.open_stream(pa.py_buffer(body)) as reader:
        return reader.read_all()


def exact_arrow_frame(table: Any, schema: Schema) -> pd.DataFrame | None:
    """The typed frame of `table` when every feature's column is exact, else None. Raises
    nothing."""
    columns = _exact_columns(table, schema)
    if columns is None:
        return None
    data: dict[str, Any] = {}
    for feature, values in zip(schema.features, columns, strict=True):
        if feature.type == "bool":
            data[feature.name] = pd.array(values.to_pylist(), dtype="boolean")
        elif feature.type == "category":
            data[feature.name] = pd.array(values.to_pandas(), dtype="string")
        else:
            data[feature.name] = values
    return pd.DataFrame(data)


def exact_arrow_feeds(
    table: Any, schema: Schema, dtype: NumericDType
) -> dict[str, npt.NDArray[np.generic]] | None:
    """The model inputs of `table` (what frame_to_feeds makes of exact_arrow_frame's frame,
    built without the frame) when every column is exact, else None. Raises nothing."""
    columns = _exact_columns(table, schema)
    if columns is None:
        return None
    feeds: dict[str, npt.NDArray[np.generic]] = {}
    for feature, values in zip(schema.features, columns, strict=True):
        if feature.type == "category":
            text = values.fill_null(MISSING_CATEGORY).to_pylist()
            feeds[feature.name] = np.array(text, dtype=str).reshape(-1, 1)
        elif feature.type == "bool":
            flags = np.array(values.to_pylist(), dtype=dtype)  # None -> NaN
            feeds[feature.name] = flags.reshape(-1, 1)
        else:
            feeds[feature.name] = np.asarray(values, dtype=dtype).reshape(-1, 1)
    return feeds


def _exact_columns(table: Any, schema: Schema) -> list[Any] | None:
    """Each feature's column in schema order: float64 values (NaN where missing) for numbers,
    the Arrow column for bools and categories; None when a column is not exact."""
    columns = []
    names = set(table.column_names)
    for feature in schema.features:
        if feature.name not in names:
            return None
        column = _exact(table.column(feature.name), feature)
        if column is None:
            return None
        columns.append(column)
    return columns


def _exact(column: Any, feature: Feature) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count and not feature.nullable:
        return None
    kind = column.type
    if feature.type in ("int", "float"):
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            return None
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)  # nulls -> NaN
        finite = np.isfinite(values)
        if int(np.count_nonzero(~finite)) != column.null_count:
            return None
        if feature.type == "int" and not np.array_equal(values[finite], np.floor(values[finite])):
            return None
        return values
    if feature.type == "bool":
        return column if pa.types.is_boolean(kind) else None
    if feature.is_country or not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    present = set(pc.unique(column.drop_null()).to_pylist())
    if not present <= set(feature.categories):
        return None
    return column


def arrow_cells(table: Any) -> pd.DataFrame:
    """Every cell as typed, for the cell-by-cell reading. Raises nothing."""
    frame: pd.DataFrame = table.to_pandas().astype(object)
    return frame
