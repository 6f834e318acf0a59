"""The registry's ledger records as typed, immutable values, parsed from the chaincode's JSON.

The chaincode (chaincode/src/records.ts) writes camelCase JSON. Each record is a frozen
dataclass whose fields declare how they are read (`Text`, `Integer`, `Time`, ...); pydantic
validates the JSON into the dataclass itself (`parse`), with the rules of the hand-written
reader this replaces: no coercion (a string is never a number, a bool never a number), times
are ISO 8601, an optional field may be absent or null. The first mistake becomes a
`RecordError` naming the record and the field path (`proposal.policy.quorum must be an
integer, got None`), so a version skew between the chaincode and this package shows up as a
precise message rather than a KeyError far away.

The records stay dataclasses, not pydantic models, so that their callers are unchanged: they
are built positionally (`Policy(2, 0.5, None, None, 60, 1000, 3)`, `Tally(0, 0, 0, {})`),
compared, and read by attribute; pydantic only reads them
(docs/validator-config.md#how-configuration-files-are-parsed).

Measured against the hand-written reader it replaces (Python 3.11, pydantic 2.14.4, 2 CPUs;
10,000 records, best of 15 runs, three runs each; the ranges are the three runs):

    per record                                   hand-written     pydantic
    Proposal.from_dict (parsed JSON)             19.6-29.1 us     9.7-10.8 us
    json.loads + Proposal.from_dict              26.8-30.7 us     18.2-19.4 us
    parse_event (VoteCast, with its json.loads)  8.3-9.2 us       6.3-6.6 us
    first Proposal in a process                  0.2 ms           4-6 ms (validators built once,
                                                                  pydantic already imported)

pydantic is faster per record; a process pays a few milliseconds once, on its first record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    with_config,
)
from pydantic.alias_generators import to_camel

from fedledger.configfile import WRONG, wrong
from fedledger.registry.errors import RecordError

ProposalStatus = Literal["PENDING", "ACCEPTED", "REJECTED", "EXPIRED", "REVOKED"]
# "unavailable": the voter could not get the model's bytes; a report that counts for nothing
# (chaincode 0.3, docs/policy.md), which its voter replaces with its real vote.
Decision = Literal["approve", "reject", "abstain", "unavailable"]
ChangeStatus = Literal["PENDING", "APPLIED", "REJECTED", "EXPIRED"]
ChangeType = Literal["updatePolicy", "addMember", "removeMember", "revokeChampion"]

PROPOSAL_STATUSES: tuple[ProposalStatus, ...] = (
    "PENDING",
    "ACCEPTED",
    "REJECTED",
    "EXPIRED",
    "REVOKED",
)
DECISIONS: tuple[Decision, ...] = ("approve", "reject", "abstain", "unavailable")
# The decisions the chaincode's policy counts (towards the quorum, the share, a veto).
COUNTED_DECISIONS: tuple[Decision, ...] = ("approve", "reject", "abstain")
# What an `unavailable` report's reason starts with (the chaincode's UNAVAILABLE_FAULTS;
# testdata/policy-vectors.json): "hash_mismatch: …".
UnavailableFault = Literal["hash_mismatch", "object_missing", "unreadable"]
UNAVAILABLE_FAULTS: tuple[UnavailableFault, ...] = ("hash_mismatch", "object_missing", "unreadable")
CHANGE_TYPES: tuple[ChangeType, ...] = (
    "updatePolicy",
    "addMember",
    "removeMember",
    "revokeChampion",
)
CHANGE_STATUSES: tuple[ChangeStatus, ...] = ("PENDING", "APPLIED", "REJECTED", "EXPIRED")


T = TypeVar("T")

# Field names are camelCase on the ledger; a transaction id is "txId".
CAMEL = ConfigDict(alias_generator=to_camel)
TX_ID = Field(alias="txId")


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise wrong("must be a string, got {got}", got=value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise wrong("must be an ISO 8601 time, got {got}", got=value) from None


def choice(choices: tuple[str, ...]) -> PlainValidator:
    """A field that is one of `choices`, a string; any other value fails validation (it raises
    the ValueError of `wrong`, which `parse` reports as a RecordError)."""
    allowed = frozenset(choices)
    message = f"must be one of {', '.join(choices)}"

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise wrong("must be a string, got {got}", got=value)
        if value not in allowed:
            raise wrong(message)
        return value

    return PlainValidator(check)


# The field types. Strict: bool is an int in Python, and the chaincode never writes a bool (or
# a string) where a number belongs. A number may be written as an integer; it is read as a float.
Text = StrictStr
Integer = StrictInt
Number = StrictFloat
Flag = StrictBool
Time = Annotated[datetime, PlainValidator(_time)]
Texts = tuple[StrictStr, ...]  # a JSON list of strings
Metrics = dict[str, StrictFloat]  # a JSON object of numbers
Mapping = dict[str, Any]  # a JSON object, as it is
# May be absent or null.
OptionalText = Annotated[StrictStr | None, Field(default=None)]
OptionalNumber = Annotated[StrictFloat | None, Field(default=None)]
OptionalTime = Annotated[Time | None, Field(default=None)]
DecisionField = Annotated[Decision, choice(DECISIONS)]
ProposalStatusField = Annotated[ProposalStatus, choice(PROPOSAL_STATUSES)]

# What each of pydantic's error types means here, after "must be".
_MUST_BE = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "an object",
}


# Each record type's validator, built on its first use: a command that reads no record does
# not pay for it.
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def parse(kind: type[T], value: Any, where: str) -> T:
    """`value` (parsed JSON) as the dataclass `kind`; raises RecordError naming the first wrong
    field under `where` (the record, e.g. "proposal" or "GetVotes[2]")."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    try:
        parsed: T = adapter.validate_python(value)
    except ValidationError as error:
        raise _record_error(error, where) from None
    return parsed


def _record_error(error: ValidationError, where: str) -> RecordError:
    first = error.errors(include_url=False)[0]
    path = where
    for part in first["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            path += f".{part}"
    kind, got = first["type"], first.get("input")
    if kind == WRONG:
        return RecordError(f"{path} {first['msg']}")
    if kind == "missing":
        return RecordError(f"{path} is missing")
    if kind in ("dataclass_type", "model_type"):
        return RecordError(f"{path} must be a JSON object, got {type(got).__name__}")
    if kind in _MUST_BE:
        return RecordError(f"{path} must be {_MUST_BE[kind]}, got {got!r}")
    return RecordError(f"{path}: {first['msg']}")


@with_config(CAMEL)
@dataclass(frozen=True)
class Policy:
    """A task's acceptance policy (chaincode/src/policy.ts explains each rule)."""

    quorum: Integer
    approval_threshold: Number
    min_score: OptionalNumber
    max_regression: OptionalNumber
    voting_period_seconds: Integer
    max_model_bytes: Integer
    max_open_proposals_per_org: Integer

    @classmethod
    def from_dict(cls, value: Any, where: str = "policy") -> Policy:
        """Raises RecordError, naming the field under `where`, for a missing or wrong one."""
        return parse(cls, value, where)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quorum": self.quorum,
            "approvalThreshold": self.approval_threshold,
            "minScore": self.min_score,
            "maxRegression": self.max_regression,
            "votingPeriodSeconds": self.voting_period_seconds,
            "maxModelBytes": self.max_model_bytes,
            "maxOpenProposalsPerOrg": self.max_open_proposals_per_org,
        }


@with_config(CAMEL)
@dataclass(frozen=True)
class Task:
    id: Text
    description: Text
    schema: Mapping
    schema_sha256: Text
    metric: Text
    higher_is_better: Flag
    members: Texts
    policy: Policy
    created_by: Text
    created_at: Time
    updated_at: Time
    transaction_id: Annotated[Text, TX_ID]

    @classmethod
    def from_dict(cls, value: Any, where: str = "task") -> Task:
        return parse(cls, value, where)


@with_config(CAMEL)
@dataclass(frozen=True)
class VoteSummary:
    """What the policy keeps of one vote: decision, score, regression against the champion."""

    decision: DecisionField
    score: OptionalNumber
    regression: OptionalNumber


@with_config(CAMEL)
@dataclass(frozen=True)
class Tally:
    """The counted votes; `unavailable` counts the reports that count for nothing (absent from
    a tally written before chaincode 0.3, so 0)."""

    approve: Integer
    reject: Integer
    abstain: Integer
    votes: dict[str, VoteSummary] = field(default_factory=dict)
    unavailable: Integer = 0

    @property
    def cast(self) -> int:
        return self.approve + self.reject + self.abstain

    @classmethod
    def from_dict(cls, value: Any, where: str = "tally") -> Tally:
        return parse(cls, value, where)


@with_config(CAMEL)
@dataclass(frozen=True)
class Proposal:
    id: Text
    task_id: Text
    model_sha256: Text
    uri: Text
    size_bytes: Integer
    format: Text
    proposer: Text
    metrics: Metrics
    parent: OptionalText
    round: OptionalText
    electorate: Texts
    policy: Policy
    metric: Text
    higher_is_better: Flag
    status: ProposalStatusField
    status_reason: Text
    tally: Tally
    created_at: Time
    deadline: Time
    decided_at: OptionalTime
    transaction_id: Annotated[Text, TX_ID]

    @property
    def pending(self) -> bool:
        return self.status == "PENDING"

    @classmethod
    def from_dict(cls, value: Any, where: str = "proposal") -> Proposal:
        return parse(cls, value, where)


@with_config(CAMEL)
@dataclass(frozen=True)
class Vote:
    proposal_id: Text
    task_id: Text
    voter: Text
    decision: DecisionField
    metrics: Metrics
    score: OptionalNumber
    holdout_rows: Integer
    evaluator_version: Text
    reason: Text
    cast_at: Time
    transaction_id: Annotated[Text, TX_ID]

    @classmethod
    def from_dict(cls, value: Any, where: str = "vote") -> Vote:
        return parse(cls, value, where)


@with_config(CAMEL)
@dataclass(frozen=True)
class ServingValidator:
    """One organisation's validator serving one task, from its last announcement
    (ListValidators): serving it without a break `since`, last heard of at `announced_at`."""

    organization: Text
    task_id: Text
    since: Time
    evaluator_version: Text
    announced_at: Time
    transaction_id: Annotated[Text, TX_ID]


@with_config(CAMEL)
@dataclass(frozen=True)
class ValidatorAnnouncement:
    """What AnnounceValidator records: the tasks an organisation's validator serves, each with
    the time it began serving it."""

    organization: Text
    tasks: dict[str, Time]
    evaluator_version: Text
    announced_at: Time
    transaction_id: Annotated[Text, TX_ID]


@with_config(CAMEL)
@dataclass(frozen=True)
class Champion:
    task_id: Text
    proposal_id: Text
    model_sha256: Text
    uri: Text
    size_bytes: Integer
    format: Text
    scores: Metrics
    lineage: Texts
    since: Time
    transaction_id: Annotated[Text, TX_ID]

    @classmethod
    def from_dict(cls, value: Any, where: str = "champion") -> Champion:
        return parse(cls, value, where)


@with_config(CAMEL)
@dataclass(frozen=True)
class Change:
    """A governance change to a task: it applies once every member approved it."""

    id: Text
    task_id: Text
    type: Annotated[ChangeType, choice(CHANGE_TYPES)]
    policy: Policy | None  # present, null unless the change sets a policy
    member: OptionalText
    reason: Text
    proposer: Text
    approvals: Texts
    rejections: Texts
    status: Annotated[ChangeStatus, choice(CHANGE_STATUSES)]
    status_reason: Text
    created_at: Time
    deadline: Time
    decided_at: OptionalTime
    transaction_id: Annotated[Text, TX_ID]

    @classmethod
    def from_dict(cls, value: Any, where: str = "change") -> Change:
        return parse(cls, value, where)


Record = Task | Proposal | Champion | Change

_BY_DOC_TYPE: dict[str, Any] = {
    "task": Task,
    "proposal": Proposal,
    "champion": Champion,
    "change": Change,
}
HISTORY_TYPES = tuple(_BY_DOC_TYPE)


@with_config(CAMEL)
@dataclass(frozen=True)
class _Typed:
    """What every record says of itself: its type."""

    doc_type: Text


def parse_record(doc_type: str, value: Any, where: str) -> Record:
    """A record of one of the HISTORY_TYPES; its own docType must agree.

    Raises RecordError otherwise.
    """
    found = parse(_Typed, value, where).doc_type
    if found != doc_type:
        raise RecordError(f"{where}.docType is {found!r}, expected {doc_type!r}")
    record: Record = parse(_BY_DOC_TYPE[doc_type], value, where)
    return record


@dataclass(frozen=True)
class HistoryEntry:
    """One committed version of a record; `record` is None where the transaction deleted it.

    `value` is the record's JSON as the chaincode returned it (None where deleted), for those
    who must show or hash exactly what was written."""

    transaction_id: str
    timestamp: datetime
    is_delete: bool
    record: Record | None
    value: Any = None


@dataclass(frozen=True)
class VoteResult:
    """What CastVote returns: the vote as recorded, the proposal as the vote found it, and whether
    the vote was late (cast after the decision: recorded, deciding nothing).

    The chaincode counts votes in a separate Decide transaction, so the proposal comes back
    PENDING with the tally of its submission. A chaincode before 0.2 counted the vote in the same
    transaction: its reply's proposal is counted, it has no `late`, and a late vote (then only on
    the champion) came back with the champion it scored.
    """

    vote: Vote
    proposal: Proposal
    late: Annotated[StrictBool | None, Field(default=None)]
    champion: Champion | None = None

    def __post_init__(self) -> None:
        if self.late is None:
            object.__setattr__(self, "late", self.champion is not None)

    @property
    def decided(self) -> bool:
        return not self.proposal.pending
