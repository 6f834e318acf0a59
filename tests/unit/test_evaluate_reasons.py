"""What a vote may say about a failure: no local paths, the class and the message first."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from fedledger.evaluate.policy import Decision
from fedledger.evaluate.reasons import public_reason, public_text
from fedledger.evaluate.report import EvaluationReport

# onnxruntime 1.32's text for a model at a future opset, as a validator's sandbox reported it.
ORT_OPSET_TEXT = (
    "Fail: [ONNXRuntimeError] : 1 : FAIL : Load model from /tmp/fedledger-eval-k2_x9/model.onnx "
    "failed:/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 void onnxruntime::"
    "model_load_utils::ValidateOpsetForDomain(const std::unordered_map<std::__cxx11::"
    "basic_string<char>, int>&, const onnxruntime::logging::Logger&, bool, const std::string&, "
    "int) ONNX Runtime only *guarantees* support for models stamped with opset version 7 or "
    "above for opset domain 'ai.onnx'.\nCurrent official support for domain ai.onnx is till "
    "opset 28."
)


def test_onnxruntime_source_locations_signatures_and_paths_are_dropped() -> None:
    assert public_text(ORT_OPSET_TEXT) == (
        "Fail: Load model from <path> failed: ONNX Runtime only *guarantees* support for models "
        "stamped with opset version 7 or above for opset domain 'ai.onnx'. Current official "
        "support for domain ai.onnx is till opset 28."
    )


@pytest.mark.parametrize(
    ("text", "public"),
    [
        ("cannot read /home/alice/run/validator/reports.db", "cannot read <path>"),
        ("cannot read ~/runs/a.onnx: gone", "cannot read <path>: gone"),
        ("object file:///srv/store/sha256/ab is short", "object file://<path> is short"),
        ("3.5 s/row, a/b and 1/2 stay", "3.5 s/row, a/b and 1/2 stay"),
        ("object s3://bucket/key has SHA-256 1", "object s3://bucket/key has SHA-256 1"),
        ("tabs\tand\nnew lines  collapse ", "tabs and new lines collapse"),
    ],
)
def test_paths_are_replaced_and_the_rest_kept(text: str, public: str) -> None:
    assert public_text(text) == public


def test_a_real_onnxruntime_refusal_names_no_path_and_says_what_failed(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 99
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(Exception) as raised:  # onnxruntime raises its own classes
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    text = public_text(f"{type(raised.value).__name__}: {raised.value}")
    assert str(tmp_path) not in text
    assert "onnxruntime_src" not in text
    assert text.startswith("Fail: Load model from <path> failed: Unsupported model IR version: 99")


def test_a_reason_is_cut_to_the_limit_after_cleaning() -> None:
    reason = public_reason("inference_failed: " + ORT_OPSET_TEXT, 64)
    assert reason == "inference_failed: Fail: Load model from <path> failed: ONNX R..."
    assert len(reason) == 64


def test_every_report_reason_is_made_public_whoever_builds_the_report() -> None:
    report = EvaluationReport(
        model_sha256="ab" * 32,
        task_id="t",
        decision=Decision.REJECT,
        reasons=("hash_mismatch: object at file:///home/alice/store/sha256/ab has SHA-256 cd",),
        metric="roc_auc",
        score=None,
        metrics={},
        rows=0,
        duration_seconds=0.1,
        evaluator_version="e",
        error_code="hash_mismatch",
    )
    assert report.reasons == ("hash_mismatch: object at file://<path> has SHA-256 cd",)
    assert EvaluationReport.from_dict(report.to_dict()) == report
