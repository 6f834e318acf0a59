"""Turn schema-conforming frames into model inputs: the one encoding training and scoring share.

Input signature (see docs/model-pipeline.md): one ONNX input per feature, named after it, shape
[N, 1]. Numeric features (float, int and bool alike; bool as 0/1) are float32 for tree ensembles
and float64 for everything else; category features are strings, a missing category is the empty
string. A missing bool is NaN, like a missing number.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from fedledger.schema.types import Feature, Schema
from fedledger.schema.validate import parse_bools

NumericDType = Literal["float32", "float64"]
MISSING_CATEGORY = ""


def prepare_frame(frame: pd.DataFrame, schema: Schema, dtype: NumericDType) -> pd.DataFrame:
    """The feature columns in schema order with the dtypes the ONNX graph declares."""
    columns: dict[str, pd.Series] = {}
    for f in schema.features:
        column = frame[f.name]
        if f.type == "category":
            text = column.astype("string").fillna(MISSING_CATEGORY)
            columns[f.name] = text.astype(object)
        else:
            columns[f.name] = pd.Series(numeric_values(column, f, dtype), index=frame.index)
    return pd.DataFrame(columns, index=frame.index)


def frame_to_feeds(
    frame: pd.DataFrame, schema: Schema, dtype: NumericDType
) -> dict[str, npt.NDArray[np.generic]]:
    """One [N, 1] array per feature, ready for InferenceSession.run or np.save (no pickling)."""
    feeds: dict[str, npt.NDArray[np.generic]] = {}
    for f in schema.features:
        column = frame[f.name]
        if f.type == "category":
            text = column.astype("string").fillna(MISSING_CATEGORY).to_numpy(dtype=str)
            feeds[f.name] = text.reshape(-1, 1)
        else:
            feeds[f.name] = numeric_values(column, f, dtype).reshape(-1, 1)
    return feeds


def numeric_values(
    column: pd.Series, feature: Feature, dtype: NumericDType
) -> npt.NDArray[np.floating]:
    """A numeric feature's values in `dtype`, NaN where missing; a bool feature as 0.0 / 1.0.

    Raises ValueError for a bool feature holding other values (validate the data first).
    """
    if feature.type == "bool":
        values, bad = parse_bools(column)
        if bad.any():
            raise ValueError(
                f"column {feature.name!r} has values that are not booleans; validate the data first"
            )
        flags: npt.NDArray[np.floating] = values.to_numpy(dtype=dtype, na_value=np.nan)
        return flags
    result: npt.NDArray[np.floating] = pd.to_numeric(column).to_numpy(dtype=dtype, na_value=np.nan)
    return result


def encode_target(frame: pd.DataFrame, schema: Schema) -> npt.NDArray[np.generic]:
    """Class indices in schema order (int64) for classification, float64 for regression.

    Raises ValueError for a class the schema does not list.
    """
    target = schema.target
    column = frame[target.name]
    if not target.is_classification:
        regression: npt.NDArray[np.float64] = pd.to_numeric(column).to_numpy(dtype=np.float64)
        return regression
    codes = pd.Categorical(column.astype("string"), categories=list(target.classes)).codes
    if (codes < 0).any():
        raise ValueError(
            f"target column {target.name!r} has values outside schema.target.classes "
            f"{list(target.classes)}; validate the data against the schema first"
        )
    indices: npt.NDArray[np.int64] = np.asarray(codes, dtype=np.int64)
    return indices
