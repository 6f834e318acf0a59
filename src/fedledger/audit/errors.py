"""The audit package's errors: one root, `AuditError`."""

from __future__ import annotations


class AuditError(Exception):
    """Base of the errors this package raises."""


class ExportFileError(AuditError):
    """An export file cannot be read as one: names the file, the row or field, and the fix."""
