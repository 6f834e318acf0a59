"""`fedledger models convert`'s paths: skops, XGBoost, LightGBM and foreign ONNX files, each
fitted to a task or refused with the input, type or output named (docs/bring-your-own-model.md)."""

from __future__ import annotations

from pathlib import Path

import lightgbm
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import skops.io
import xgboost
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fedledger.evaluate.limits import SandboxLimits
from fedledger.evaluate.policy import Task, TaskPolicy
from fedledger.evaluate.static import check_model
from fedledger.models import boosters
from fedledger.models.errors import (
    ConversionError,
    FitError,
    MissingLibraryError,
    NotFedledgerModelError,
    UntrustedTypesError,
)
from fedledger.models.foreign import convert_file
from fedledger.models.inputs import frame_to_feeds
from fedledger.models.scoring import Scorer
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.schema.types import Schema

MIXED = synthetic_schema(6)  # x0..x3 float, count int, region category
NUMERIC = Schema.from_dict(
    {
        "features": [f for f in MIXED.to_dict()["features"] if f["type"] != "category"],
        "target": MIXED.to_dict()["target"],
    }
)
REGRESSION = Schema.from_dict(
    {
        "features": NUMERIC.to_dict()["features"],
        "target": {"name": "value", "type": "float"},
    }
)
FRAME = synthetic_frame(MIXED, 400, seed=3)
NUMBERS = list(NUMERIC.feature_names)
Y = (FRAME["label"] == "yes").astype(int).to_numpy()


def _task(schema: Schema, task_id: str = "loans-1") -> Task:
    metric = "roc_auc" if schema.target.is_classification else "rmse"
    return Task(task_id, schema, TaskPolicy(metric, metric == "roc_auc"))


def _converted(path: Path, schema: Schema, **options: object) -> tuple[bytes, tuple[str, ...]]:
    """Convert, then pass the validators' own static checks."""
    converted = convert_file(path, schema, "loans-1", **options)  # type: ignore[arg-type]
    check_model(converted.data, _task(schema), SandboxLimits())
    return converted.data, converted.changes


def _probabilities(model: bytes, schema: Schema, dtype: str) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], frame_to_feeds(FRAME, schema, dtype))  # type: ignore[arg-type]
    assert np.array_equal(label, proba.argmax(axis=1))
    return np.asarray(proba)


# scikit-learn through skops


def test_a_skops_pipeline_on_class_names_converts_and_matches_scikit_learn(tmp_path: Path) -> None:
    regions = [list(MIXED.feature("region").categories)]
    pipeline = Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), NUMBERS),
                        (
                            "cat",
                            OneHotEncoder(categories=regions, handle_unknown="ignore"),
                            ["region"],
                        ),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=500)),
        ]
    ).fit(FRAME[list(MIXED.feature_names)], FRAME["label"].astype(str))
    path = tmp_path / "pipeline.skops"
    skops.io.dump(pipeline, path)
    model, changes = _converted(path, MIXED)
    expected = pipeline.predict_proba(FRAME[list(MIXED.feature_names)])
    assert np.abs(_probabilities(model, MIXED, "float64") - expected).max() < 1e-9
    assert changes == ()
    assert pipeline.classes_.tolist() == ["no", "yes"]  # the file's classifier is untouched


def test_a_skops_file_with_untrusted_types_is_refused_until_they_are_trusted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hgb.skops"
    skops.io.dump(HistGradientBoostingClassifier(max_iter=5).fit(FRAME[NUMBERS], Y), path)
    untrusted = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
    with pytest.raises(UntrustedTypesError) as refused:
        convert_file(path, NUMERIC, "loans-1")
    assert str(refused.value) == (
        f"{path} holds types skops does not trust: {untrusted}; nothing was loaded. If you "
        f"trust whoever wrote the file, name them: --trust {untrusted}"
    )
    model, _ = _converted(path, NUMERIC, trusted=[untrusted])
    assert _probabilities(model, NUMERIC, "float32").shape == (len(FRAME), 2)


def test_a_skops_classifier_with_other_class_names_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    labels = np.where(Y == 1, "bad", "good")
    skops.io.dump(LogisticRegression().fit(FRAME[NUMBERS], labels), path)
    with pytest.raises(ConversionError) as refused:
        convert_file(path, NUMERIC, "loans-1")
    assert str(refused.value) == (
        "the classifier's classes ['bad', 'good'] are not the task's classes ['no', 'yes'] in "
        "the task's order: train on the task's class names (all of them), or on their indices "
        "(fedledger.models.inputs.encode_target)"
    )


# XGBoost and LightGBM


def test_an_xgboost_model_with_feature_names_in_another_order_converts(tmp_path: Path) -> None:
    columns = NUMBERS[::-1]
    classifier = xgboost.XGBClassifier(n_estimators=10).fit(FRAME[columns], Y)
    path = tmp_path / "model.ubj"
    classifier.save_model(path)
    model, changes = _converted(path, NUMERIC)
    expected = classifier.predict_proba(FRAME[columns])
    assert np.abs(_probabilities(model, NUMERIC, "float32") - expected).max() < 1e-5
    assert changes == (
        "input 'features' of 5 columns became one input per feature "
        "(columns in the order count, x3, x2, x1, x0)",
    )


def test_an_xgboost_regressor_fits_a_regression_task(tmp_path: Path) -> None:
    target = FRAME["x0"].to_numpy() * 2.0
    regressor = xgboost.XGBRegressor(n_estimators=10).fit(FRAME[NUMBERS].to_numpy(), target)
    path = tmp_path / "model.json"
    regressor.save_model(path)
    model, _ = _converted(path, REGRESSION)
    scores = Scorer(model, REGRESSION).score(FRAME)  # as `fedledger predict` scores
    assert scores.predictions is not None
    expected = regressor.predict(FRAME[NUMBERS].to_numpy())
    assert np.abs(scores.predictions - expected).max() < 1e-4


def test_a_booster_for_the_wrong_kind_of_task_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    xgboost.XGBRegressor(n_estimators=2).fit(FRAME[NUMBERS].to_numpy(), Y).save_model(path)
    with pytest.raises(FitError) as refused:
        convert_file(path, NUMERIC, "loans-1")
    assert str(refused.value) == (
        f"{path} was trained with objective 'reg:squarederror'; the task needs a classification one"
    )


def test_a_lightgbm_booster_converts_and_matches_lightgbm(tmp_path: Path) -> None:
    classifier = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1)
    classifier.fit(FRAME[NUMBERS].to_numpy(), Y)
    path = tmp_path / "model.txt"
    classifier.booster_.save_model(path)
    model, changes = _converted(path, NUMERIC)
    expected = classifier.predict_proba(FRAME[NUMBERS].to_numpy())
    assert np.abs(_probabilities(model, NUMERIC, "float32") - expected).max() < 1e-5
    assert changes[0].endswith("(columns in the order x0, x1, x2, x3, count)")


def test_a_booster_cannot_serve_a_task_with_category_features(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    numbers = FRAME[NUMBERS].assign(
        region=FRAME["region"].cat.codes if hasattr(FRAME["region"], "cat") else 0
    )
    lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(
        numbers.to_numpy(dtype=float), Y
    ).booster_.save_model(path)
    with pytest.raises(FitError) as refused:
        convert_file(path, MIXED, "loans-1")
    assert str(refused.value) == (
        "the model's one input 'features' (FLOAT [None, 6]) is a numeric matrix, but the "
        "task's feature(s) ['region'] are categories, which a matrix cannot carry: export one "
        "[N, 1] input per feature, category features as STRING (e.g. a scikit-learn pipeline "
        "with a OneHotEncoder, saved with skops)"
    )


def test_without_the_boosters_extra_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def absent(name: str) -> None:
        raise ImportError(name)

    monkeypatch.setattr(boosters, "import_module", absent)
    path = tmp_path / "model.txt"
    path.write_text("tree\n")
    with pytest.raises(MissingLibraryError) as refused:
        convert_file(path, NUMERIC, "loans-1")
    assert str(refused.value) == (
        "converting a LightGBM model needs the lightgbm package, which is not installed: run "
        "`uv sync --extra boosters` (or pip install 'fedledger[boosters]')"
    )


# ONNX files from other tools


def _skl2onnx(tmp_path: Path, *, zipmap: bool, per_feature: bool) -> Path:
    # skl2onnx joins several inputs for a scaler, not for a bare classifier
    classifier = make_pipeline(StandardScaler(), LogisticRegression())
    classifier.fit(FRAME[NUMBERS].to_numpy(), Y)
    inputs = (
        [(name, DoubleTensorType([None, 1])) for name in NUMBERS]
        if per_feature
        else [("float_input", DoubleTensorType([None, len(NUMBERS)]))]
    )
    options = {id(classifier): {"zipmap": zipmap}}
    model = convert_sklearn(classifier, initial_types=inputs, options=options, target_opset=17)
    path = tmp_path / "foreign.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_a_foreign_onnx_file_that_fits_gets_metadata_and_nothing_else(tmp_path: Path) -> None:
    path = _skl2onnx(tmp_path, zipmap=False, per_feature=True)
    with pytest.raises(NotFedledgerModelError) as refused:
        check_model(path.read_bytes(), _task(NUMERIC), SandboxLimits())
    assert str(refused.value) == (
        "model metadata lacks fedledger.format_version: the file was not made for a fedledger "
        "task; run `fedledger models convert --task loans-1 MODEL --out model.onnx` to fit it "
        "to the task (docs/bring-your-own-model.md)"
    )
    model, changes = _converted(path, NUMERIC)
    assert changes == ()
    props = {p.key: p.value for p in onnx.load_from_string(model).metadata_props}
    assert props["fedledger.task_id"] == "loans-1"
    assert props["fedledger.numeric_dtype"] == "float64"


def test_a_foreign_onnx_matrix_input_is_split_into_the_features(tmp_path: Path) -> None:
    path = _skl2onnx(tmp_path, zipmap=False, per_feature=False)
    model, changes = _converted(path, NUMERIC)
    assert changes[0] == (
        "input 'float_input' of 5 columns became one input per feature "
        "(columns in the order x0, x1, x2, x3, count)"
    )
    classifier = make_pipeline(StandardScaler(), LogisticRegression())
    expected = classifier.fit(FRAME[NUMBERS].to_numpy(), Y).predict_proba(FRAME[NUMBERS].to_numpy())
    assert np.abs(_probabilities(model, NUMERIC, "float64") - expected).max() < 1e-9


def test_a_foreign_onnx_file_with_zipmap_output_is_refused(tmp_path: Path) -> None:
    path = _skl2onnx(tmp_path, zipmap=True, per_feature=True)
    with pytest.raises(FitError) as refused:
        convert_file(path, NUMERIC, "loans-1")
    assert str(refused.value) == (
        "a classifier must output one FLOAT tensor [N, 2] of class probabilities; this model "
        "outputs ['output_label (INT64 [None])', 'output_probability (not a tensor: a ZipMap "
        "sequence of maps?)']; export it without ZipMap (skl2onnx: options={id(model): "
        "{'zipmap': False}}; onnxmltools: zipmap=False)"
    )


def _handmade(tmp_path: Path, inputs: list[onnx.ValueInfoProto], width: int = 2) -> Path:
    """A graph whose inputs are `inputs` and whose one output is a float [N, width] matrix."""
    first = inputs[0].name
    nodes = [helper.make_node("Cast", [first], ["as_float"], to=TensorProto.FLOAT)]
    nodes.append(helper.make_node("Concat", ["as_float"] * width, ["scores"], axis=1))
    output = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, width])
    graph = helper.make_graph(nodes, "handmade", inputs, [output])
    path = tmp_path / "handmade.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    return path


def _feature_inputs(types: dict[str, int]) -> list[onnx.ValueInfoProto]:
    return [
        helper.make_tensor_value_info(name, types.get(name, TensorProto.DOUBLE), [None, 1])
        for name in NUMERIC.feature_names
    ]


def test_a_foreign_onnx_file_with_a_wrong_input_name_is_refused(tmp_path: Path) -> None:
    inputs = _feature_inputs({})
    inputs[4].name = "n_accounts"
    with pytest.raises(FitError) as refused:
        convert_file(_handmade(tmp_path, inputs), NUMERIC, "loans-1")
    assert str(refused.value) == (
        "the model's inputs ['n_accounts', 'x0', 'x1', 'x2', 'x3'] are not the task's features: "
        "missing ['count'], unexpected ['n_accounts']; export one [N, 1] input per feature "
        "named after it, or one [N, 5] FLOAT input holding every feature in the task's order"
    )


def test_a_foreign_onnx_file_with_a_wrong_input_type_is_refused(tmp_path: Path) -> None:
    inputs = _feature_inputs({"count": TensorProto.INT64})
    with pytest.raises(FitError) as refused:
        convert_file(_handmade(tmp_path, inputs), NUMERIC, "loans-1")
    assert str(refused.value) == (
        "input 'count' is INT64; the task's feature 'count' is int: declare the input as "
        "FLOAT or DOUBLE [N, 1]"
    )


def test_a_foreign_onnx_matrix_of_the_wrong_width_is_refused(tmp_path: Path) -> None:
    matrix = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])]
    with pytest.raises(FitError) as refused:
        convert_file(_handmade(tmp_path, matrix), NUMERIC, "loans-1")
    assert str(refused.value) == (
        "the model's one input 'X' (FLOAT [None, 4]) must have shape [N, 5]: one column per "
        "feature of the task, in this order: x0, x1, x2, x3, count"
    )


def test_a_foreign_onnx_file_with_a_wrong_output_is_refused(tmp_path: Path) -> None:
    path = _handmade(tmp_path, _feature_inputs({}), width=1)
    with pytest.raises(FitError) as refused:
        convert_file(path, NUMERIC, "loans-1")
    assert str(refused.value) == (
        "output 'scores' has 1 columns; the task has 2 classes: output one probability per "
        "class, in the order of the task's classes"
    )


def test_a_foreign_classifier_without_a_label_gets_the_most_probable_class(
    tmp_path: Path,
) -> None:
    model, changes = _converted(_handmade(tmp_path, _feature_inputs({})), NUMERIC)
    assert changes == (
        "output 'scores' is now named 'probabilities'",
        "output 'label' is the most probable class (ArgMax)",
    )
    assert [o.name for o in onnx.load_from_string(model).graph.output] == [
        "label",
        "probabilities",
    ]


def test_an_unknown_suffix_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80")
    with pytest.raises(ConversionError) as refused:
        convert_file(path, NUMERIC, "loans-1")
    assert str(refused.value) == (
        f"{path}: cannot tell the model's kind from the suffix '.pkl'; name it .skops "
        "(scikit-learn (skops)), .json (XGBoost), .ubj (XGBoost), .txt (LightGBM), .onnx (ONNX)"
    )
