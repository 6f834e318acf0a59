"""Closing proposals and changes whose voting period is over, by hand or by every validator.

The chaincode decides by the transaction's time (set by the client, so by our clock) whether a
deadline has passed; an open proposal counts against its proposer's `maxOpenProposalsPerOrg`
until it is closed. Several members may close the same record at once: one transaction commits,
the others are refused (already closed) or fail at commit (a read conflict). Either way the
record is read again, and one that is no longer PENDING was closed by someone else: that is not
an error. No chaincode message is interpreted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fedledger.fabric import CommitError
from fedledger.registry.client import Registry
from fedledger.registry.errors import ChaincodeRefusalError
from fedledger.registry.records import Change, Proposal

Result = Literal["closed", "closed elsewhere", "refused"]


@dataclass(frozen=True)
class Closing:
    """What became of one expired proposal or change; `message` is the chaincode's refusal."""

    record_id: str
    task_id: str
    deadline: datetime
    result: Result
    message: str = ""


def split_pending(
    registry: Registry, task_ids: Iterable[str], now: datetime
) -> tuple[list[Proposal], list[Proposal]]:
    """The tasks' PENDING proposals, read once: those whose deadline is at or before `now`
    (expired), and the others. Raises as `close_expired`."""
    pending = [p for t in task_ids for p in registry.all_proposals(task_id=t, status="PENDING")]
    return [p for p in pending if p.deadline <= now], [p for p in pending if p.deadline > now]


def close_expired(registry: Registry, task_ids: Iterable[str], now: datetime) -> Iterator[Closing]:
    """Close every expired PENDING proposal of the tasks, one transaction each.

    Raises the fabric package's errors when the ledger cannot be reached, and RecordError for a
    record this package cannot read.
    """
    expired, _ = split_pending(registry, task_ids, now)
    for proposal in expired:
        yield close_one(registry, proposal)


def close_expired_changes(
    registry: Registry, task_ids: Iterable[str], now: datetime
) -> Iterator[Closing]:
    """Close every expired PENDING change of the tasks; raises as `close_expired`."""
    for task_id in task_ids:
        for change in registry.all_changes(task_id):
            if change.status == "PENDING" and change.deadline <= now:
                yield close_change(registry, change)


def close_change(registry: Registry, change: Change) -> Closing:
    """Close one change believed expired; see the module's note on races."""
    return _close(
        change,
        lambda: registry.close_expired_change(change.id),
        lambda: registry.get_change(change.id).status == "PENDING",
    )


def close_one(registry: Registry, proposal: Proposal) -> Closing:
    """Close one proposal believed expired; see the module's note on races."""
    return _close(
        proposal,
        lambda: registry.close_expired(proposal.id),
        lambda: registry.get_proposal(proposal.id).pending,
    )


def _close(
    record: Proposal | Change, close: Callable[[], object], still_open: Callable[[], bool]
) -> Closing:
    def closing(result: Result, message: str = "") -> Closing:
        return Closing(record.id, record.task_id, record.deadline, result, message)

    try:
        close()
    except (ChaincodeRefusalError, CommitError) as error:
        if not still_open():
            return closing("closed elsewhere")
        if isinstance(error, CommitError):
            raise
        return closing("refused", error.message)
    return closing("closed")
