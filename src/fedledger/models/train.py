"""Training helpers: scikit-learn pipelines whose preprocessing follows the task schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fedledger.models.errors import ConversionError
from fedledger.models.inputs import NumericDType, encode_target, prepare_frame
from fedledger.schema.types import Schema

_TREE_MODULES = ("sklearn.tree", "sklearn.ensemble")


def numeric_dtype_for(estimator: Any) -> NumericDType:
    """float32 for tree ensembles (what they compute in), float64 for linear models and MLPs.

    Trees compare float32 thresholds, so float64 input moves predictions; linear models and MLPs
    lose tiny probabilities to underflow in float32 (docs/model-pipeline.md).
    """
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    return "float32" if type(final).__module__.startswith(_TREE_MODULES) else "float64"


def build_pipeline(schema: Schema, estimator: BaseEstimator) -> Pipeline:
    """Preprocessing for every feature of the schema, in its order, followed by `estimator`.

    Numeric features are scaled (not for trees) and imputed with the median when nullable; bool
    features are numbers (0/1) like them, imputed with the most frequent value so that a filled
    gap is 0 or 1; category features are one-hot encoded over the schema's categories, unknowns
    as all zeros.
    """
    is_tree = numeric_dtype_for(estimator) == "float32"
    parts: list[tuple[str, Any, list[str]]] = []
    for f in schema.features:
        if f.type == "category":
            encoder = OneHotEncoder(
                categories=[list(f.categories)], handle_unknown="ignore", sparse_output=False
            )
            parts.append((f.name, encoder, [f.name]))
            continue
        steps: list[tuple[str, Any]] = []
        if f.nullable:
            strategy = "most_frequent" if f.type == "bool" else "median"
            steps.append(("impute", SimpleImputer(strategy=strategy)))
        if not is_tree:
            steps.append(("scale", StandardScaler()))
        parts.append((f.name, Pipeline(steps) if steps else "passthrough", [f.name]))
    pre = ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
    return Pipeline([("preprocess", pre), ("model", clone(estimator))])


@dataclass(frozen=True)
class TrainedModel:
    pipeline: Pipeline
    schema: Schema
    training_rows: int
    numeric_dtype: NumericDType


def train(schema: Schema, frame: pd.DataFrame, estimator: BaseEstimator) -> TrainedModel:
    """Fit `build_pipeline(schema, estimator)` on a frame that has passed schema validation.

    Raises ConversionError when the estimator does not fit the target or a class has no rows.
    """
    pipeline = build_pipeline(schema, estimator)
    if schema.target.is_classification != is_classifier(estimator):
        wanted = "a classifier" if schema.target.is_classification else "a regressor"
        raise ConversionError(f"the task's target needs {wanted}, got {type(estimator).__name__}")
    dtype = numeric_dtype_for(estimator)
    y = encode_target(frame, schema)
    if schema.target.is_classification:
        missing = sorted(set(range(len(schema.target.classes))) - set(y.tolist()))
        if missing:
            names = [schema.target.classes[i] for i in missing]
            raise ConversionError(f"training data has no rows of class(es) {names}")
    pipeline.fit(prepare_frame(frame, schema, dtype), y)
    return TrainedModel(pipeline, schema, len(frame), dtype)
