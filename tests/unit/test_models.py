"""Models: training on schema data, ONNX conversion traps, metadata checks on loading."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from fedledger.models import conversion as convert_module
from fedledger.models.conversion import convert, to_onnx
from fedledger.models.errors import (
    ConversionError,
    MalformedModelError,
    MetadataError,
    SchemaMismatchError,
    TaskMismatchError,
)
from fedledger.models.inputs import encode_target, frame_to_feeds, prepare_frame
from fedledger.models.metadata import load_model
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import build_pipeline, numeric_dtype_for, train
from fedledger.schema.types import Schema
from fedledger.schema.validate import validate_frame

SCHEMA = synthetic_schema(6)
FRAME = synthetic_frame(SCHEMA, 600, seed=1)


def _run(model_bytes: bytes, frame: pd.DataFrame, dtype: str) -> list[np.ndarray]:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return list(session.run(None, frame_to_feeds(frame, SCHEMA, dtype)))  # type: ignore[arg-type]


def test_synthetic_frame_conforms_and_mixes_int_and_float_columns() -> None:
    assert validate_frame(FRAME, SCHEMA).ok
    assert FRAME["count"].dtype == np.int64
    assert FRAME["x0"].dtype == np.float64


@pytest.mark.parametrize(
    ("estimator", "dtype", "tolerance"),
    [
        (LogisticRegression(max_iter=500), "float64", 1e-12),
        (MLPClassifier((8,), max_iter=300, random_state=0), "float64", 1e-12),
        (RandomForestClassifier(20, max_depth=6, random_state=0), "float32", 1e-6),
        (HistGradientBoostingClassifier(max_iter=20, random_state=0), "float32", 1e-6),
    ],
    ids=lambda p: type(p).__name__ if not isinstance(p, (str, float)) else str(p),
)
def test_converted_model_matches_sklearn(estimator: object, dtype: str, tolerance: float) -> None:
    trained = train(SCHEMA, FRAME, estimator)
    assert trained.numeric_dtype == dtype
    model_bytes = convert(trained, task_id="loans")
    label, proba = _run(model_bytes, FRAME, dtype)
    expected = trained.pipeline.predict_proba(prepare_frame(FRAME, SCHEMA, trained.numeric_dtype))
    assert proba.shape == (len(FRAME), 2)
    assert np.abs(proba - expected).max() <= tolerance
    assert (label == expected.argmax(axis=1)).mean() > 0.999


def test_input_signature_is_one_named_input_per_feature() -> None:
    model_bytes = convert(train(SCHEMA, FRAME, LogisticRegression()), task_id="loans")
    model = onnx.load_from_string(model_bytes)
    inputs = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert list(inputs) == list(SCHEMA.feature_names)
    assert inputs["x0"] == onnx.TensorProto.DOUBLE
    assert inputs["count"] == onnx.TensorProto.DOUBLE  # int features share the numeric dtype
    assert inputs["region"] == onnx.TensorProto.STRING
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]


def test_unknown_and_missing_categories_score_as_all_zero_one_hot() -> None:
    trained = train(SCHEMA, FRAME, LogisticRegression())
    model_bytes = convert(trained, task_id="loans")
    frame = FRAME.head(3).copy()
    frame["region"] = pd.Series(["mars", None, "north"], dtype="string")
    _, proba = _run(model_bytes, frame, "float64")
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_metadata_round_trips_and_is_checked_on_load() -> None:
    model_bytes = convert(train(SCHEMA, FRAME, LogisticRegression()), task_id="loans")
    _, metadata = load_model(model_bytes, "loans", SCHEMA)
    assert metadata.schema_sha256 == SCHEMA.sha256()
    assert metadata.training_rows == len(FRAME)
    assert metadata.kind == "classification"
    assert metadata.numeric_dtype == "float64"
    assert {"scikit-learn", "skl2onnx", "onnx", "numpy", "python"} <= set(metadata.libraries)
    with pytest.raises(TaskMismatchError, match="built for task 'loans', not for task 'cards'"):
        load_model(model_bytes, "cards", SCHEMA)
    other = synthetic_schema(7)
    with pytest.raises(SchemaMismatchError, match=SCHEMA.sha256()):
        load_model(model_bytes, "loans", other)


def test_regression_model_for_classification_task_is_refused_on_load() -> None:
    schema = synthetic_schema(6, classification=False)
    frame = synthetic_frame(schema, 200)
    model_bytes = convert(train(schema, frame, LinearRegression()), task_id="t")
    _, metadata = load_model(model_bytes, "t", schema)
    assert metadata.kind == "regression"
    forged = Schema(schema.features, SCHEMA.target)
    model = onnx.load_from_string(model_bytes)
    for prop in model.metadata_props:
        if prop.key == "fedledger.schema_sha256":
            prop.value = forged.sha256()
    with pytest.raises(SchemaMismatchError, match="is a regression model; the task needs"):
        load_model(model.SerializeToString(), "t", forged)


@pytest.mark.parametrize("data", [b"", b"garbage \x00\xff bytes", b"\x08\x07\x12"])
def test_garbage_bytes_are_malformed(data: bytes) -> None:
    with pytest.raises(MalformedModelError):
        load_model(data, "loans", SCHEMA)


def test_truncated_model_is_malformed() -> None:
    model_bytes = convert(train(SCHEMA, FRAME, LogisticRegression()), task_id="loans")
    with pytest.raises(MalformedModelError):
        load_model(model_bytes[: len(model_bytes) // 2], "loans", SCHEMA)


def test_model_without_metadata_is_refused() -> None:
    model = onnx.load_from_string(convert(train(SCHEMA, FRAME, LogisticRegression()), "loans"))
    del model.metadata_props[:]
    with pytest.raises(MetadataError, match=r"lacks fedledger\.format_version"):
        load_model(model.SerializeToString(), "loans", SCHEMA)


def test_infrequent_if_exist_one_hot_is_refused_with_reason() -> None:
    pipeline = build_pipeline(SCHEMA, LogisticRegression())
    pre = pipeline.named_steps["preprocess"]
    transformers = [
        (n, OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5), c)
        if n == "region"
        else (n, t, c)
        for n, t, c in pre.transformers
    ]
    pre.set_params(transformers=transformers)
    pipeline.fit(prepare_frame(FRAME, SCHEMA, "float64"), encode_target(FRAME, SCHEMA))
    with pytest.raises(ConversionError, match="handle_unknown='infrequent_if_exist'"):
        to_onnx(pipeline, SCHEMA, task_id="loans", training_rows=len(FRAME))


def test_hist_gradient_boosting_is_refused_under_protobuf_7(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trained = train(SCHEMA, FRAME, HistGradientBoostingClassifier(max_iter=5))
    monkeypatch.setattr(convert_module, "_protobuf_major", lambda: 7)
    with pytest.raises(ConversionError, match="install protobuf<7"):
        convert(trained, task_id="loans")


def test_pipeline_with_string_classes_is_refused() -> None:
    pipeline = build_pipeline(SCHEMA, LogisticRegression())
    pipeline.fit(prepare_frame(FRAME, SCHEMA, "float64"), FRAME["label"].astype(str))
    with pytest.raises(ConversionError, match="must be the class indices"):
        to_onnx(pipeline, SCHEMA, task_id="loans", training_rows=len(FRAME))


def test_regressor_for_classification_task_is_refused_at_training() -> None:
    with pytest.raises(ConversionError, match="needs a classifier, got LinearRegression"):
        train(SCHEMA, FRAME, LinearRegression())


def test_training_data_missing_a_class_is_refused() -> None:
    frame = FRAME[FRAME["label"] == "yes"]
    with pytest.raises(ConversionError, match=r"no rows of class\(es\) \['no'\]"):
        train(SCHEMA, frame, LogisticRegression())


def test_dtype_choice_by_estimator_family() -> None:
    assert numeric_dtype_for(RandomForestClassifier()) == "float32"
    assert numeric_dtype_for(Pipeline([("m", HistGradientBoostingClassifier())])) == "float32"
    assert numeric_dtype_for(LogisticRegression()) == "float64"
    assert numeric_dtype_for(MLPClassifier()) == "float64"
