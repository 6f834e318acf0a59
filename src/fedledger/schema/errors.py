"""The schema package's errors, under one root, `TaskSchemaError`.

Two families a caller often tells apart: `SchemaError`, the schema document itself breaks a
rule, and `SchemaValidationError`, a data file does not conform to a valid schema. Both stay
ValueErrors, as callers catch them.
"""

from __future__ import annotations


class TaskSchemaError(ValueError):
    """Base of the errors this package raises: a task's schema, or data checked against it."""
