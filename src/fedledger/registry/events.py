"""The registry's chaincode events as typed values.

Each registry transaction emits at most one event (Fabric keeps only the last one a transaction
sets): CreateTask emits TaskCreated, SubmitProposal ProposalSubmitted, a vote VoteCast (a late
vote on the champion ChampionScored instead), and Decide or CloseExpired ProposalDecided.
Governance and health events are not parsed here: `parse_event` returns None for them.

Each event is a frozen dataclass validated from its JSON payload as the records are
(fedledger.registry.records: the same field types, the same RecordError messages).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, with_config

from fedledger.fabric import ChaincodeEvent
from fedledger.registry.errors import RecordError
from fedledger.registry.records import (
    CAMEL,
    DecisionField,
    Flag,
    Integer,
    OptionalNumber,
    OptionalText,
    OptionalTime,
    ProposalStatusField,
    Text,
    Texts,
    Time,
    parse,
)


@with_config(CAMEL)
@dataclass(frozen=True)
class EventCounts:
    """The tally's counts as an event carries them (without the per-voter detail)."""

    approve: Integer
    reject: Integer
    abstain: Integer
    unavailable: Integer = 0  # absent before chaincode 0.3


@dataclass(frozen=True)
class Origin:
    """Where an event was committed: block and transaction."""

    block_number: int
    transaction_id: str


# Each event is its `origin`, which the ledger gives (parse_event adds it to the payload), and
# the payload's fields (camelCase in the payload).


@with_config(CAMEL)
@dataclass(frozen=True)
class TaskCreated:
    origin: Origin
    task_id: Text
    schema_sha256: Text
    metric: Text
    members: Texts
    created_by: Text


@with_config(CAMEL)
@dataclass(frozen=True)
class ProposalSubmitted:
    origin: Origin
    task_id: Text
    proposal_id: Text
    model_sha256: Text
    uri: Text
    size_bytes: Integer
    format: Text
    proposer: Text
    parent: OptionalText
    round: OptionalText
    deadline: Time
    electorate: Texts


@with_config(CAMEL)
@dataclass(frozen=True)
class VoteCast:
    """A vote recorded. `late`: cast after the decision, it decided nothing. A chaincode before
    0.2 counted the vote in its transaction and sent the tally (`tally`, None from 0.2 on)."""

    origin: Origin
    task_id: Text
    proposal_id: Text
    voter: Text
    decision: DecisionField
    score: OptionalNumber
    late: Annotated[Flag, Field(default=False)]
    tally: Annotated[EventCounts | None, Field(default=None)]


@with_config(CAMEL)
@dataclass(frozen=True)
class ChampionScored:
    """A late vote on the champion: it decided nothing; its score (None for an abstention) is
    now the voter's champion score."""

    origin: Origin
    task_id: Text
    proposal_id: Text
    voter: Text
    decision: DecisionField
    score: OptionalNumber


@with_config(CAMEL)
@dataclass(frozen=True)
class ProposalDecided:
    origin: Origin
    task_id: Text
    proposal_id: Text
    model_sha256: Text
    uri: Text
    status: ProposalStatusField
    reason: Text
    decided_at: OptionalTime
    decided_by: Text
    champion: OptionalText
    tally: EventCounts


RegistryEvent = TaskCreated | ProposalSubmitted | VoteCast | ProposalDecided | ChampionScored

_EVENTS: dict[str, type[RegistryEvent]] = {
    "TaskCreated": TaskCreated,
    "ProposalSubmitted": ProposalSubmitted,
    "VoteCast": VoteCast,
    "ProposalDecided": ProposalDecided,
    "ChampionScored": ChampionScored,
}
EVENT_NAMES = tuple(_EVENTS)


def parse_event(event: ChaincodeEvent) -> RegistryEvent | None:
    """The typed registry event, or None for events of other contracts (Heartbeat, changes).

    Raises RecordError when a registry event's payload is not what the chaincode writes.
    """
    kind = _EVENTS.get(event.event_name)
    if kind is None:
        return None
    where = f"{event.event_name} event of transaction {event.transaction_id}"
    try:
        payload = json.loads(event.payload)
    except ValueError as error:
        raise RecordError(f"{where}: the payload is not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise RecordError(f"{where} must be a JSON object, got {type(payload).__name__}")
    origin = Origin(event.block_number, event.transaction_id)
    return parse(kind, {**payload, "origin": origin}, where)
