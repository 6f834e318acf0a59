"""The orgs package's errors: one root, `OrgError`, for everything it raises."""

from __future__ import annotations


class OrgError(ValueError):
    """Base of the errors this package raises: material that is missing, unusable or in the way."""


class OrgFolderError(OrgError):
    """An organisation folder (`fedledger org init`) is missing, incomplete or already in use."""


class OrgFileError(OrgError):
    """An organisation file (`fedledger org export`) cannot be read or has a wrong field."""
