"""Train scikit-learn pipelines on schema data, convert them to ONNX, read their metadata."""

from fedledger.models.conversion import (
    CLASSIFIER_OUTPUTS,
    TARGET_OPSET,
    convert,
    initial_types,
    library_versions,
    to_onnx,
)
from fedledger.models.errors import (
    ConversionError,
    MalformedModelError,
    MetadataError,
    ModelError,
    SchemaMismatchError,
    TaskMismatchError,
)
from fedledger.models.inputs import (
    MISSING_CATEGORY,
    NumericDType,
    encode_target,
    frame_to_feeds,
    prepare_frame,
)
from fedledger.models.metadata import (
    ModelKind,
    ModelMetadata,
    check_metadata,
    load_model,
    parse_model,
    read_metadata,
)
from fedledger.models.train import TrainedModel, build_pipeline, numeric_dtype_for, train

__all__ = [
    "CLASSIFIER_OUTPUTS",
    "MISSING_CATEGORY",
    "TARGET_OPSET",
    "ConversionError",
    "MalformedModelError",
    "MetadataError",
    "ModelError",
    "ModelKind",
    "ModelMetadata",
    "NumericDType",
    "SchemaMismatchError",
    "TaskMismatchError",
    "TrainedModel",
    "build_pipeline",
    "check_metadata",
    "convert",
    "encode_target",
    "frame_to_feeds",
    "initial_types",
    "library_versions",
    "load_model",
    "numeric_dtype_for",
    "parse_model",
    "prepare_frame",
    "read_metadata",
    "to_onnx",
    "train",
]
