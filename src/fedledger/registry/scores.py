"""The cross-site matrix: every member's score of every proposal of a task, from the ledger.

Each member of a proposal's electorate records its evaluation as a vote, before the decision or
after it (chaincode/src/votes.ts), so the votes on a task's proposals hold each organisation's
score of each model on its own holdout: who measured what, including what a veto cut short.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from fedledger.registry.client import Registry
from fedledger.registry.records import Proposal, Task, Vote


@dataclass(frozen=True)
class ScoreRow:
    """One proposal and the vote each organisation recorded on it."""

    proposal: Proposal
    votes: dict[str, Vote]


@dataclass(frozen=True)
class ScoreMatrix:
    task: Task
    organizations: tuple[str, ...]
    rows: tuple[ScoreRow, ...]

    def write_csv(self, stream: TextIO) -> None:
        """One line per proposal: its id, status and proposer, then each organisation's score
        and decision (empty where it recorded none)."""
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(
            ["proposal", "status", "proposer", "created_at"]
            + [f"{org}_{column}" for org in self.organizations for column in ("score", "decision")]
        )
        for row in self.rows:
            cells: list[str] = []
            for org in self.organizations:
                vote = row.votes.get(org)
                cells += ["", ""] if vote is None else [_number(vote.score), vote.decision]
            p = row.proposal
            writer.writerow([p.id, p.status, p.proposer, p.created_at.isoformat(), *cells])


def _number(score: float | None) -> str:
    return "" if score is None else repr(score)


def score_matrix(registry: Registry, task_id: str) -> ScoreMatrix:
    """Every proposal of the task, oldest first, with every vote recorded on it.

    Raises as the registry's reads do (ChaincodeRefusalError for an unknown task).
    """
    task = registry.get_task(task_id)
    proposals = sorted(registry.all_proposals(task_id=task_id), key=lambda p: p.created_at)
    rows = tuple(
        ScoreRow(p, {vote.voter: vote for vote in registry.get_votes(p.id)}) for p in proposals
    )
    return ScoreMatrix(task, _organizations(task, rows), rows)


def _organizations(task: Task, rows: Iterable[ScoreRow]) -> tuple[str, ...]:
    """The task's members and every earlier member that voted, in MSP-id order."""
    voters = {voter for row in rows for voter in row.votes}
    return tuple(sorted(set(task.members) | voters))
