"""The registry's ledger records as typed, immutable values, parsed from the chaincode's JSON.

The chaincode (chaincode/src/records.ts) writes camelCase JSON; each `from_dict` here reads one
record and fails with `RecordError` naming the field when the chaincode and this package
disagree, so a version skew shows up as a precise message rather than a KeyError far away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from fedledger.registry.errors import RecordError

ProposalStatus = Literal["PENDING", "ACCEPTED", "REJECTED", "EXPIRED", "REVOKED"]
Decision = Literal["approve", "reject", "abstain"]
ChangeStatus = Literal["PENDING", "APPLIED", "REJECTED", "EXPIRED"]
ChangeType = Literal["updatePolicy", "addMember", "removeMember", "revokeChampion"]

PROPOSAL_STATUSES: tuple[ProposalStatus, ...] = (
    "PENDING",
    "ACCEPTED",
    "REJECTED",
    "EXPIRED",
    "REVOKED",
)
DECISIONS: tuple[Decision, ...] = ("approve", "reject", "abstain")
CHANGE_TYPES: tuple[ChangeType, ...] = (
    "updatePolicy",
    "addMember",
    "removeMember",
    "revokeChampion",
)
CHANGE_STATUSES: tuple[ChangeStatus, ...] = ("PENDING", "APPLIED", "REJECTED", "EXPIRED")


T = TypeVar("T")


class Fields:
    """Typed access to one JSON object; errors name the record and the field path."""

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, Mapping):
            raise RecordError(f"{where} must be a JSON object, got {type(value).__name__}")
        self._value: Mapping[str, Any] = value
        self.where = where

    def _get(self, key: str, kind: type[T] | tuple[type, ...], what: str) -> Any:
        if key not in self._value:
            raise RecordError(f"{self.where}.{key} is missing")
        value = self._value[key]
        # bool is an int in Python; the chaincode never writes a bool where a number belongs.
        if not isinstance(value, kind) or (isinstance(value, bool) and what != "a boolean"):
            raise RecordError(f"{self.where}.{key} must be {what}, got {value!r}")
        return value

    def text(self, key: str) -> str:
        value: str = self._get(key, str, "a string")
        return value

    def optional_str(self, key: str) -> str | None:
        return None if self._value.get(key) is None else self.text(key)

    def integer(self, key: str) -> int:
        value: int = self._get(key, int, "an integer")
        return value

    def number(self, key: str) -> float:
        return float(self._get(key, (int, float), "a number"))

    def optional_number(self, key: str) -> float | None:
        return None if self._value.get(key) is None else self.number(key)

    def flag(self, key: str) -> bool:
        value: bool = self._get(key, bool, "a boolean")
        return value

    def time(self, key: str) -> datetime:
        text = self.text(key)
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise RecordError(
                f"{self.where}.{key} must be an ISO 8601 time, got {text!r}"
            ) from None

    def optional_time(self, key: str) -> datetime | None:
        return None if self._value.get(key) is None else self.time(key)

    def strings(self, key: str) -> tuple[str, ...]:
        items = self._get(key, list, "a list")
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise RecordError(f"{self.where}.{key}[{index}] must be a string, got {item!r}")
        return tuple(items)

    def metrics(self, key: str) -> dict[str, float]:
        child = self.child(key)
        return {name: child.number(name) for name in child.names()}

    def mapping(self, key: str) -> dict[str, Any]:
        return dict(self._get(key, Mapping, "an object"))

    def child(self, key: str) -> Fields:
        return Fields(self.mapping(key), f"{self.where}.{key}")

    def raw(self, key: str) -> Any:
        if key not in self._value:
            raise RecordError(f"{self.where}.{key} is missing")
        return self._value[key]

    def names(self) -> list[str]:
        return list(self._value)

    def choice(self, key: str, choices: tuple[T, ...]) -> T:
        value = self._get(key, str, "a string")
        if value not in choices:
            raise RecordError(f"{self.where}.{key} must be one of {', '.join(map(str, choices))}")
        return value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Policy:
    """A task's acceptance policy (chaincode/src/policy.ts explains each rule)."""

    quorum: int
    approval_threshold: float
    min_score: float | None
    max_regression: float | None
    voting_period_seconds: int
    max_model_bytes: int
    max_open_proposals_per_org: int

    @classmethod
    def from_dict(cls, value: Any, where: str = "policy") -> Policy:
        """Raises RecordError, naming the field under `where`, for a missing or wrong one."""
        f = Fields(value, where)
        return cls(
            quorum=f.integer("quorum"),
            approval_threshold=f.number("approvalThreshold"),
            min_score=f.optional_number("minScore"),
            max_regression=f.optional_number("maxRegression"),
            voting_period_seconds=f.integer("votingPeriodSeconds"),
            max_model_bytes=f.integer("maxModelBytes"),
            max_open_proposals_per_org=f.integer("maxOpenProposalsPerOrg"),
        )

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


@dataclass(frozen=True)
class Task:
    id: str
    description: str
    schema: dict[str, Any]
    schema_sha256: str
    metric: str
    higher_is_better: bool
    members: tuple[str, ...]
    policy: Policy
    created_by: str
    created_at: datetime
    updated_at: datetime
    transaction_id: str

    @classmethod
    def from_dict(cls, value: Any, where: str = "task") -> Task:
        f = Fields(value, where)
        return cls(
            id=f.text("id"),
            description=f.text("description"),
            schema=f.mapping("schema"),
            schema_sha256=f.text("schemaSha256"),
            metric=f.text("metric"),
            higher_is_better=f.flag("higherIsBetter"),
            members=f.strings("members"),
            policy=Policy.from_dict(f.raw("policy"), f"{where}.policy"),
            created_by=f.text("createdBy"),
            created_at=f.time("createdAt"),
            updated_at=f.time("updatedAt"),
            transaction_id=f.text("txId"),
        )


@dataclass(frozen=True)
class VoteSummary:
    """What the policy keeps of one vote: decision, score, regression against the champion."""

    decision: Decision
    score: float | None
    regression: float | None


@dataclass(frozen=True)
class Tally:
    approve: int
    reject: int
    abstain: int
    votes: dict[str, VoteSummary] = field(default_factory=dict)

    @property
    def cast(self) -> int:
        return self.approve + self.reject + self.abstain

    @classmethod
    def from_dict(cls, value: Any, where: str = "tally") -> Tally:
        f = Fields(value, where)
        votes: dict[str, VoteSummary] = {}
        if "votes" in f.names():
            listed = f.child("votes")
            for voter in listed.names():
                v = listed.child(voter)
                votes[voter] = VoteSummary(
                    decision=v.choice("decision", DECISIONS),
                    score=v.optional_number("score"),
                    regression=v.optional_number("regression"),
                )
        return cls(f.integer("approve"), f.integer("reject"), f.integer("abstain"), votes)


@dataclass(frozen=True)
class Proposal:
    id: str
    task_id: str
    model_sha256: str
    uri: str
    size_bytes: int
    format: str
    proposer: str
    metrics: dict[str, float]
    parent: str | None
    round: str | None
    electorate: tuple[str, ...]
    policy: Policy
    metric: str
    higher_is_better: bool
    status: ProposalStatus
    status_reason: str
    tally: Tally
    created_at: datetime
    deadline: datetime
    decided_at: datetime | None
    transaction_id: str

    @property
    def pending(self) -> bool:
        return self.status == "PENDING"

    @classmethod
    def from_dict(cls, value: Any, where: str = "proposal") -> Proposal:
        f = Fields(value, where)
        return cls(
            id=f.text("id"),
            task_id=f.text("taskId"),
            model_sha256=f.text("modelSha256"),
            uri=f.text("uri"),
            size_bytes=f.integer("sizeBytes"),
            format=f.text("format"),
            proposer=f.text("proposer"),
            metrics=f.metrics("metrics"),
            parent=f.optional_str("parent"),
            round=f.optional_str("round"),
            electorate=f.strings("electorate"),
            policy=Policy.from_dict(f.raw("policy"), f"{where}.policy"),
            metric=f.text("metric"),
            higher_is_better=f.flag("higherIsBetter"),
            status=f.choice("status", PROPOSAL_STATUSES),
            status_reason=f.text("statusReason"),
            tally=Tally.from_dict(f.raw("tally"), f"{where}.tally"),
            created_at=f.time("createdAt"),
            deadline=f.time("deadline"),
            decided_at=f.optional_time("decidedAt"),
            transaction_id=f.text("txId"),
        )


@dataclass(frozen=True)
class Vote:
    proposal_id: str
    task_id: str
    voter: str
    decision: Decision
    metrics: dict[str, float]
    score: float | None
    holdout_rows: int
    evaluator_version: str
    reason: str
    cast_at: datetime
    transaction_id: str

    @classmethod
    def from_dict(cls, value: Any, where: str = "vote") -> Vote:
        f = Fields(value, where)
        return cls(
            proposal_id=f.text("proposalId"),
            task_id=f.text("taskId"),
            voter=f.text("voter"),
            decision=f.choice("decision", DECISIONS),
            metrics=f.metrics("metrics"),
            score=f.optional_number("score"),
            holdout_rows=f.integer("holdoutRows"),
            evaluator_version=f.text("evaluatorVersion"),
            reason=f.text("reason"),
            cast_at=f.time("castAt"),
            transaction_id=f.text("txId"),
        )


@dataclass(frozen=True)
class Champion:
    task_id: str
    proposal_id: str
    model_sha256: str
    uri: str
    size_bytes: int
    format: str
    scores: dict[str, float]
    lineage: tuple[str, ...]
    since: datetime
    transaction_id: str

    @classmethod
    def from_dict(cls, value: Any, where: str = "champion") -> Champion:
        f = Fields(value, where)
        return cls(
            task_id=f.text("taskId"),
            proposal_id=f.text("proposalId"),
            model_sha256=f.text("modelSha256"),
            uri=f.text("uri"),
            size_bytes=f.integer("sizeBytes"),
            format=f.text("format"),
            scores=f.metrics("scores"),
            lineage=f.strings("lineage"),
            since=f.time("since"),
            transaction_id=f.text("txId"),
        )


@dataclass(frozen=True)
class Change:
    """A governance change to a task: it applies once every member approved it."""

    id: str
    task_id: str
    type: ChangeType
    policy: Policy | None
    member: str | None
    reason: str
    proposer: str
    approvals: tuple[str, ...]
    rejections: tuple[str, ...]
    status: ChangeStatus
    status_reason: str
    created_at: datetime
    deadline: datetime
    decided_at: datetime | None
    transaction_id: str

    @classmethod
    def from_dict(cls, value: Any, where: str = "change") -> Change:
        f = Fields(value, where)
        policy = f.raw("policy")
        return cls(
            id=f.text("id"),
            task_id=f.text("taskId"),
            type=f.choice("type", CHANGE_TYPES),
            policy=None if policy is None else Policy.from_dict(policy, f"{where}.policy"),
            member=f.optional_str("member"),
            reason=f.text("reason"),
            proposer=f.text("proposer"),
            approvals=f.strings("approvals"),
            rejections=f.strings("rejections"),
            status=f.choice("status", CHANGE_STATUSES),
            status_reason=f.text("statusReason"),
            created_at=f.time("createdAt"),
            deadline=f.time("deadline"),
            decided_at=f.optional_time("decidedAt"),
            transaction_id=f.text("txId"),
        )


Record = Task | Proposal | Champion | Change

_BY_DOC_TYPE: dict[str, Any] = {
    "task": Task,
    "proposal": Proposal,
    "champion": Champion,
    "change": Change,
}
HISTORY_TYPES = tuple(_BY_DOC_TYPE)


def parse_record(doc_type: str, value: Any, where: str) -> Record:
    """A record of one of the HISTORY_TYPES; its own docType must agree."""
    f = Fields(value, where)
    found = f.text("docType")
    if found != doc_type:
        raise RecordError(f"{where}.docType is {found!r}, expected {doc_type!r}")
    record: Record = _BY_DOC_TYPE[doc_type].from_dict(value, where)
    return record


@dataclass(frozen=True)
class HistoryEntry:
    """One committed version of a record; `record` is None where the transaction deleted it."""

    transaction_id: str
    timestamp: datetime
    is_delete: bool
    record: Record | None


@dataclass(frozen=True)
class VoteResult:
    """What CastVote returns: the vote as recorded and the proposal after counting it; for a
    late vote (on the champion, after its decision) also the champion it scored."""

    vote: Vote
    proposal: Proposal
    champion: Champion | None = None

    @property
    def late(self) -> bool:
        return self.champion is not None

    @property
    def decided(self) -> bool:
        return not self.proposal.pending
