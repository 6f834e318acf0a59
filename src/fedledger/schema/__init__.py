"""The task's data schema: typed definition, canonical hash, file validation, sanitisation."""

from fedledger.schema.sanitise import normalise_categories, sanitise_frame
from fedledger.schema.types import (
    Feature,
    FeatureType,
    Schema,
    SchemaError,
    Target,
    TargetType,
)
from fedledger.schema.validate import (
    Problem,
    SchemaValidationError,
    ValidationReport,
    read_table,
    validate_file,
    validate_frame,
)

__all__ = [
    "Feature",
    "FeatureType",
    "Problem",
    "Schema",
    "SchemaError",
    "SchemaValidationError",
    "Target",
    "TargetType",
    "ValidationReport",
    "normalise_categories",
    "read_table",
    "sanitise_frame",
    "validate_file",
    "validate_frame",
]
