"""Evaluation engine: static checks, sandboxed inference, output checks, metrics and policy.

Hostile models are built here with onnx.helper so each fault is exactly the one under test.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from sklearn.linear_model import LinearRegression, LogisticRegression

from fedledger.evaluate import sandbox as sandbox_module
from fedledger.evaluate.engine import Evaluator
from fedledger.evaluate.errors import (
    CustomOperatorError,
    EvaluatorError,
    ExternalDataError,
    GraphTooComplexError,
    HoldoutError,
    InferenceFailedError,
    InputSignatureError,
    InvalidModelError,
    ModelSizeError,
    OutputSignatureError,
    ResourceLimitError,
    SandboxStarvedError,
    UnsupportedVersionError,
)
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.limits import SandboxLimits
from fedledger.evaluate.policy import Decision, Task, TaskPolicy
from fedledger.evaluate.report import EvaluationReport
from fedledger.evaluate.runtime_support import (
    RuntimeSupport,
    highest_accepted,
    installed_support,
)
from fedledger.evaluate.static import check_model
from fedledger.models.conversion import convert
from fedledger.models.errors import MalformedModelError, SchemaMismatchError
from fedledger.models.metadata import ModelMetadata
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.schema.types import Schema

SCHEMA = synthetic_schema(6)
DATA = synthetic_frame(SCHEMA, 1600, seed=3)
TRAIN, HOLDOUT = DATA.iloc[:1000], DATA.iloc[1000:].reset_index(drop=True)
TASK = Task("loans", SCHEMA, TaskPolicy("roc_auc", higher_is_better=True, min_score=0.7))
LIMITS = SandboxLimits(memory_bytes=1024**3, cpu_seconds=20, wall_seconds=60)
LR_MODEL = convert(train(SCHEMA, TRAIN, LogisticRegression(max_iter=500)), task_id="loans")


@pytest.fixture(scope="module")
def holdout() -> Iterator[Holdout]:
    with Holdout(HOLDOUT, SCHEMA) as h:
        yield h


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator(LIMITS)


def _handmade(
    nodes: list[onnx.NodeProto],
    initializers: list[TensorProto] = (),  # type: ignore[assignment]
    *,
    schema: Schema = SCHEMA,
    task_id: str = "loans",
    kind: str = "classification",
    inputs: list[onnx.ValueInfoProto] | None = None,
    outputs: list[onnx.ValueInfoProto] | None = None,
) -> onnx.ModelProto:
    """A classifier whose nodes compute `p` ([N, 1] double) from the inputs; the rest is fixed."""
    tail = [
        helper.make_node("Sub", ["one", "p"], ["q"]),
        helper.make_node("Concat", ["q", "p"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    feature_inputs = [
        helper.make_tensor_value_info(
            f.name, TensorProto.STRING if f.type == "category" else TensorProto.DOUBLE, [None, 1]
        )
        for f in schema.features
    ]
    graph = helper.make_graph(
        nodes + tail,
        "handmade",
        inputs if inputs is not None else feature_inputs,
        outputs
        if outputs is not None
        else [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, [None, 2]),
        ],
        [helper.make_tensor("one", TensorProto.DOUBLE, [], [1.0]), *initializers],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    metadata = ModelMetadata(task_id, schema.sha256(), kind, "float64", 1)  # type: ignore[arg-type]
    helper.set_model_props(model, metadata.to_props())
    return model


def _bytes(model: onnx.ModelProto) -> bytes:
    return bytes(model.SerializeToString())


SIGMOID = [helper.make_node("Sigmoid", ["x0"], ["p"])]


def test_good_model_is_approved_with_a_full_report(evaluator: Evaluator, holdout: Holdout) -> None:
    report = evaluator.evaluate(LR_MODEL, TASK, holdout)
    assert report.decision is Decision.APPROVE, report.reasons
    assert report.error_code is None
    assert report.rows == len(HOLDOUT)
    assert set(report.metrics) == {"roc_auc", "accuracy", "f1", "log_loss", "brier"}
    assert report.score == report.metrics["roc_auc"] > 0.7
    assert report.model_sha256 == __import__("hashlib").sha256(LR_MODEL).hexdigest()
    assert report.evaluator_version.startswith("fedledger/")
    assert report.duration_seconds > 0
    assert EvaluationReport.from_dict(json.loads(report.to_json())) == report


def test_scores_match_scikit_learn(evaluator: Evaluator, holdout: Holdout) -> None:
    from sklearn.metrics import roc_auc_score

    from fedledger.models.inputs import encode_target, prepare_frame

    trained = train(SCHEMA, TRAIN, LogisticRegression(max_iter=500))
    proba = trained.pipeline.predict_proba(prepare_frame(HOLDOUT, SCHEMA, "float64"))[:, 1]
    expected = roc_auc_score(encode_target(HOLDOUT, SCHEMA), proba)
    report = evaluator.evaluate(LR_MODEL, TASK, holdout)
    assert report.score == pytest.approx(expected, abs=1e-12)


def test_holdout_path_is_read_and_validated(evaluator: Evaluator, tmp_path: Path) -> None:
    path = tmp_path / "holdout.parquet"
    HOLDOUT.to_parquet(path)
    report = evaluator.evaluate(LR_MODEL, TASK, path)
    assert report.decision is Decision.APPROVE


def test_policy_minimum_and_champion_regression(evaluator: Evaluator, holdout: Holdout) -> None:
    strict = Task("loans", SCHEMA, TaskPolicy("roc_auc", True, min_score=0.999))
    report = evaluator.evaluate(LR_MODEL, strict, holdout)
    assert report.decision is Decision.REJECT
    assert "below the task's minimum 0.999" in report.reasons[0]
    veto = Task("loans", SCHEMA, TaskPolicy("log_loss", False, max_regression=0.01))
    report = evaluator.evaluate(LR_MODEL, veto, holdout, champion_score=0.05)
    assert report.decision is Decision.REJECT
    assert "from the champion's 0.05, more than the allowed 0.01" in report.reasons[0]


def test_policy_rules() -> None:
    policy = TaskPolicy("rmse", False, min_score=2.0, max_regression=0.5)
    assert policy.decide(1.9, champion_score=1.5)[0] is Decision.APPROVE
    assert policy.decide(2.1, None)[0] is Decision.REJECT
    assert policy.decide(1.9, champion_score=1.0)[0] is Decision.REJECT
    assert policy.decide(float("nan"), None)[0] is Decision.REJECT
    with pytest.raises(ValueError, match="contradicts log_loss: lower is better"):
        TaskPolicy("log_loss", True)
    with pytest.raises(ValueError, match="'auc' is not one of"):
        TaskPolicy("auc", True)
    with pytest.raises(ValueError, match="metric 'rmse' does not fit its target"):
        Task("t", SCHEMA, TaskPolicy("rmse", False))


def test_regression_task() -> None:
    schema = synthetic_schema(5, classification=False)
    data = synthetic_frame(schema, 800, seed=2)
    model = convert(train(schema, data.iloc[:500], LinearRegression()), task_id="prices")
    task = Task("prices", schema, TaskPolicy("r2", True, min_score=0.5))
    report = Evaluator(LIMITS).evaluate(model, task, Holdout(data.iloc[500:], schema))
    assert report.decision is Decision.APPROVE, report.reasons
    assert set(report.metrics) == {"rmse", "mae", "r2"}
    assert report.metrics["r2"] > 0.9


# --- bad input: each asserts its specific error -------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\x00garbage\xff" * 10, LR_MODEL[: len(LR_MODEL) // 2]])
def test_garbage_or_truncated_bytes(data: bytes, evaluator: Evaluator, holdout: Holdout) -> None:
    with pytest.raises(MalformedModelError):
        check_model(data, TASK, LIMITS)
    report = evaluator.evaluate(data, TASK, holdout)
    assert (report.decision, report.error_code) == (Decision.REJECT, "malformed")


def test_model_from_another_task_schema(evaluator: Evaluator, holdout: Holdout) -> None:
    other_schema = synthetic_schema(6, classification=True)
    other = Schema(other_schema.features[::-1], other_schema.target)
    model = _bytes(_handmade(SIGMOID, schema=other))
    with pytest.raises(SchemaMismatchError, match=other.sha256()):
        check_model(model, TASK, LIMITS)
    assert evaluator.evaluate(model, TASK, holdout).error_code == "schema_mismatch"


def test_custom_operator_domain() -> None:
    model = _handmade([helper.make_node("Sigmoid", ["x0"], ["p"], domain="com.evil")])
    model.opset_import.append(helper.make_opsetid("com.evil", 1))
    with pytest.raises(CustomOperatorError, match=r"domain 'com\.evil'"):
        check_model(_bytes(model), TASK, LIMITS)
    del model.opset_import[-1]
    with pytest.raises(CustomOperatorError, match=r"uses operator com\.evil\.Sigmoid"):
        check_model(_bytes(model), TASK, LIMITS)


def test_external_data_reference(evaluator: Evaluator, holdout: Holdout) -> None:
    weight = helper.make_tensor("w", TensorProto.DOUBLE, [1], [2.0])
    weight.ClearField("double_data")
    weight.data_location = TensorProto.EXTERNAL
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    model = _handmade(
        [helper.make_node("Mul", ["x0", "w"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])],
        [weight],
    )
    with pytest.raises(ExternalDataError, match="external data '/etc/passwd'"):
        check_model(_bytes(model), TASK, LIMITS)
    assert evaluator.evaluate(_bytes(model), TASK, holdout).error_code == "external_data"


def test_wrong_input_names() -> None:
    inputs = [helper.make_tensor_value_info("amount", TensorProto.DOUBLE, [None, 1])]
    model = _handmade([helper.make_node("Sigmoid", ["amount"], ["p"])], inputs=inputs)
    with pytest.raises(InputSignatureError, match=r"missing \['x0', .*unexpected \['amount'\]"):
        check_model(_bytes(model), TASK, LIMITS)


@pytest.mark.parametrize(
    ("name", "elem", "shape", "message"),
    [
        ("x0", TensorProto.INT64, [None, 1], "is INT64; a float feature needs FLOAT or DOUBLE"),
        ("region", TensorProto.FLOAT, [None, 1], "is FLOAT; a category feature needs STRING"),
        ("x0", TensorProto.DOUBLE, [None, 3], r"has shape \[None, 3\]; expected \[N, 1\]"),
    ],
)
def test_wrong_input_types(name: str, elem: int, shape: list[int | None], message: str) -> None:
    model = _handmade(SIGMOID)
    for value in model.graph.input:
        if value.name == name:
            value.CopyFrom(helper.make_tensor_value_info(name, elem, shape))
    with pytest.raises(InputSignatureError, match=message):
        check_model(_bytes(model), TASK, LIMITS)


def test_regressor_where_a_classifier_is_expected(evaluator: Evaluator, holdout: Holdout) -> None:
    regression = synthetic_schema(6, classification=False)
    regressor = onnx.load_from_string(
        convert(train(regression, synthetic_frame(regression, 300), LinearRegression()), "loans")
    )
    # Honest metadata says "regression": refused as the wrong kind of model.
    for prop in regressor.metadata_props:
        if prop.key == "fedledger.schema_sha256":
            prop.value = SCHEMA.sha256()
    with pytest.raises(SchemaMismatchError, match="is a regression model"):
        check_model(_bytes(regressor), TASK, LIMITS)
    # Forged metadata claiming "classification": refused by its outputs.
    for prop in regressor.metadata_props:
        if prop.key == "fedledger.kind":
            prop.value = "classification"
    with pytest.raises(OutputSignatureError, match="must output 'label' and 'probabilities'"):
        check_model(_bytes(regressor), TASK, LIMITS)
    assert evaluator.evaluate(_bytes(regressor), TASK, holdout).error_code == "output_signature"


def test_nan_outputs(evaluator: Evaluator, holdout: Holdout) -> None:
    nan = helper.make_tensor("nan", TensorProto.DOUBLE, [], [float("nan")])
    model = _handmade([helper.make_node("Mul", ["x0", "nan"], ["p"])], [nan])
    report = evaluator.evaluate(_bytes(model), TASK, holdout)
    assert report.error_code == "invalid_output"
    assert "probabilities holds 1200 NaN or infinite value(s)" in report.reasons[0]


def test_probabilities_outside_unit_interval(evaluator: Evaluator, holdout: Holdout) -> None:
    scale = helper.make_tensor("scale", TensorProto.DOUBLE, [], [3.0])
    model = _handmade(
        [
            helper.make_node("Sigmoid", ["x0"], ["s"]),
            helper.make_node("Mul", ["s", "scale"], ["p"]),
        ],
        [scale],
    )
    report = evaluator.evaluate(_bytes(model), TASK, holdout)
    assert report.error_code == "invalid_output"
    assert "outside [0, 1]" in report.reasons[0]


def test_model_allocating_beyond_the_memory_limit(holdout: Holdout) -> None:
    # 600 rows x 1,000,000 doubles = 4.8 GB, well within the machine, far beyond the 512 MiB cap.
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 1_000_000])
    model = _handmade(
        [
            helper.make_node("Expand", ["x0", "shape"], ["big"]),
            helper.make_node("ReduceMean", ["big"], ["m"], axes=[1], keepdims=1),
            helper.make_node("Sigmoid", ["m"], ["p"]),
        ],
        [shape],
    )
    limits = SandboxLimits(memory_bytes=512 * 1024**2, cpu_seconds=20, wall_seconds=60)
    report = Evaluator(limits).evaluate(_bytes(model), TASK, holdout)
    assert report.error_code == ResourceLimitError.code, report.reasons
    assert "more memory than the 536870912 byte limit" in report.reasons[0]


def test_model_over_the_cpu_limit(holdout: Holdout) -> None:
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 600])
    nodes = [helper.make_node("Expand", ["x0", "shape"], ["a0"])]
    for i in range(400):  # 400 products of 600 x 600 matrices: minutes of CPU time
        nodes.append(helper.make_node("MatMul", [f"a{i}", f"a{i}"], [f"a{i + 1}"]))
    nodes += [
        helper.make_node("ReduceMean", ["a400"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Sigmoid", ["m"], ["p"]),
    ]
    model = _handmade(nodes, [shape])
    limits = SandboxLimits(memory_bytes=1024**3, cpu_seconds=1, wall_seconds=60)
    report = Evaluator(limits).evaluate(_bytes(model), TASK, holdout)
    assert report.error_code == "resource_limit", report.reasons
    assert "model used its whole CPU budget of 1 s (2 s + 5 s per million" in report.reasons[0]
    assert "(600 rows x 6 columns)" in report.reasons[0]
    assert report.reasons[0].endswith("MiB), capped at 1 s)")


def test_the_wall_clock_backstop_is_our_fault_not_the_models(holdout: Holdout) -> None:
    limits = SandboxLimits(wall_seconds=0.001)
    with pytest.raises(SandboxStarvedError) as raised:
        Evaluator(limits).evaluate(LR_MODEL, TASK, holdout)
    assert isinstance(raised.value, EvaluatorError)
    assert "CPU budget within the 0.001 s wall-clock backstop: this machine is too busy" in str(
        raised.value
    )


def test_crashing_sandbox_is_a_reject_not_a_crash(holdout: Holdout) -> None:
    evaluator = Evaluator(LIMITS, sandbox_command=["/bin/sh", "-c", "kill -SEGV $$"])
    report = evaluator.evaluate(LR_MODEL, TASK, holdout)
    assert report.error_code == InferenceFailedError.code
    assert "died with SIGSEGV" in report.reasons[0]
    evaluator = Evaluator(LIMITS, sandbox_command=["/bin/sh", "-c", "exit 3"])
    assert (
        "exited with status 3 without a result"
        in (evaluator.evaluate(LR_MODEL, TASK, holdout).reasons[0])
    )


def test_onnxruntime_failure_is_reported(evaluator: Evaluator, holdout: Holdout) -> None:
    # Valid to the checker, but the reshape target does not fit the data at run time.
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [7, 1])
    model = _handmade(
        [
            helper.make_node("Reshape", ["x0", "shape"], ["r"]),
            helper.make_node("Sigmoid", ["r"], ["p"]),
        ],
        [shape],
    )
    report = evaluator.evaluate(_bytes(model), TASK, holdout)
    assert report.error_code == "inference_failed"
    assert report.reasons[0].startswith("inference_failed: onnxruntime failed: ")
    assert "/" not in report.reasons[0].replace("<path>", "")


def test_model_larger_than_the_task_limit(evaluator: Evaluator, holdout: Holdout) -> None:
    task = Task("loans", SCHEMA, TaskPolicy("roc_auc", True, max_model_bytes=1000))
    with pytest.raises(ModelSizeError, match=f"model is {len(LR_MODEL)} bytes, over the task's"):
        check_model(LR_MODEL, task, LIMITS)
    assert evaluator.evaluate(LR_MODEL, task, holdout).error_code == "too_large"


def test_graph_limits_and_checker() -> None:
    with pytest.raises(GraphTooComplexError, match="nodes, over the limit of 3"):
        check_model(LR_MODEL, TASK, SandboxLimits(max_nodes=3))
    model = _handmade([helper.make_node("NoSuchOp", ["x0"], ["p"])])
    with pytest.raises(InvalidModelError, match=r"onnx\.checker refused"):
        check_model(_bytes(model), TASK, LIMITS)


def test_holdout_missing_a_column_or_with_unknown_category(tmp_path: Path) -> None:
    with pytest.raises(HoldoutError, match="missing column 'x1'"):
        Holdout(HOLDOUT.drop(columns=["x1"]), SCHEMA)
    bad = HOLDOUT.copy()
    bad.loc[3, "region"] = "atlantis"
    path = tmp_path / "holdout.csv"
    bad.to_csv(path, index=False)
    # Read as `data check` reads it: the CSV's header is row 1, so index 3 is row 5.
    with pytest.raises(HoldoutError, match=r"row 5, region 'atlantis': not one of the categories"):
        Evaluator(LIMITS).evaluate(LR_MODEL, TASK, path)


def test_holdout_input_files_are_written_once(holdout: Holdout) -> None:
    first = holdout.input_files({"x0": "float64", "region": "str"})
    again = holdout.input_files({"x0": "float64", "region": "str"})
    assert first == again
    assert np.load(first["region"]).dtype.kind == "U"


def test_evaluations_at_once_each_get_the_columns_they_asked_for() -> None:
    # Two models on one holdout at once (a validator's evaluation slots), one reading float64
    # and one float32: each feature's file must hold that feature, in that dtype.
    wanted = {
        dtype: {f.name: "str" if f.type == "category" else dtype for f in SCHEMA.features}
        for dtype in ("float64", "float32")
    }
    for _ in range(30):
        with Holdout(HOLDOUT, SCHEMA) as shared:
            start = threading.Barrier(len(wanted))
            files: dict[str, dict[str, Path]] = {}

            def ask(
                dtype: str,
                shared: Holdout = shared,
                start: threading.Barrier = start,
                files: dict[str, dict[str, Path]] = files,
            ) -> None:
                start.wait()
                files[dtype] = shared.input_files(wanted[dtype])

            askers = [threading.Thread(target=ask, args=(dtype,)) for dtype in wanted]
            for asker in askers:
                asker.start()
            for asker in askers:
                asker.join()
            for dtype, paths in files.items():
                for name, path in paths.items():
                    column = np.load(path).reshape(-1)
                    if wanted[dtype][name] == "str":
                        assert column.tolist() == HOLDOUT[name].astype(str).tolist(), name
                    else:
                        assert column.dtype == np.dtype(dtype), (name, column.dtype)
                        expected = HOLDOUT[name].to_numpy(dtype=np.float64)
                        np.testing.assert_allclose(column, expected, rtol=1e-6, err_msg=name)


def test_spare_sandbox_serves_one_evaluation_each(holdout: Holdout) -> None:
    with Evaluator(LIMITS, keep_spare=True) as evaluator:
        first = evaluator.evaluate(LR_MODEL, TASK, holdout)
        spare = evaluator._spare
        assert spare is not None
        second = evaluator.evaluate(LR_MODEL, TASK, holdout)
        assert evaluator._spare is not spare
        assert spare.process.poll() is not None  # used once, then gone
    assert first.metrics == second.metrics
    assert evaluator._spare is None


# --- the zygote: one fork server per Evaluator, one child per model -------------------------


def _slow_model() -> bytes:
    """Minutes of CPU time: 400 products of 600 x 600 matrices."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 600])
    nodes = [helper.make_node("Expand", ["x0", "shape"], ["a0"])]
    for i in range(400):
        nodes.append(helper.make_node("MatMul", [f"a{i}", f"a{i}"], [f"a{i + 1}"]))
    nodes += [
        helper.make_node("ReduceMean", ["a400"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Sigmoid", ["m"], ["p"]),
    ]
    return _bytes(_handmade(nodes, [shape]))


def _zygote_pid(evaluator: Evaluator) -> int:
    assert evaluator._zygote is not None
    return evaluator._zygote.pid


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _ended(pid: int) -> bool:
    """Gone, or a zombie waiting for init to reap it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.01)
    return False


def _evaluate_in_background(
    evaluator: Evaluator, model: bytes, holdout: Holdout
) -> tuple[threading.Thread, list[EvaluationReport | BaseException]]:
    outcome: list[EvaluationReport | BaseException] = []

    def target() -> None:
        try:
            outcome.append(evaluator.evaluate(model, TASK, holdout))
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _wait_for_child(evaluator: Evaluator) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if evaluator._zygote is not None and (children := _children(evaluator._zygote.pid)):
            return children[0]
        time.sleep(0.01)
    raise AssertionError("the zygote forked no child within 30 s")


def _wait_until_computing(pid: int, cpu_seconds: float = 0.3) -> None:
    """Until `pid` has used `cpu_seconds` of CPU (it only computes once its request arrived)."""
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / tick >= cpu_seconds:
            return
        time.sleep(0.01)
    raise AssertionError(f"the child {pid} did not start computing within 60 s")


def test_each_model_runs_in_a_new_child_of_one_zygote(holdout: Holdout) -> None:
    with Evaluator(LIMITS) as evaluator:
        first = evaluator.evaluate(LR_MODEL, TASK, holdout)
        zygote = _zygote_pid(evaluator)
        second = evaluator.evaluate(LR_MODEL, TASK, holdout)
        assert _zygote_pid(evaluator) == zygote
        assert _children(zygote) == []  # each child exited with its evaluation
    assert first.metrics == second.metrics
    assert first.decision is Decision.APPROVE
    with pytest.raises(ProcessLookupError):
        os.kill(zygote, 0)  # close() ended it


def test_child_crash_cpu_limit_and_timeout_leave_the_zygote_serving(holdout: Holdout) -> None:
    limits = SandboxLimits(memory_bytes=1024**3, cpu_seconds=1, wall_seconds=60)
    with Evaluator(limits) as evaluator:
        assert evaluator.evaluate(LR_MODEL, TASK, holdout).decision is Decision.APPROVE
        zygote = _zygote_pid(evaluator)
        # A crash: the child dies of SIGSEGV while it runs the model.
        thread, outcome = _evaluate_in_background(evaluator, _slow_model(), holdout)
        os.kill(_wait_for_child(evaluator), signal.SIGSEGV)
        thread.join(60)
        [crashed] = outcome
        assert isinstance(crashed, EvaluationReport)
        assert crashed.error_code == "inference_failed"
        assert "died with SIGSEGV" in crashed.reasons[0]
        # RLIMIT_CPU: the kernel kills the child.
        report = evaluator.evaluate(_slow_model(), TASK, holdout)
        assert report.error_code == "resource_limit", report.reasons
        assert "used its whole CPU budget of 1 s" in report.reasons[0]
        assert evaluator.evaluate(LR_MODEL, TASK, holdout).decision is Decision.APPROVE
        assert _zygote_pid(evaluator) == zygote
    limits = SandboxLimits(memory_bytes=1024**3, cpu_seconds=20, wall_seconds=0.5)
    with Evaluator(limits) as evaluator:
        assert evaluator.evaluate(LR_MODEL, TASK, holdout).decision is Decision.APPROVE
        zygote = _zygote_pid(evaluator)
        # The wall clock: the zygote kills the child by pid.
        with pytest.raises(SandboxStarvedError, match=r"within the 0\.5 s wall-clock backstop"):
            evaluator.evaluate(_slow_model(), TASK, holdout)
        assert _children(zygote) == []
        assert evaluator.evaluate(LR_MODEL, TASK, holdout).decision is Decision.APPROVE
        assert _zygote_pid(evaluator) == zygote


def test_a_killed_zygote_is_replaced_at_the_next_evaluation(holdout: Holdout) -> None:
    with Evaluator(LIMITS) as evaluator:
        evaluator.evaluate(LR_MODEL, TASK, holdout)
        zygote = _zygote_pid(evaluator)
        os.kill(zygote, signal.SIGKILL)
        report = evaluator.evaluate(LR_MODEL, TASK, holdout)
        assert report.decision is Decision.APPROVE, report.reasons
        assert _zygote_pid(evaluator) != zygote


def test_zygote_killed_during_an_evaluation_is_the_evaluators_fault(holdout: Holdout) -> None:
    with Evaluator(LIMITS) as evaluator:
        thread, outcome = _evaluate_in_background(evaluator, _slow_model(), holdout)
        child = _wait_for_child(evaluator)
        # A child that computes has its request, so the evaluator waits on it: killed earlier,
        # while forking, the zygote fails the fork instead (a different error, seen under load).
        _wait_until_computing(child)
        os.kill(_zygote_pid(evaluator), signal.SIGKILL)
        thread.join(60)
        [error] = outcome
        assert isinstance(error, EvaluatorError)
        assert "ended during the evaluation" in str(error)
        assert _ended(child)  # the orphaned child went with its zygote's process group
        assert evaluator.evaluate(LR_MODEL, TASK, holdout).decision is Decision.APPROVE


def test_zygote_that_cannot_start_raises_evaluator_error(
    holdout: Holdout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "sandbox.py"
    broken.write_text("import sys\nsys.exit('onnxruntime is not installed')\n")
    monkeypatch.setattr(sandbox_module, "__file__", str(broken))
    with (
        Evaluator(LIMITS) as evaluator,
        pytest.raises(EvaluatorError, match="before it was ready: onnxruntime is not installed"),
    ):
        evaluator.evaluate(LR_MODEL, TASK, holdout)


def test_zygote_with_a_thread_refuses_to_fork(
    holdout: Holdout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Path(str(sandbox_module.__file__)).resolve()
    threaded = tmp_path / "sandbox.py"
    threaded.write_text(
        "import runpy, threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        f"runpy.run_path({str(real)!r}, run_name='__main__')\n"
    )
    monkeypatch.setattr(sandbox_module, "__file__", str(threaded))
    with (
        Evaluator(LIMITS) as evaluator,
        pytest.raises(EvaluatorError, match=r"runs 2 threads .* forking it could deadlock"),
    ):
        evaluator.evaluate(LR_MODEL, TASK, holdout)


def test_sandbox_environment_holds_no_caller_secrets(
    holdout: Holdout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    with Evaluator(LIMITS) as evaluator:
        evaluator.evaluate(LR_MODEL, TASK, holdout)
        environ = Path(f"/proc/{_zygote_pid(evaluator)}/environ").read_bytes().split(b"\0")
    assert not [v for v in environ if b"do-not-leak" in v]
    assert b"ORT_DISABLE_TELEMETRY=1" in environ
    assert b"OPENBLAS_NUM_THREADS=1" in environ


def test_zygote_warm_up_model_is_a_single_identity() -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "warm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    assert _bytes(model) == sandbox_module.WARM_UP_MODEL


ORT_1_32 = RuntimeSupport("1.32.0", ir_version=14, opsets={"": 28, "ai.onnx.ml": 5})


def _versioned(ir_version: int, **opsets: int) -> bytes:
    model = _handmade(SIGMOID)
    del model.opset_import[:]
    domains = {"ai_onnx": "", "ai_onnx_ml": "ai.onnx.ml"}
    model.opset_import.extend(helper.make_opsetid(domains[d], v) for d, v in opsets.items())
    model.ir_version = ir_version
    return _bytes(model)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            _versioned(8, ai_onnx=999),
            "model imports ai.onnx opset 999; onnxruntime 1.32.0, which the validators evaluate "
            "with, supports ai.onnx up to opset 28 (export the model for that opset)",
        ),
        (
            _versioned(8, ai_onnx=17, ai_onnx_ml=6),
            "model imports ai.onnx.ml opset 6; onnxruntime 1.32.0, which the validators evaluate "
            "with, supports ai.onnx.ml up to opset 5 (export the model for that opset)",
        ),
        (
            _versioned(15, ai_onnx=17),
            "model has IR version 15; onnxruntime 1.32.0, which the validators evaluate with, "
            "reads IR versions up to 14 (export the model with that IR version)",
        ),
    ],
)
def test_versions_newer_than_the_runtime_are_refused_before_the_checker(
    model: bytes, message: str
) -> None:
    with pytest.raises(UnsupportedVersionError) as raised:
        check_model(model, TASK, LIMITS, ORT_1_32)
    assert str(raised.value) == message


def test_the_check_refuses_just_above_what_the_installed_runtime_was_probed_to_load() -> None:
    import onnxruntime as ort

    support = installed_support()
    assert support.onnxruntime == ort.__version__
    top = support.opsets[""]
    check_model(_versioned(8, ai_onnx=17), TASK, LIMITS)
    with pytest.raises(UnsupportedVersionError, match=f"supports ai.onnx up to opset {top} "):
        check_model(_versioned(8, ai_onnx=top + 1), TASK, LIMITS)
    with pytest.raises(UnsupportedVersionError, match=f"up to {support.ir_version} "):
        check_model(_versioned(support.ir_version + 1, ai_onnx=17), TASK, LIMITS)


def test_highest_accepted_searches_a_contiguous_range() -> None:
    assert highest_accepted(lambda v: v <= 28, 7) == 28
    assert highest_accepted(lambda v: v <= 7, 7) == 7
    with pytest.raises(EvaluatorError, match="refuses a one-node model at version 7"):
        highest_accepted(lambda v: False, 7)


def test_a_future_opset_is_rejected_by_the_evaluator_without_a_path(
    evaluator: Evaluator, holdout: Holdout
) -> None:
    report = evaluator.evaluate(_versioned(8, ai_onnx=999), TASK, holdout)
    assert report.error_code == "unsupported_version"
    assert report.reasons[0].startswith("unsupported_version: model imports ai.onnx opset 999; ")
