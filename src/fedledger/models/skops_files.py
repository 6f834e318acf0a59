"""scikit-learn models saved with skops: loaded without unpickling, converted with skl2onnx.

skops rebuilds an estimator from a declared list of types and refuses any type it does not
trust by default; those are named to the user, who may trust them one by one (`--trust`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from fedledger.models.conversion import initial_types, matrix_types, sklearn_graph
from fedledger.models.errors import ConversionError, UntrustedTypesError
from fedledger.models.fitting import check_width
from fedledger.models.train import numeric_dtype_for
from fedledger.schema.types import Schema


def load_skops(path: Path, trusted: Sequence[str] = ()) -> Any:
    """The estimator in `path`. Raises UntrustedTypesError naming every type skops does not
    trust that is not in `trusted`, ConversionError when the file cannot be read."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as error:  # a zip or JSON error: skops wraps none of them
        raise ConversionError(f"cannot read {path} as a skops file: {error}") from None
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise UntrustedTypesError(str(path), refused)
    try:
        return skops.io.load(path, trusted=list(untrusted))
    except Exception as error:
        raise ConversionError(f"skops cannot load {path}: {error}") from None


def skops_to_graph(
    path: Path, schema: Schema, trusted: Sequence[str] = ()
) -> tuple[onnx.ModelProto, list[str] | None]:
    """The ONNX graph of the estimator saved in `path`, and the order of its columns when it
    was fitted on a matrix (None: by name, or in the schema's order).

    A pipeline that starts with a ColumnTransformer takes the task's columns by name and gets
    one input per feature; anything else was fitted on a matrix and gets one [N, F] input,
    which `fitting.fit_to_schema` splits. Raises UntrustedTypesError, ConversionError, FitError.
    """
    estimator = load_skops(path, trusted)
    if schema.target.is_classification:
        _index_classes(estimator, schema)
    first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else estimator
    dtype = numeric_dtype_for(estimator)
    if isinstance(first, ColumnTransformer):
        return sklearn_graph(estimator, schema, initial_types(schema, dtype)), None
    check_width(str(path), int(getattr(estimator, "n_features_in_", 0)), schema)
    names = getattr(estimator, "feature_names_in_", None)
    graph = sklearn_graph(estimator, schema, matrix_types(len(schema.features), dtype))
    return graph, None if names is None else [str(n) for n in names]


def _index_classes(estimator: Any, schema: Schema) -> None:
    """A classifier fitted on the task's class names predicts their indices instead, so its
    label output is the class index a validator compares (the probabilities do not move)."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    classes = getattr(final, "classes_", None)
    if classes is None or np.asarray(classes).dtype.kind not in "OUS":
        return
    names = [str(c) for c in classes]
    wanted = list(schema.target.classes)
    if names == wanted:
        final.classes_ = np.arange(len(wanted))
        return
    raise ConversionError(
        f"the classifier's classes {names} are not the task's classes {wanted} in the task's "
        "order: train on the task's class names (all of them), or on their indices "
        "(fedledger.models.inputs.encode_target)"
    )
