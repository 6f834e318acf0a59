"""The registry's chaincode events as typed values.

Each registry transaction emits at most one event (Fabric keeps only the last one a transaction
sets): CreateTask emits TaskCreated, SubmitProposal ProposalSubmitted, a vote that leaves the
proposal open VoteCast, the deciding vote or CloseExpired ProposalDecided, and a late vote on
the champion ChampionScored. Governance and
health events are not parsed here: `parse_event` returns None for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fedledger.fabric import ChaincodeEvent
from fedledger.registry.errors import RecordError
from fedledger.registry.records import (
    DECISIONS,
    PROPOSAL_STATUSES,
    Decision,
    Fields,
    ProposalStatus,
)


@dataclass(frozen=True)
class EventCounts:
    """The tally's counts as an event carries them (without the per-voter detail)."""

    approve: int
    reject: int
    abstain: int

    @classmethod
    def from_fields(cls, f: Fields) -> EventCounts:
        return cls(f.integer("approve"), f.integer("reject"), f.integer("abstain"))


@dataclass(frozen=True)
class Origin:
    """Where an event was committed: block and transaction."""

    block_number: int
    transaction_id: str


@dataclass(frozen=True)
class TaskCreated:
    origin: Origin
    task_id: str
    schema_sha256: str
    metric: str
    members: tuple[str, ...]
    created_by: str


@dataclass(frozen=True)
class ProposalSubmitted:
    origin: Origin
    task_id: str
    proposal_id: str
    model_sha256: str
    uri: str
    size_bytes: int
    format: str
    proposer: str
    parent: str | None
    round: str | None
    deadline: datetime
    electorate: tuple[str, ...]


@dataclass(frozen=True)
class VoteCast:
    origin: Origin
    task_id: str
    proposal_id: str
    voter: str
    decision: Decision
    score: float | None
    tally: EventCounts


@dataclass(frozen=True)
class ChampionScored:
    """A late vote on the champion: it decided nothing; its score (None for an abstention) is
    now the voter's champion score."""

    origin: Origin
    task_id: str
    proposal_id: str
    voter: str
    decision: Decision
    score: float | None


@dataclass(frozen=True)
class ProposalDecided:
    origin: Origin
    task_id: str
    proposal_id: str
    model_sha256: str
    uri: str
    status: ProposalStatus
    reason: str
    decided_at: datetime | None
    decided_by: str
    champion: str | None
    tally: EventCounts


RegistryEvent = TaskCreated | ProposalSubmitted | VoteCast | ProposalDecided | ChampionScored


def parse_event(event: ChaincodeEvent) -> RegistryEvent | None:
    """The typed registry event, or None for events of other contracts (Heartbeat, changes).

    Raises RecordError when a registry event's payload is not what the chaincode writes.
    """
    if event.event_name not in _PARSERS:
        return None
    where = f"{event.event_name} event of transaction {event.transaction_id}"
    try:
        payload = json.loads(event.payload)
    except ValueError as error:
        raise RecordError(f"{where}: the payload is not JSON ({error})") from None
    origin = Origin(event.block_number, event.transaction_id)
    return _PARSERS[event.event_name](origin, Fields(payload, where))


def _task_created(origin: Origin, f: Fields) -> TaskCreated:
    return TaskCreated(
        origin,
        task_id=f.text("taskId"),
        schema_sha256=f.text("schemaSha256"),
        metric=f.text("metric"),
        members=f.strings("members"),
        created_by=f.text("createdBy"),
    )


def _proposal_submitted(origin: Origin, f: Fields) -> ProposalSubmitted:
    return ProposalSubmitted(
        origin,
        task_id=f.text("taskId"),
        proposal_id=f.text("proposalId"),
        model_sha256=f.text("modelSha256"),
        uri=f.text("uri"),
        size_bytes=f.integer("sizeBytes"),
        format=f.text("format"),
        proposer=f.text("proposer"),
        parent=f.optional_str("parent"),
        round=f.optional_str("round"),
        deadline=f.time("deadline"),
        electorate=f.strings("electorate"),
    )


def _vote_cast(origin: Origin, f: Fields) -> VoteCast:
    return VoteCast(
        origin,
        task_id=f.text("taskId"),
        proposal_id=f.text("proposalId"),
        voter=f.text("voter"),
        decision=f.choice("decision", DECISIONS),
        score=f.optional_number("score"),
        tally=EventCounts.from_fields(f.child("tally")),
    )


def _champion_scored(origin: Origin, f: Fields) -> ChampionScored:
    return ChampionScored(
        origin,
        task_id=f.text("taskId"),
        proposal_id=f.text("proposalId"),
        voter=f.text("voter"),
        decision=f.choice("decision", DECISIONS),
        score=f.optional_number("score"),
    )


def _proposal_decided(origin: Origin, f: Fields) -> ProposalDecided:
    return ProposalDecided(
        origin,
        task_id=f.text("taskId"),
        proposal_id=f.text("proposalId"),
        model_sha256=f.text("modelSha256"),
        uri=f.text("uri"),
        status=f.choice("status", PROPOSAL_STATUSES),
        reason=f.text("reason"),
        decided_at=f.optional_time("decidedAt"),
        decided_by=f.text("decidedBy"),
        champion=f.optional_str("champion"),
        tally=EventCounts.from_fields(f.child("tally")),
    )


_PARSERS: dict[str, Callable[[Origin, Fields], RegistryEvent]] = {
    "TaskCreated": _task_created,
    "ProposalSubmitted": _proposal_submitted,
    "VoteCast": _vote_cast,
    "ProposalDecided": _proposal_decided,
    "ChampionScored": _champion_scored,
}
EVENT_NAMES = tuple(_PARSERS)
