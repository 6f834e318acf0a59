"""Evaluation errors, under one root, `EvaluationError`, in two families that say whose fault
it was:

- `ModelFaultError` (also a `models.errors.ModelError`): the model's fault. It breaks a rule
  (too large, custom operators, a wrong signature) or fails when run (crashes, NaN, over the
  sandbox's limits, too slow). A validator rejects the model.
- `EvaluatorError`: ours. The evaluator could not do its job (a holdout that does not match the
  schema, a sandbox that did not start or was starved of CPU): abstain, fix, retry; never a
  vote against the model.

`EvaluationCancelledError` is neither: the caller cancelled the evaluation (cancel.py).

What `fedledger.models` finds wrong with a model file (its metadata, its task) reaches the
evaluator's callers as that package's `ModelError`: the model's fault too.
"""

from __future__ import annotations

from fedledger.models.errors import ModelError


class EvaluationError(Exception):
    """Base of the errors this package raises; catch a family below to know whose fault."""


class ModelFaultError(ModelError, EvaluationError):
    """The model, not the evaluator, is at fault: reject it. `code` names the rule."""


class ModelSizeError(ModelFaultError):
    code = "too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"model is {size} bytes, over the task's {limit}-byte limit")


class ExternalDataError(ModelFaultError):
    code = "external_data"


class CustomOperatorError(ModelFaultError):
    code = "custom_operator"


class UnsupportedVersionError(ModelFaultError):
    """The model's IR version or an opset is newer than the evaluation's onnxruntime loads."""

    code = "unsupported_version"


class GraphTooComplexError(ModelFaultError):
    code = "too_complex"


class UnboundedLoopError(ModelFaultError):
    """A Loop or Scan whose iterations are not known before the model runs, or over the limit."""

    code = "unbounded_loop"


class InvalidModelError(ModelFaultError):
    """onnx.checker refused the model."""

    code = "invalid_onnx"


class InputSignatureError(ModelFaultError):
    code = "input_signature"


class OutputSignatureError(ModelFaultError):
    code = "output_signature"


class InvalidOutputError(ModelFaultError):
    """Inference ran but produced values no metric should consume (NaN, bad probabilities)."""

    code = "invalid_output"


class InferenceFailedError(ModelFaultError):
    """onnxruntime failed on the model, or the sandbox process died."""

    code = "inference_failed"


class ResourceLimitError(ModelFaultError):
    """The model went over the sandbox's memory limit or its CPU budget."""

    code = "resource_limit"


class EvaluatorError(EvaluationError):
    """The evaluator, not the model, failed (e.g. the sandbox could not start): do not vote."""


class HoldoutError(EvaluatorError):
    """The local holdout file does not match the task schema: fix the data, do not vote."""


class SandboxStarvedError(EvaluatorError):
    """The sandbox reached its wall-clock backstop before using its CPU budget: the machine
    did not give it the CPU (overloaded), which is no fault of the model's. Retry later."""


class EvaluationCancelledError(EvaluationError):
    """The evaluation was cancelled (its proposal was decided meanwhile): no verdict on the
    model, none on the evaluator. `reason` says why, `seconds` how long it had run."""

    def __init__(self, reason: str, seconds: float) -> None:
        self.reason, self.seconds = reason, seconds
        super().__init__(f"evaluation cancelled: {reason} after {seconds:.1f} s")
