"""Model metadata stored in the ONNX file's metadata_props, and the checks made on loading."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import onnx

from fedledger.models.errors import (
    MalformedModelError,
    MetadataError,
    NotFedledgerModelError,
    SchemaMismatchError,
    TaskMismatchError,
)
from fedledger.schema.types import Schema

FORMAT_VERSION = "1"
# skl2onnx's output names for a classifier without ZipMap: the label, then the probabilities.
CLASSIFIER_OUTPUTS = ("label", "probabilities")
_PREFIX = "fedledger."
ModelKind = Literal["classification", "regression"]


@dataclass(frozen=True)
class ModelMetadata:
    task_id: str
    schema_sha256: str
    kind: ModelKind
    numeric_dtype: str
    training_rows: int
    libraries: dict[str, str] = field(default_factory=dict)
    format_version: str = FORMAT_VERSION

    def to_props(self) -> dict[str, str]:
        return {
            f"{_PREFIX}format_version": self.format_version,
            f"{_PREFIX}task_id": self.task_id,
            f"{_PREFIX}schema_sha256": self.schema_sha256,
            f"{_PREFIX}kind": self.kind,
            f"{_PREFIX}numeric_dtype": self.numeric_dtype,
            f"{_PREFIX}training_rows": str(self.training_rows),
            f"{_PREFIX}libraries": json.dumps(self.libraries, sort_keys=True),
        }

    @classmethod
    def from_props(cls, props: dict[str, str], task_id: str | None = None) -> ModelMetadata:
        """Raises NotFedledgerModelError when the props carry no fedledger metadata at all
        (its hint names `task_id`), MetadataError when they are incomplete or wrong."""
        if _PREFIX + "format_version" not in props:
            raise NotFedledgerModelError(task_id)

        def get(key: str) -> str:
            try:
                return props[_PREFIX + key]
            except KeyError:
                raise MetadataError(f"model metadata lacks {_PREFIX}{key}") from None

        version = get("format_version")
        if version != FORMAT_VERSION:
            raise MetadataError(
                f"model metadata format {version!r} is not supported (expected {FORMAT_VERSION!r})"
            )
        kind = get("kind")
        if kind not in ("classification", "regression"):
            raise MetadataError(f"model metadata {_PREFIX}kind is {kind!r}")
        try:
            rows = int(get("training_rows"))
            libraries: Any = json.loads(get("libraries"))
        except ValueError as exc:
            raise MetadataError(f"model metadata is unreadable: {exc}") from None
        if not isinstance(libraries, dict):
            raise MetadataError(f"model metadata {_PREFIX}libraries is not an object")
        return cls(
            task_id=get("task_id"),
            schema_sha256=get("schema_sha256"),
            kind=kind,  # type: ignore[arg-type]  # checked above
            numeric_dtype=get("numeric_dtype"),
            training_rows=rows,
            libraries={str(k): str(v) for k, v in libraries.items()},
            format_version=version,
        )


def parse_model(model_bytes: bytes) -> onnx.ModelProto:
    """Parse ONNX bytes without running anything; truncated or garbage bytes are refused.

    Raises MalformedModelError.
    """
    model = onnx.ModelProto()
    try:
        model.ParseFromString(model_bytes)
    except Exception as exc:  # protobuf's DecodeError and friends; protobuf ships no stubs
        raise MalformedModelError(f"model is not a readable ONNX file: {exc}") from None
    if not model.HasField("graph") or model.ir_version <= 0:
        raise MalformedModelError("model is not a readable ONNX file: no graph or IR version")
    return model


def read_metadata(model: onnx.ModelProto, task_id: str | None = None) -> ModelMetadata:
    """The model's fedledger metadata; `task_id` only fills the hint of a refusal."""
    return ModelMetadata.from_props({p.key: p.value for p in model.metadata_props}, task_id)


def check_metadata(metadata: ModelMetadata, task_id: str, schema: Schema) -> None:
    """The model must declare this task and this exact schema (by hash).

    Raises TaskMismatchError or SchemaMismatchError.
    """
    if metadata.task_id != task_id:
        raise TaskMismatchError(
            f"model was built for task {metadata.task_id!r}, not for task {task_id!r}"
        )
    expected = schema.sha256()
    if metadata.schema_sha256 != expected:
        raise SchemaMismatchError(
            f"model's schema hash {metadata.schema_sha256} differs from the task's {expected}"
        )
    wanted = "classification" if schema.target.is_classification else "regression"
    if metadata.kind != wanted:
        raise SchemaMismatchError(f"model is a {metadata.kind} model; the task needs {wanted}")


def load_model(
    model_bytes: bytes, task_id: str, schema: Schema
) -> tuple[onnx.ModelProto, ModelMetadata]:
    """Parse a model file and check its metadata against the task."""
    model = parse_model(model_bytes)
    metadata = read_metadata(model, task_id)
    check_metadata(metadata, task_id, schema)
    return model, metadata
