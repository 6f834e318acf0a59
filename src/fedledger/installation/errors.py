"""The installation package's one error, the root of everything it raises."""

from __future__ import annotations


class InstallationError(RuntimeError):
    """No usable Fabric installation: the message says what was searched or what is missing,
    or why installing one (download, unpacking, the check after) failed."""
