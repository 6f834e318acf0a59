"""The evaluation engine: static checks, sandboxed onnxruntime inference, metrics, decision."""

from fedledger.evaluate.engine import Evaluator
from fedledger.evaluate.errors import (
    CustomOperatorError,
    EvaluationTimeoutError,
    EvaluatorError,
    ExternalDataError,
    GraphTooComplexError,
    HoldoutError,
    InferenceFailedError,
    InputSignatureError,
    InvalidModelError,
    InvalidOutputError,
    ModelSizeError,
    OutputSignatureError,
    ResourceLimitError,
)
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.limits import SandboxLimits
from fedledger.evaluate.policy import Decision, Task, TaskPolicy
from fedledger.evaluate.report import EvaluationReport, evaluator_version
from fedledger.evaluate.static import ALLOWED_DOMAINS, CheckedModel, check_model

__all__ = [
    "ALLOWED_DOMAINS",
    "CheckedModel",
    "CustomOperatorError",
    "Decision",
    "EvaluationReport",
    "EvaluationTimeoutError",
    "Evaluator",
    "EvaluatorError",
    "ExternalDataError",
    "GraphTooComplexError",
    "Holdout",
    "HoldoutError",
    "InferenceFailedError",
    "InputSignatureError",
    "InvalidModelError",
    "InvalidOutputError",
    "ModelSizeError",
    "OutputSignatureError",
    "ResourceLimitError",
    "SandboxLimits",
    "Task",
    "TaskPolicy",
    "check_model",
    "evaluator_version",
]
