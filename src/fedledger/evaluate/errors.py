"""Evaluation errors. ModelError subclasses mean "reject this model"; the others mean the
evaluator itself could not do its job (bad holdout, broken installation): abstain, fix, retry."""

from __future__ import annotations

from fedledger.models.errors import ModelError


class ModelSizeError(ModelError):
    code = "too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"model is {size} bytes, over the task's {limit}-byte limit")


class ExternalDataError(ModelError):
    code = "external_data"


class CustomOperatorError(ModelError):
    code = "custom_operator"


class GraphTooComplexError(ModelError):
    code = "too_complex"


class InvalidModelError(ModelError):
    """onnx.checker refused the model."""

    code = "invalid_onnx"


class InputSignatureError(ModelError):
    code = "input_signature"


class OutputSignatureError(ModelError):
    code = "output_signature"


class InvalidOutputError(ModelError):
    """Inference ran but produced values no metric should consume (NaN, bad probabilities)."""

    code = "invalid_output"


class InferenceFailedError(ModelError):
    """onnxruntime failed on the model, or the sandbox process died."""

    code = "inference_failed"


class ResourceLimitError(ModelError):
    """The model went over the sandbox's memory or CPU-time limit."""

    code = "resource_limit"


class EvaluationTimeoutError(ModelError):
    code = "timeout"


class EvaluatorError(Exception):
    """The evaluator, not the model, failed (e.g. the sandbox could not start): do not vote."""


class HoldoutError(EvaluatorError):
    """The local holdout file does not match the task schema: fix the data, do not vote."""
