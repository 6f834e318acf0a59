"""What a watcher has done with each object: a small JSON file, one entry per object location.

Every watcher of the file holds an exclusive lock (fcntl) while it handles an object, so two
watchers of one organisation sharing the file never handle the same object at once; the file is
rewritten whole through a temporary file and a rename, so a crash leaves the old or the new
version, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fedledger.upload.errors import StateFileError

VERSION = 1


@dataclass(frozen=True)
class Entry:
    """The outcome for one object at one etag: `outcome` is proposed, already-proposed or
    refused (transient failures are not recorded: they are tried again)."""

    etag: str
    outcome: str
    task: str | None
    sha256: str | None
    proposal_id: str | None
    detail: str
    at: str


class WatchState:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, Entry]]:
        """The entries by location, under the file's lock; what the block leaves in the dict
        is written back.

        Raises StateFileError when the file or its lock cannot be read or written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = self.path.with_name(self.path.name + ".lock").open("a")
        except OSError as error:
            raise StateFileError(f"cannot open the lock of {self.path}: {error}") from error
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self.read()
            yield entries
            self._write(entries)

    def read(self) -> dict[str, Entry]:
        """The entries by location ({} before the first object).

        Raises StateFileError naming the file when it is not a state file of this version."""
        try:
            document: Any = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise StateFileError(
                f"{self.path} is not a readable watcher state file ({error}); move it away to "
                "start again (the ledger still refuses a model proposed twice)"
            ) from error
        if not isinstance(document, dict) or document.get("version") != VERSION:
            raise StateFileError(f"{self.path}: expected a state file of version {VERSION}")
        try:
            return {loc: Entry(**fields) for loc, fields in document["objects"].items()}
        except (KeyError, TypeError, AttributeError) as error:
            raise StateFileError(f"{self.path}: malformed entry ({error})") from error

    def _write(self, entries: dict[str, Entry]) -> None:
        document = {
            "version": VERSION,
            "objects": {loc: asdict(entry) for loc, entry in sorted(entries.items())},
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(document, indent=1) + "\n")
            temporary.replace(self.path)
        except OSError as error:
            raise StateFileError(f"cannot write {self.path}: {error}") from error
