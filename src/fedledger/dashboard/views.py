"""The dashboard's view of one task, built only from what the ledger holds: the registry's
records (task, proposals, votes: `registry/scores.py`'s cross-site matrix) and the audit trail
with blocks and transaction ids (`audit`). `read_view` keeps nothing between two reads; the
serving app's `ViewCache` (cache.py) remembers records only until a block writes them again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedledger.audit import AuditLedger, Row
from fedledger.registry.scores import ScoreMatrix, ScoreRow, score_matrix


@dataclass(frozen=True)
class TimelineEntry:
    """One proposal: when, by whom, and how it was decided (the tally the chaincode kept)."""

    proposal_id: str
    proposer: str
    created_at: datetime
    status: str
    decided_at: datetime | None
    reason: str
    approve: int
    reject: int
    abstain: int
    unavailable: int


@dataclass(frozen=True)
class ScorePoint:
    """One organisation's recorded score of the `version`-th accepted model (1 = the first)."""

    version: int
    proposal_id: str
    organization: str
    score: float


@dataclass(frozen=True)
class TaskView:
    task_id: str
    metric: str
    higher_is_better: bool
    matrix: ScoreMatrix
    timeline: tuple[TimelineEntry, ...]
    points: tuple[ScorePoint, ...]
    audit: tuple[Row, ...]

    @property
    def organizations(self) -> tuple[str, ...]:
        return self.matrix.organizations

    @property
    def accepted(self) -> tuple[str, ...]:
        """The ids of the proposals ever accepted, oldest first: the plot's versions."""
        return tuple(r.proposal.id for r in self.matrix.rows if _was_accepted(r))

    @property
    def through_block(self) -> int:
        """The last block holding an event of the task (0 when none)."""
        return max((row.block for row in self.audit), default=0)


def build_view(matrix: ScoreMatrix, audit: list[Row]) -> TaskView:
    """The view of the task `matrix` is of, with its audit rows. Raises nothing."""
    task = matrix.task
    return TaskView(
        task_id=task.id,
        metric=task.metric,
        higher_is_better=task.higher_is_better,
        matrix=matrix,
        timeline=tuple(_entry(row) for row in matrix.rows),
        points=_points(matrix.rows),
        audit=tuple(audit),
    )


def read_view(ledger: AuditLedger, task_id: str) -> TaskView:
    """The task's view as the ledger holds it now.

    Raises ChaincodeRefusalError for an unknown task, and what `AuditLedger.rows` raises.
    """
    return build_view(score_matrix(ledger.registry, task_id), ledger.rows(task_id))


def _entry(row: ScoreRow) -> TimelineEntry:
    p = row.proposal
    return TimelineEntry(
        proposal_id=p.id,
        proposer=p.proposer,
        created_at=p.created_at,
        status=p.status,
        decided_at=p.decided_at,
        reason=p.status_reason,
        approve=p.tally.approve,
        reject=p.tally.reject,
        abstain=p.tally.abstain,
        unavailable=p.tally.unavailable,
    )


def _points(rows: tuple[ScoreRow, ...]) -> tuple[ScorePoint, ...]:
    accepted = [row for row in rows if _was_accepted(row)]
    return tuple(
        ScorePoint(version, row.proposal.id, org, vote.score)
        for version, row in enumerate(accepted, start=1)
        for org, vote in sorted(row.votes.items())
        if vote.score is not None
    )


def _was_accepted(row: ScoreRow) -> bool:
    """Accepted, and still the champion's line or revoked since: a version either way."""
    return row.proposal.status in ("ACCEPTED", "REVOKED")
