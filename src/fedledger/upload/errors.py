"""The upload package's errors: UploadError is the root (cli/failures.py PACKAGE_ROOTS)."""

from __future__ import annotations


class UploadError(Exception):
    """Something about uploaded objects or the watcher's own records went wrong."""


class NotAModelError(UploadError):
    """The object holds no model this watcher can propose (a garbage file, a tar.gz without
    exactly one .onnx member, a path trick, over the size limit). Permanent: it is recorded as
    refused and not read again until its bytes change."""


class UploadSourceError(UploadError):
    """The bucket, folder or queue could not be read; the watcher tries again next round."""


class StateFileError(UploadError):
    """The watcher's state file cannot be read or written; it names the file and what to do."""
