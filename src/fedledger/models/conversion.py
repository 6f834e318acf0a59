"""scikit-learn pipeline -> ONNX bytes, with the schema as the input signature."""

from __future__ import annotations

import platform
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np
import onnx
from sklearn.base import is_classifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from fedledger.models.errors import ConversionError
from fedledger.models.inputs import NumericDType
from fedledger.models.metadata import ModelMetadata
from fedledger.models.train import TrainedModel, numeric_dtype_for
from fedledger.schema.types import Schema

# Opsets onnxruntime >= 1.18 runs; pinned so a library upgrade does not change the files we write.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
_LIBRARIES = ("scikit-learn", "skl2onnx", "onnx", "numpy", "protobuf")


def initial_types(schema: Schema, dtype: NumericDType) -> list[tuple[str, Any]]:
    """One [None, 1] input per feature: float, int and bool as `dtype`, category as string."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, StringTensorType

    numeric = FloatTensorType if dtype == "float32" else DoubleTensorType
    return [
        (f.name, StringTensorType([None, 1]) if f.type == "category" else numeric([None, 1]))
        for f in schema.features
    ]


def convert(trained: TrainedModel, task_id: str) -> bytes:
    return to_onnx(
        trained.pipeline,
        trained.schema,
        task_id=task_id,
        training_rows=trained.training_rows,
        numeric_dtype=trained.numeric_dtype,
    )


def to_onnx(
    pipeline: Pipeline,
    schema: Schema,
    *,
    task_id: str,
    training_rows: int,
    numeric_dtype: NumericDType | None = None,
) -> bytes:
    """Convert a fitted pipeline that takes the schema's columns; refuse the known traps first."""
    dtype = numeric_dtype or numeric_dtype_for(pipeline)
    model = sklearn_graph(pipeline, schema, initial_types(schema, dtype))
    set_metadata(
        model,
        ModelMetadata(
            task_id=task_id,
            schema_sha256=schema.sha256(),
            kind="classification" if schema.target.is_classification else "regression",
            numeric_dtype=dtype,
            training_rows=training_rows,
            libraries=library_versions(),
        ),
    )
    return bytes(model.SerializeToString())


def sklearn_graph(estimator: Any, schema: Schema, inputs: list[tuple[str, Any]]) -> onnx.ModelProto:
    """The ONNX graph of a fitted estimator or pipeline with these skl2onnx input types, a
    classifier without ZipMap; raises ConversionError for a known trap or a failed conversion."""
    from skl2onnx import convert_sklearn

    _refuse_known_traps(estimator, schema)
    options: dict[int, dict[str, Any]] = {}
    if schema.target.is_classification:
        options[id(estimator)] = {"zipmap": False}
    try:
        model: onnx.ModelProto = convert_sklearn(
            estimator,
            initial_types=inputs,
            options=options,
            target_opset=TARGET_OPSET,
            custom_conversion_functions={SimpleImputer: _convert_simple_imputer},
        )
    except Exception as exc:
        raise ConversionError(f"skl2onnx cannot convert {_describe(estimator)}: {exc}") from exc
    return model


def matrix_types(width: int, dtype: NumericDType) -> list[tuple[str, Any]]:
    """One [N, width] numeric input, for an estimator fitted on a matrix rather than columns."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    numeric = FloatTensorType if dtype == "float32" else DoubleTensorType
    return [("features", numeric([None, width]))]


def _convert_simple_imputer(scope: Any, operator: Any, container: Any) -> None:
    """A numeric SimpleImputer as `Where(IsNaN(x), statistics, x)` in the input's own dtype.

    skl2onnx writes the ai.onnx.ml Imputer operator, which onnxruntime implements for float32
    and int64 only: a float64 pipeline with a nullable feature would convert and then fail to
    load. IsNaN and Where run in both float dtypes and keep the statistics at full precision.
    Text imputers and other missing-value markers keep skl2onnx's converter.
    """
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    imputer = operator.raw_operator
    kind = type(operator.inputs[0].type)
    missing = imputer.missing_values
    if kind not in (DoubleTensorType, FloatTensorType) or not (
        isinstance(missing, float) and np.isnan(missing)
    ):
        convert_sklearn_imputer(scope, operator, container)
        return
    statistics = np.asarray(imputer.statistics_, dtype=np.float64)
    if np.isnan(statistics).any():
        raise ConversionError(
            "a SimpleImputer saw no values at all for a column in training; it would drop it"
        )
    double = kind is DoubleTensorType
    fill = scope.get_unique_variable_name("fill")
    container.add_initializer(
        fill,
        onnx.TensorProto.DOUBLE if double else onnx.TensorProto.FLOAT,
        [len(statistics)],
        statistics.astype(np.float64 if double else np.float32).tolist(),
    )
    values = concatenate_variables(scope, operator.inputs, container)
    is_nan = scope.get_unique_variable_name("is_nan")
    container.add_node("IsNaN", [values], [is_nan], name=scope.get_unique_operator_name("IsNaN"))
    container.add_node(
        "Where",
        [is_nan, fill, values],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Where"),
    )


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def _describe(pipeline: Any) -> str:
    if isinstance(pipeline, Pipeline):
        return " -> ".join(type(step).__name__ for _, step in pipeline.steps)
    return type(pipeline).__name__


def _components(estimator: Any) -> list[Any]:
    found = [estimator]
    if hasattr(estimator, "get_params"):
        found.extend(v for v in estimator.get_params(deep=True).values() if hasattr(v, "fit"))
    for fitted in getattr(estimator, "transformers_", []):
        found.extend(_components(fitted[1]))
    return found


def _refuse_known_traps(pipeline: Any, schema: Schema) -> None:
    parts = _components(pipeline)
    final = pipeline.steps[-1][1] if isinstance(pipeline, Pipeline) else pipeline
    if schema.target.is_classification != is_classifier(final):
        wanted = "a classifier" if schema.target.is_classification else "a regressor"
        raise ConversionError(f"the task's target needs {wanted}, got {type(final).__name__}")
    if schema.target.is_classification:
        classes = np.asarray(getattr(final, "classes_", []))
        if classes.tolist() != list(range(len(schema.target.classes))):
            raise ConversionError(
                f"classifier classes_ {classes.tolist()} must be the class indices "
                f"0..{len(schema.target.classes) - 1} of {list(schema.target.classes)}; "
                "train with fedledger.models.train or encode_target"
            )
    for part in parts:
        if isinstance(part, OneHotEncoder) and part.handle_unknown != "ignore":
            raise ConversionError(
                f"OneHotEncoder(handle_unknown={part.handle_unknown!r}) converts, but onnxruntime "
                "then fails on any category not seen in training; use handle_unknown='ignore'"
            )
        if type(part).__name__.startswith("HistGradientBoosting") and _protobuf_major() >= 7:
            raise ConversionError(
                "skl2onnx cannot convert HistGradientBoosting models with protobuf 7 "
                "('Expected an int, got a boolean'); install protobuf<7"
            )


def _protobuf_major() -> int:
    return int(importlib_metadata.version("protobuf").split(".")[0])


def set_metadata(model: onnx.ModelProto, metadata: ModelMetadata) -> None:
    """Attach fedledger's metadata to `model`; raises ConversionError when the model already
    carries one of its keys.
    """
    existing = {p.key for p in model.metadata_props}
    for key, value in metadata.to_props().items():
        if key in existing:
            raise ConversionError(f"model already carries metadata {key}")
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = f"fedledger model for task {metadata.task_id}"
