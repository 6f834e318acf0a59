"""A page view at a bounded cost: the task's records remembered until a block writes them.

Read naively, a view costs a query per proposal (its history, its votes) and one per
transaction (where it is), so it grows with the task's history. The ledger is append-only, and
every block says which keys it wrote: so the records read for one view stay valid until a later
block writes their keys. A view asks the peer for the height (one query), fetches each block
committed since the last view (one query per block, not per transaction), forgets only what
those blocks wrote, and reads again only that; the block also says where each of its
transactions is, so the audit trail's locations cost nothing more. A view of an unchanged ledger
is one query; the first view reads everything once.

The reads themselves are the registry's (`RememberingRegistry` is a Registry whose read calls
remember their answers), so what a view shows is what `fedledger report` shows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fedledger.audit import AuditLedger
from fedledger.dashboard.views import TaskView, read_view
from fedledger.fabric.qscc import block_transactions
from fedledger.registry import Change, HistoryEntry, Proposal, Registry, Task
from fedledger.registry.client import ContractLike


def _kind_and_id(key: str) -> tuple[str, str]:
    """The record type and id of a composite state key ("" for another kind of key)."""
    parts = key.strip("\x00").split("\x00")
    return (parts[0], "/".join(parts[1:])) if len(parts) > 1 else ("", "")


@dataclass
class _Memo:
    answers: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    proposals: dict[str, Proposal] | None = None
    changes: dict[str, Change] | None = None
    stale_proposals: set[str] = field(default_factory=set)
    stale_changes: set[str] = field(default_factory=set)


def _of_task(value: bytes | None, task_id: str) -> bool:
    """Whether a written record belongs to the task (a deletion or an unreadable value counts
    as yes: reading it again tells)."""
    try:
        record = json.loads(value) if value is not None else None
    except ValueError:
        return True
    return not isinstance(record, dict) or record.get("taskId", task_id) == task_id


class RememberingRegistry(Registry):
    """A Registry whose reads a view of `task_id` makes are answered from memory until `forget`
    names a key they read. The task's lists of proposals and changes are kept up to date record
    by record (a written proposal is read again alone), so a new proposal costs one read, not a
    walk of every page, and another task's records cost nothing. Not thread-safe: `ViewCache`
    holds a lock around its use."""

    def __init__(self, contract: ContractLike, task_id: str) -> None:
        super().__init__(contract)
        self.task_id = task_id
        self._memo = _Memo()

    def forget(self, key: str, value: bytes | None) -> None:
        """Forget every answer that `key`'s record (written as `value`) is part of. Raises
        nothing."""
        kind, record_id = _kind_and_id(key)
        if kind in ("proposal", "change") and not _of_task(value, self.task_id):
            return
        answers = self._memo.answers
        if kind == "vote":
            answers.pop(("votes", record_id.split("/", 1)[0]), None)
        elif kind in ("task", "proposal", "champion", "change"):
            answers.pop(("history", kind, record_id), None)
        if kind == "task":
            answers.pop(("task", record_id), None)
        if kind == "proposal":
            self._memo.stale_proposals.add(record_id)
        elif kind == "change":
            self._memo.stale_changes.add(record_id)

    def _remembered(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        if key not in self._memo.answers:
            self._memo.answers[key] = read()
        return self._memo.answers[key]

    def get_task(self, task_id: str) -> Task:
        read = super().get_task
        task: Task = self._remembered(("task", task_id), lambda: read(task_id))
        return task

    def recorded_votes(self, proposal_id: str) -> tuple[tuple[Any, Any], ...]:
        read = super().recorded_votes
        votes: tuple[tuple[Any, Any], ...] = self._remembered(
            ("votes", proposal_id), lambda: read(proposal_id)
        )
        return votes

    def history(self, doc_type: str, record_id: str) -> tuple[HistoryEntry, ...]:
        read = super().history
        entries: tuple[HistoryEntry, ...] = self._remembered(
            ("history", doc_type, record_id), lambda: read(doc_type, record_id)
        )
        return entries

    def all_proposals(
        self, *, task_id: str | None = None, status: Any = None
    ) -> Iterator[Proposal]:
        """The task's proposals (in no particular order: every view sorts them)."""
        memo = self._memo
        if task_id is None or status is not None:
            yield from super().all_proposals(task_id=task_id, status=status)
            return
        if memo.proposals is None:
            memo.proposals = {p.id: p for p in super().all_proposals(task_id=task_id)}
            memo.stale_proposals.clear()
        for proposal_id in sorted(memo.stale_proposals):
            proposal = self.get_proposal(proposal_id)
            if proposal.task_id == task_id:
                memo.proposals[proposal_id] = proposal
        memo.stale_proposals.clear()
        yield from list(memo.proposals.values())

    def all_changes(self, task_id: str) -> Iterator[Change]:
        """The task's changes (in no particular order: the audit trail sorts its events)."""
        memo = self._memo
        if memo.changes is None:
            memo.changes = {c.id: c for c in super().all_changes(task_id)}
            memo.stale_changes.clear()
        for change_id in sorted(memo.stale_changes):
            change = self.get_change(change_id)
            if change.task_id == task_id:
                memo.changes[change_id] = change
        memo.stale_changes.clear()
        yield from list(memo.changes.values())


class ViewCache:
    """The view of one task, kept current block by block over one ledger connection. Safe to
    call from several threads (one view is read at a time)."""

    def __init__(self, ledger: AuditLedger, task_id: str) -> None:
        self.task_id = task_id
        self._registry = RememberingRegistry(ledger.registry.contract, task_id)
        self._ledger = AuditLedger(self._registry, ledger.queries, ledger.channel, ledger.chaincode)
        self._height: int | None = None
        self._view: TaskView | None = None
        self._lock = threading.Lock()

    def view(self) -> TaskView:
        """The task's view as the ledger holds it now.

        Raises what `read_view` raises, and the fabric package's errors when a block cannot be
        read; the next call then starts from the last block read in full.
        """
        with self._lock:
            height = self._ledger.queries.height()
            if self._view is not None and height == self._height:
                return self._view
            self._view = None  # a read that fails below must not leave the old view current
            if self._height is None:
                self._height = height
            while self._height < height:
                self._absorb(self._height)
                self._height += 1
            # Records read now are as of `height` or newer: the next view forgets them again
            # when it reads the blocks that wrote them, which costs a read, never a stale view;
            # that holds for what a failed read remembered too.
            self._view = read_view(self._ledger, self.task_id)
            return self._view

    def _absorb(self, number: int) -> None:
        block = self._ledger.queries.block_by_number(number)
        for tx in block_transactions(block, self._ledger.chaincode):
            self._ledger.locate(tx.transaction_id, number, tx.position)
            for key, value in tx.writes.items():
                self._registry.forget(key, value)
