"""A task's complete history, read from the ledger: every committed version of each of its
records (task, proposals, votes, champion, changes), each named as the event it records.

The chaincode keeps a history per key (GetHistory); a vote is written once, so its record is its
history. Which event a version records follows from the version before it of the same record:
a proposal's first version is its submission, a PENDING one after it a counted vote, a final
status its decision. Every read is one page walk or one history query; nothing is inferred from
the chaincode's messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fedledger.registry import Champion, Change, HistoryEntry, Proposal, Registry, Task, Vote

# Within one transaction, records are listed cause first: a change before the task or champion
# it alters, a vote before the proposal it counts and the champion it crowns or scores.
KINDS = ("change", "task", "vote", "proposal", "champion")


@dataclass(frozen=True)
class Event:
    """One committed version of one record of the task, and what it records.

    `event` is "<kind>.<action>" (docs/governance.md lists them); `value` is the record's JSON as
    the chaincode holds it, None where the transaction deleted the record.
    """

    event: str
    kind: str
    record_id: str
    transaction_id: str
    timestamp: datetime
    actor: str
    status: str
    summary: str
    value: Any

    @property
    def order(self) -> tuple[datetime, str, int, str]:
        return (self.timestamp, self.transaction_id, KINDS.index(self.kind), self.record_id)


def iso(moment: datetime) -> str:
    """A transaction time as the chaincode writes it: UTC, milliseconds, "Z"."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def task_events(registry: Registry, task_id: str) -> list[Event]:
    """Every event of the task, oldest first (by transaction time, then transaction).

    Raises ChaincodeRefusalError when the task does not exist, RecordError for a record this
    package cannot read, and the fabric package's errors when the ledger cannot be reached.
    """
    registry.get_task(task_id)
    found = [
        *_versions(registry, "task", task_id),
        *_versions(registry, "champion", task_id),
    ]
    for change in registry.all_changes(task_id):
        found.extend(_versions(registry, "change", change.id))
    for proposal in registry.all_proposals(task_id=task_id):
        found.extend(_versions(registry, "proposal", proposal.id))
        found.extend(_votes(registry, proposal.id))
    return sorted(found, key=lambda event: event.order)


def _versions(registry: Registry, kind: str, record_id: str) -> Iterator[Event]:
    previous: Any = None
    for entry in reversed(registry.history(kind, record_id)):
        yield _classify(kind, record_id, entry, previous)
        previous = entry.record


def _votes(registry: Registry, proposal_id: str) -> Iterator[Event]:
    for vote, value in registry.recorded_votes(proposal_id):
        yield Event(
            "vote.cast",
            "vote",
            f"{proposal_id}/{vote.voter}",
            vote.transaction_id,
            vote.cast_at,
            vote.voter,
            vote.decision,
            _vote_summary(vote),
            value,
        )


def _vote_summary(vote: Vote) -> str:
    score = "" if vote.score is None else f" score {vote.score:g}"
    return f"{vote.decision}{score} on {vote.holdout_rows} rows" + (
        f": {vote.reason}" if vote.reason else ""
    )


def _classify(kind: str, record_id: str, entry: HistoryEntry, previous: Any) -> Event:
    """The event `entry` records, given the version of the record before it (None at first)."""
    record = entry.record
    if record is None:
        action, actor, status, summary = "removed", "", "", f"{kind} {record_id} removed"
    elif isinstance(record, Task):
        action, actor, status, summary = _task(record, previous)
    elif isinstance(record, Proposal):
        action, actor, status, summary = _proposal(record, previous)
    elif isinstance(record, Champion):
        action, actor, status, summary = _champion(record, previous)
    else:
        assert isinstance(record, Change), f"GetHistory gave a {type(record).__name__}"
        action, actor, status, summary = _change(record, previous)
    return Event(
        f"{kind}.{action}",
        kind,
        record_id,
        entry.transaction_id,
        entry.timestamp,
        actor,
        status,
        summary,
        entry.value,
    )


Classified = tuple[str, str, str, str]  # action, actor, status, summary


def _task(task: Task, previous: Any) -> Classified:
    if not isinstance(previous, Task):
        return "created", task.created_by, "", f"members {', '.join(task.members)}"
    parts = []
    added = sorted(set(task.members) - set(previous.members))
    removed = sorted(set(previous.members) - set(task.members))
    parts += [f"member {m} added" for m in added] + [f"member {m} removed" for m in removed]
    old, new = previous.policy.to_dict(), task.policy.to_dict()
    parts += [f"policy {name} {old[name]} -> {new[name]}" for name in new if new[name] != old[name]]
    return "updated", "", "", "; ".join(parts) or "rewritten unchanged"


def _proposal(proposal: Proposal, previous: Any) -> Classified:
    counts = proposal.tally
    tally = f"approve {counts.approve} reject {counts.reject} abstain {counts.abstain}"
    if counts.unavailable:  # reports that count for nothing (chaincode 0.3)
        tally += f" unavailable {counts.unavailable}"
    if not isinstance(previous, Proposal):
        return "submitted", proposal.proposer, proposal.status, f"model {proposal.model_sha256}"
    if proposal.status == "PENDING":
        return "tallied", "", proposal.status, tally
    return proposal.status.lower(), "", proposal.status, f"{tally}: {proposal.status_reason}"


def _champion(champion: Champion, previous: Any) -> Classified:
    if isinstance(previous, Champion) and previous.proposal_id == champion.proposal_id:
        scores = ", ".join(f"{org} {score:g}" for org, score in sorted(champion.scores.items()))
        return "scored", "", "", f"{champion.proposal_id} scores {scores}"
    if isinstance(previous, Champion) and champion.proposal_id in previous.lineage:
        return "restored", "", "", f"{champion.proposal_id} again, after {previous.proposal_id}"
    return "crowned", "", "", f"{champion.proposal_id} (model {champion.model_sha256})"


def _change(change: Change, previous: Any) -> Classified:
    subject = change_subject(change)
    if not isinstance(previous, Change):
        action = "proposed" if change.status == "PENDING" else change.status.lower()
        return action, change.proposer, change.status, subject
    if change.status == "PENDING":
        approvers = sorted(set(change.approvals) - set(previous.approvals))
        return "approved", ", ".join(approvers), change.status, subject
    voters = sorted(
        set(change.approvals + change.rejections) - set(previous.approvals + previous.rejections)
    )
    return (
        change.status.lower(),
        ", ".join(voters),
        change.status,
        f"{subject}: {change.status_reason}",
    )


def change_subject(change: Change) -> str:
    """What a change does, in a few words: "addMember Org4MSP", "updatePolicy quorum 3"."""
    if change.member is not None:
        return f"{change.type} {change.member}"
    if change.policy is not None:
        fields = change.policy.to_dict()
        return f"{change.type} " + " ".join(f"{k} {v}" for k, v in fields.items())
    return change.type


def causes(events: list[Event]) -> dict[str, str]:
    """For each transaction, the decision that made it, in words: the change it applied, else
    the proposal it decided, else the vote it recorded, else who created the task."""
    found: dict[str, tuple[int, str]] = {}
    for event in events:
        ranked = _cause(event)
        if ranked is not None and ranked[0] < found.get(event.transaction_id, (99, ""))[0]:
            found[event.transaction_id] = ranked
    return {tx: text for tx, (_, text) in found.items()}


def _cause(event: Event) -> tuple[int, str] | None:
    if event.kind == "change" and event.status in ("APPLIED", "EXPIRED", "REJECTED"):
        return 0, f"change {event.record_id} {event.status.lower()} ({event.summary.split(':')[0]})"
    if event.kind == "proposal" and event.status not in ("", "PENDING"):
        return 1, f"proposal {event.record_id} {event.status.lower()}"
    if event.kind == "vote":
        return 2, f"vote by {event.actor} on {event.record_id.split('/')[0]}"
    if event.event == "task.created":
        return 3, f"created by {event.actor}"
    return None
