"""The ONNX model inside an uploaded object: a bare .onnx, or a SageMaker-style model.tar.gz
holding exactly one .onnx member.

The archive is read in memory, never extracted to disk, so a member's name cannot write
anywhere; names are still checked, because a name with `..` or an absolute path says the
archive was not made by a training pipeline and nothing in it should be trusted.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import PurePosixPath

from fedledger.upload.errors import NotAModelError

ONNX_SUFFIX = ".onnx"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
# A SageMaker model.tar.gz carries code and metadata beside the model; more members than this
# is not a model archive.
MAX_MEMBERS = 1000


def is_candidate(key: str) -> bool:
    """The object's name says it may hold a model (other objects in the prefix are ignored)."""
    lowered = key.lower()
    return lowered.endswith(ONNX_SUFFIX) or lowered.endswith(ARCHIVE_SUFFIXES)


def model_bytes(key: str, data: bytes, max_bytes: int) -> bytes:
    """The ONNX bytes the object `key` holds.

    Raises NotAModelError naming `key` when the object is over `max_bytes`, an archive that
    cannot be read, has a member with an unsafe name, or does not hold exactly one .onnx
    regular file (within `max_bytes`), or when `key` names neither an .onnx nor a .tar.gz.
    """
    if len(data) > max_bytes:
        raise NotAModelError(f"{key} is {len(data):,} bytes, over the limit of {max_bytes:,}")
    lowered = key.lower()
    if lowered.endswith(ONNX_SUFFIX):
        return data
    if lowered.endswith(ARCHIVE_SUFFIXES):
        return _only_onnx_member(key, data, max_bytes)
    raise NotAModelError(f"{key} is neither an .onnx file nor a .tar.gz archive holding one")


def _only_onnx_member(key: str, data: bytes, max_bytes: int) -> bytes:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = _checked_members(key, archive)
            models = [m for m in members if m.name.lower().endswith(ONNX_SUFFIX)]
            if len(models) != 1:
                found = ", ".join(m.name for m in models) or "none"
                raise NotAModelError(
                    f"{key} must hold exactly one .onnx file, found {len(models)} ({found})"
                )
            model = models[0]
            if not model.isreg():
                raise NotAModelError(f"{key}: {model.name} is not a regular file")
            if model.size > max_bytes:
                raise NotAModelError(
                    f"{key}: {model.name} is {model.size:,} bytes, over the limit of {max_bytes:,}"
                )
            extracted = archive.extractfile(model)
            if extracted is None:
                raise NotAModelError(f"{key}: {model.name} cannot be read")
            return extracted.read()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise NotAModelError(f"{key} is not a readable .tar.gz archive: {error}") from error


def _checked_members(key: str, archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members: list[tarfile.TarInfo] = []
    for member in archive:
        if len(members) >= MAX_MEMBERS:
            raise NotAModelError(f"{key} has more than {MAX_MEMBERS} members")
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise NotAModelError(f"{key}: member {member.name!r} has an unsafe path")
        if member.issym() or member.islnk():
            if member.name.lower().endswith(ONNX_SUFFIX):
                raise NotAModelError(f"{key}: {member.name} is a link, not the model itself")
            continue
        members.append(member)
    return members
