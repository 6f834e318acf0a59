"""Errors about model files, under one root, `ModelError`: each is the model's fault, never the
environment's, and carries a short stable `code` for reports and votes."""

from __future__ import annotations


class ModelError(Exception):
    """The model, not the evaluator's environment, is at fault: a validator rejects it."""

    code = "model_error"


class MalformedModelError(ModelError):
    code = "malformed"


class ConversionError(ModelError):
    """A scikit-learn model cannot be turned into an ONNX file this project accepts."""

    code = "conversion"


class MetadataError(ModelError):
    code = "metadata"


class TaskMismatchError(ModelError):
    code = "task_mismatch"


class SchemaMismatchError(ModelError):
    code = "schema_mismatch"
