"""Where an event listener stopped, kept in a file so a restarted listener resumes there.

A checkpoint is (block number, transaction id): the last event processed. Resuming asks the
Gateway for events from that block, after that transaction, so the events of a block that were
already processed are not delivered again and the later ones in the same block are not lost.
Checkpoint an event only after processing it: a crash in between then means the event is
delivered again on restart, never that it is skipped.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Checkpoint:
    """Resume from `block_number`, skipping events up to and including `transaction_id`."""

    block_number: int
    transaction_id: str = ""


class PositionedEvent(Protocol):
    @property
    def block_number(self) -> int: ...

    @property
    def transaction_id(self) -> str: ...


class CheckpointError(ValueError):
    """The checkpoint file exists but cannot be read."""


class FileCheckpointer:
    """A checkpoint persisted as JSON (`{"blockNumber": …, "transactionId": …}`, as in the
    official clients), replaced atomically so a crash never leaves a torn file. Thread-safe.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._checkpoint = self._read()

    @property
    def checkpoint(self) -> Checkpoint | None:
        """The saved position, or None if nothing was checkpointed yet."""
        return self._checkpoint

    def checkpoint_event(self, event: PositionedEvent) -> None:
        """Record that `event` and every event before it have been processed."""
        self.save(Checkpoint(event.block_number, event.transaction_id))

    def checkpoint_block(self, block_number: int) -> None:
        """Record that every event up to and including block `block_number` was processed."""
        self.save(Checkpoint(block_number + 1))

    def save(self, checkpoint: Checkpoint) -> None:
        data = json.dumps(
            {"blockNumber": checkpoint.block_number, "transactionId": checkpoint.transaction_id}
        ).encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.tmp")
            with temporary.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            temporary.replace(self.path)
            self._checkpoint = checkpoint

    def _read(self) -> Checkpoint | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            state = json.loads(text)
            block_number = state["blockNumber"]
            transaction_id = state.get("transactionId", "")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CheckpointError(
                f"checkpoint file {self.path} is not valid ({error}): "
                "delete it to start from the beginning"
            ) from error
        if not isinstance(block_number, int) or block_number < 0:
            raise CheckpointError(f"checkpoint file {self.path}: blockNumber must be an int >= 0")
        if not isinstance(transaction_id, str):
            raise CheckpointError(f"checkpoint file {self.path}: transactionId must be a string")
        return Checkpoint(block_number, transaction_id)
