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


class NotFedledgerModelError(MetadataError):
    """The file carries no fedledger metadata: an ONNX file from another tool, not converted."""

    def __init__(self, task_id: str | None = None) -> None:
        task = task_id or "TASK"
        super().__init__(
            "model metadata lacks fedledger.format_version: the file was not made for a "
            f"fedledger task; run `fedledger models convert --task {task} MODEL --out "
            "model.onnx` to fit it to the task (docs/bring-your-own-model.md)"
        )


class TaskMismatchError(ModelError):
    code = "task_mismatch"


class SchemaMismatchError(ModelError):
    code = "schema_mismatch"


class FitError(ConversionError):
    """A model's inputs or outputs do not fit the task and cannot be adapted; the message
    names the input or output and how to export it instead."""


class UntrustedTypesError(ConversionError):
    """A skops file holds types skops does not trust; `types` lists them."""

    def __init__(self, path: str, types: list[str]) -> None:
        self.types = types
        trust = " ".join(f"--trust {name}" for name in types)
        super().__init__(
            f"{path} holds types skops does not trust: {', '.join(types)}; nothing was loaded. "
            f"If you trust whoever wrote the file, name them: {trust}"
        )


class MissingLibraryError(ConversionError):
    """An optional library that this conversion needs is not installed."""

    code = "missing_library"
