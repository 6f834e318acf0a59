"""Paths inside the files fedledger writes and reads (profiles, validator configurations, network
definitions, validators files): a relative path is relative to the folder of the file that holds
it, never to the working directory of whoever reads it.

Files fedledger writes record a path below their own folder as relative (so a run folder can be
moved or copied whole) and any other path as absolute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_path(value: str | Path, folder: Path) -> Path:
    """A path as written in a file in `folder`: `~` expanded, relative ones taken from `folder`,
    returned absolute so it means the same from any working directory."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else folder / path).resolve()


def written_path(path: Path, folder: Path) -> str:
    """How a file in `folder` records `path`: relative when `path` lies below `folder`, absolute
    otherwise."""
    target = path.resolve()
    base = folder.resolve()
    return str(target.relative_to(base)) if target.is_relative_to(base) else str(target)


def with_written_paths(document: dict[str, Any], folder: Path) -> dict[str, Any]:
    """`document` with every `Path` in it (at any depth) replaced by how a file in `folder`
    records it: the one place where a document's paths become text."""

    def spell(value: Any) -> Any:
        if isinstance(value, Path):
            return written_path(value, folder)
        if isinstance(value, dict):
            return {key: spell(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [spell(item) for item in value]
        return value

    return {key: spell(value) for key, value in document.items()}
