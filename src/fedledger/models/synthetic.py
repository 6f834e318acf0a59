"""Synthetic schema-conforming data sets for tests, benchmarks and demos (no downloads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification, make_regression

from fedledger.schema.types import Schema

_REGIONS = ("north", "south", "east", "west")


def synthetic_schema(n_features: int = 6, *, classification: bool = True) -> Schema:
    """`n_features - 2` float features, one int feature, one category feature `region`."""
    features: list[dict[str, object]] = [
        {"name": f"x{i}", "type": "float"} for i in range(n_features - 2)
    ]
    features.append({"name": "count", "type": "int"})
    features.append({"name": "region", "type": "category", "categories": list(_REGIONS)})
    target = (
        {"name": "label", "type": "category", "classes": ["no", "yes"]}
        if classification
        else {"name": "value", "type": "float"}
    )
    return Schema.from_dict({"features": features, "target": target})


def synthetic_frame(schema: Schema, rows: int, *, seed: int = 0) -> pd.DataFrame:
    """Rows for `synthetic_schema(...)`; the same seed gives the same rows (and the same task)."""
    numeric = len(schema.features) - 2
    rng = np.random.default_rng(seed)
    if schema.target.is_classification:
        x, y = make_classification(
            rows, numeric + 1, n_informative=max(2, numeric // 2), random_state=seed, flip_y=0.05
        )
        target: pd.Series = pd.Series(np.asarray(schema.target.classes)[y])
    else:
        x, yr = make_regression(rows, numeric + 1, noise=5.0, random_state=seed)
        target = pd.Series(yr)
    frame = pd.DataFrame({f"x{i}": x[:, i] for i in range(numeric)})
    frame["count"] = np.clip(np.round(x[:, numeric] * 2 + 3), 0, None).astype(np.int64)
    region = rng.integers(0, len(_REGIONS), rows)
    frame["region"] = pd.Series(np.asarray(_REGIONS)[region], dtype="string")
    frame[schema.target.name] = target.to_numpy()
    if schema.target.is_classification:
        frame[schema.target.name] = frame[schema.target.name].astype("string")
    return frame
