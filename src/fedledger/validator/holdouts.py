"""Each served task's holdout, loaded once against the task's schema from the ledger.

It is read by the rules of `fedledger data check` (Holdout.load → schema/conform.py), so a
holdout in the agreed shape is read here exactly as that command reads it (docs/data.md).

A task may not exist yet when the validator starts (it is created later): its holdout is then
loaded on first use. A holdout that does not match the schema is our fault, never the model's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fedledger.evaluate.errors import HoldoutError
from fedledger.evaluate.holdout import Holdout
from fedledger.registry import ChaincodeRefusalError
from fedledger.registry import Task as LedgerTask
from fedledger.schema.types import Schema, SchemaError
from fedledger.validator.errors import NotFoundError, NotReadyError


@dataclass(frozen=True)
class HoldoutState:
    task_id: str
    path: Path
    rows: int
    error: str


class Holdouts:
    """Thread-safe; `get(task)` loads on first use and keeps the Holdout until `close()`."""

    def __init__(self, files: dict[str, Path], load_task: Callable[[str], LedgerTask]) -> None:
        self.files = dict(files)
        self._load_task = load_task
        self._loaded: dict[str, Holdout] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def task_ids(self) -> list[str]:
        return sorted(self.files)

    def serves(self, task_id: str) -> bool:
        return task_id in self.files

    def require_served(self, task_id: str) -> Path:
        """The holdout file of `task_id`; raises NotFoundError naming the tasks served when it is
        not one of them.
        """
        try:
            return self.files[task_id]
        except KeyError:
            served = ", ".join(self.task_ids)
            raise NotFoundError(
                f"task {task_id} is not served by this validator (it serves: {served})"
            ) from None

    def get(self, task: LedgerTask) -> Holdout:
        """The holdout of `task`, loaded once and checked against its schema. Raises
        NotFoundError for a task not served, NotReadyError when the file cannot be read as the
        schema says.
        """
        path = self.require_served(task.id)
        with self._lock:
            if task.id in self._loaded:
                return self._loaded[task.id]
            try:
                schema = Schema.from_dict(task.schema)
                holdout = Holdout.load(path, schema)
            except (HoldoutError, SchemaError, OSError) as error:
                self._errors[task.id] = str(error)
                raise NotReadyError(
                    f"the holdout of task {task.id} cannot be used: {error}"
                ) from error
            self._errors.pop(task.id, None)
            self._loaded[task.id] = holdout
            return holdout

    def preload(self) -> None:
        """Load every holdout whose task exists; remember why the others are not loaded."""
        for task_id in self.task_ids:
            try:
                self.get(self._load_task(task_id))
            except ChaincodeRefusalError as refusal:
                with self._lock:
                    self._errors[task_id] = refusal.message
            except NotReadyError:
                pass

    def states(self) -> list[HoldoutState]:
        with self._lock:
            return [
                HoldoutState(
                    task_id,
                    self.files[task_id],
                    self._loaded[task_id].rows if task_id in self._loaded else 0,
                    self._errors.get(task_id, ""),
                )
                for task_id in self.task_ids
            ]

    def close(self) -> None:
        with self._lock:
            for holdout in self._loaded.values():
                holdout.close()
            self._loaded.clear()
