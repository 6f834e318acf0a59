"""Closing proposals whose voting period is over, by hand or by every validator at once.

The chaincode decides by the transaction's time (set by the client, so by our clock) whether a
proposal's deadline has passed; an open proposal counts against its proposer's
`maxOpenProposalsPerOrg` until it is closed. Several members may close the same proposal at
once: one transaction commits, the others are refused (already closed) or fail at commit (a
read conflict). Either way the proposal is read again, and one that is no longer PENDING was
closed by someone else: that is not an error. No chaincode message is interpreted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fedledger.fabric import CommitError
from fedledger.registry.client import Registry
from fedledger.registry.errors import ChaincodeRefusalError
from fedledger.registry.records import Proposal

Result = Literal["closed", "closed elsewhere", "refused"]


@dataclass(frozen=True)
class Closing:
    """What became of one expired proposal; `message` is the chaincode's for a refusal."""

    proposal: Proposal
    result: Result
    message: str = ""


def expired_proposals(registry: Registry, task_id: str, now: datetime) -> list[Proposal]:
    """The task's PENDING proposals whose deadline is at or before `now`."""
    return [
        p for p in registry.all_proposals(task_id=task_id, status="PENDING") if p.deadline <= now
    ]


def close_expired(registry: Registry, task_ids: Iterable[str], now: datetime) -> Iterator[Closing]:
    """Close every expired PENDING proposal of the tasks, one transaction each.

    Raises the fabric package's errors when the ledger cannot be reached, and RecordError for a
    record this package cannot read.
    """
    for task_id in task_ids:
        for proposal in expired_proposals(registry, task_id, now):
            yield close_one(registry, proposal)


def close_one(registry: Registry, proposal: Proposal) -> Closing:
    """Close one proposal believed expired; see the module's note on races."""
    try:
        closed = registry.close_expired(proposal.id)
    except (ChaincodeRefusalError, CommitError) as error:
        now_on_ledger = registry.get_proposal(proposal.id)
        if not now_on_ledger.pending:
            return Closing(now_on_ledger, "closed elsewhere")
        if isinstance(error, CommitError):
            raise
        return Closing(proposal, "refused", error.message)
    return Closing(closed, "closed")


def next_deadline(registry: Registry, task_ids: Iterable[str], after: datetime) -> datetime | None:
    """The earliest deadline later than `after` among the tasks' PENDING proposals, or None."""
    deadlines = [
        p.deadline
        for t in task_ids
        for p in registry.all_proposals(task_id=t, status="PENDING")
        if p.deadline > after
    ]
    return min(deadlines, default=None)
