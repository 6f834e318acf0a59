"""Models: training on schema data, ONNX conversion traps, metadata checks on loading."""

from __future__ import annotations

from pathlib import Path

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


BOOL_SCHEMA = Schema.from_dict(
    {
        "features": [
            {"name": "amount", "type": "float"},
            {"name": "count", "type": "int"},
            {"name": "paid", "type": "bool"},
            {"name": "joint", "type": "bool", "nullable": True},
            {"name": "region", "type": "category", "categories": ["north", "south"]},
        ],
        "target": {"name": "label", "type": "category", "classes": ["no", "yes"]},
    }
)


def _bool_frame(rows: int, seed: int) -> pd.DataFrame:
    """Rows whose label depends on both bool features, so the model must use them."""
    rng = np.random.default_rng(seed)
    amount = rng.normal(size=rows)
    paid = rng.random(rows) < 0.4
    joint = pd.array(rng.random(rows) < 0.5, dtype="boolean")
    joint[rng.random(rows) < 0.1] = pd.NA
    logit = amount + 2.0 * paid - 1.5 * joint.fillna(False).to_numpy(dtype=bool)
    label = np.where(logit + rng.normal(scale=0.5, size=rows) > 0.2, "yes", "no")
    return pd.DataFrame(
        {
            "amount": amount,
            "count": rng.integers(0, 5, rows),
            "paid": paid,
            "joint": joint,
            "region": pd.Series(rng.choice(["north", "south"], rows), dtype="string"),
            "label": pd.Series(label, dtype="string"),
        }
    )


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(max_iter=500),
        RandomForestClassifier(20, max_depth=6, random_state=0),
        HistGradientBoostingClassifier(max_iter=20, random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_bool_features_train_convert_and_evaluate_end_to_end(
    estimator: object, tmp_path: Path
) -> None:
    from fedledger.evaluate.engine import Evaluator
    from fedledger.evaluate.holdout import Holdout
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.policy import Decision, Task, TaskPolicy
    from fedledger.schema.conform import conform_file

    train_frame, holdout_frame = _bool_frame(800, seed=1), _bool_frame(300, seed=2)
    assert validate_frame(train_frame, BOOL_SCHEMA).ok
    trained = train(BOOL_SCHEMA, train_frame, estimator)
    model_bytes = convert(trained, task_id="bools")

    dtype = trained.numeric_dtype
    elem = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    inputs = {
        i.name: i.type.tensor_type.elem_type for i in onnx.load_from_string(model_bytes).graph.input
    }
    assert inputs == {
        "amount": elem,
        "count": elem,
        "paid": elem,
        "joint": elem,
        "region": onnx.TensorProto.STRING,
    }

    # The holdout arrives as CSV text: booleans written as true/FALSE/1/0, gaps left empty.
    csv = tmp_path / "holdout.csv"
    text = holdout_frame.copy()
    text["paid"] = np.where(holdout_frame["paid"], " TRUE", "0")
    text["joint"] = holdout_frame["joint"].map({True: "1", False: "false"}, na_action="ignore")
    text.to_csv(csv, index=False)
    conformed = conform_file(csv, BOOL_SCHEMA)
    assert not conformed.refused, conformed.describe_refusals()
    read = conformed.typed_frame()
    assert read["paid"].tolist() == holdout_frame["paid"].tolist()

    feeds = frame_to_feeds(read, BOOL_SCHEMA, dtype)
    assert feeds["paid"].dtype == np.dtype(dtype)
    assert set(np.unique(feeds["paid"])) == {0.0, 1.0}
    assert np.isnan(feeds["joint"]).sum() == holdout_frame["joint"].isna().sum()
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    _, proba = session.run(None, feeds)  # type: ignore[arg-type]
    expected = trained.pipeline.predict_proba(prepare_frame(holdout_frame, BOOL_SCHEMA, dtype))
    assert np.abs(proba - expected).max() <= 1e-6

    task = Task("bools", BOOL_SCHEMA, TaskPolicy("roc_auc", higher_is_better=True, min_score=0.7))
    limits = SandboxLimits(memory_bytes=1024**3, cpu_seconds=20, wall_seconds=60)
    with Holdout.load(csv, BOOL_SCHEMA) as holdout:
        result = Evaluator(limits).evaluate(model_bytes, task, holdout)
    from sklearn.metrics import roc_auc_score

    assert result.decision is Decision.APPROVE, result.reasons
    score = roc_auc_score(encode_target(holdout_frame, BOOL_SCHEMA), expected[:, 1])
    assert result.score == pytest.approx(score, abs=1e-6)


def test_nullable_bool_is_imputed_with_its_most_frequent_value() -> None:
    pipeline = build_pipeline(BOOL_SCHEMA, LogisticRegression())
    transformers = {n: t for n, t, _ in pipeline.named_steps["preprocess"].transformers}
    assert transformers["joint"].named_steps["impute"].strategy == "most_frequent"
    assert transformers["paid"].named_steps.keys() == {"scale"}


@pytest.mark.parametrize(
    ("estimator", "tolerance"),
    [(LogisticRegression(), 1e-12), (RandomForestClassifier(10, random_state=0), 1e-6)],
    ids=lambda p: type(p).__name__ if not isinstance(p, float) else str(p),
)
def test_nullable_numeric_features_run_in_onnxruntime(estimator: object, tolerance: float) -> None:
    """onnxruntime has no float64 Imputer: nullable features are imputed with IsNaN/Where."""
    schema = Schema.from_dict(
        {
            "features": [
                {"name": "a", "type": "float", "nullable": True},
                {"name": "b", "type": "int", "nullable": True},
            ],
            "target": {"name": "y", "type": "category", "classes": ["n", "y"]},
        }
    )
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    frame = pd.DataFrame(
        {
            "a": np.where(rng.random(300) < 0.2, np.nan, a),
            "b": pd.array(rng.integers(0, 4, 300), dtype="Int64"),
            "y": np.where(a > 0, "y", "n"),
        }
    )
    frame.loc[::7, "b"] = pd.NA
    trained = train(schema, frame, estimator)
    model_bytes = convert(trained, task_id="t")
    ops = {node.op_type for node in onnx.load_from_string(model_bytes).graph.node}
    assert {"IsNaN", "Where"} <= ops
    assert "Imputer" not in ops
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    _, proba = session.run(None, frame_to_feeds(frame, schema, trained.numeric_dtype))  # type: ignore[arg-type]
    expected = trained.pipeline.predict_proba(prepare_frame(frame, schema, trained.numeric_dtype))
    assert np.abs(proba - expected).max() <= tolerance
