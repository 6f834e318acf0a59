"""`Registry`: the chaincode's registry contract as typed Python calls.

Writes (create_task, submit_proposal, cast_vote, decide, close_expired, close_expired_change,
propose_change, vote_change, announce_validator)
are submitted and wait for the commit; reads are evaluated on the gateway peer. The voter,
proposer and creator of a record are always the organisation of the identity the contract was
connected with: the chaincode takes them from the signed proposal, never from an argument.

A refusal by the chaincode raises `ChaincodeRefusalError` carrying the chaincode's own message.
Every other failure (peer unreachable, MVCC conflict at commit) is the `fedledger.fabric`
error of its stage, unchanged, so a caller can tell "the ledger said no" from "try again".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

from pydantic import with_config

from fedledger.fabric import GatewayError, connect
from fedledger.fabric.proposal import Argument
from fedledger.profile import ConnectionProfile
from fedledger.registry.errors import ChaincodeRefusalError, RecordError
from fedledger.registry.records import (
    CAMEL,
    HISTORY_TYPES,
    TX_ID,
    Champion,
    Change,
    ChangeType,
    Decision,
    Flag,
    HistoryEntry,
    Integer,
    Policy,
    Proposal,
    ProposalStatus,
    ServingValidator,
    Task,
    Text,
    Time,
    ValidatorAnnouncement,
    Vote,
    VoteResult,
    parse,
    parse_record,
)
from fedledger.registry.refusals import RefusalCode

R = TypeVar("R")
CONTRACT = "registry"


class ContractLike(Protocol):
    """What Registry needs of `fedledger.fabric.Contract` (a fake in unit tests)."""

    @property
    def contract_name(self) -> str | None: ...

    def evaluate(self, function: str, args: Sequence[Argument] = ()) -> bytes: ...

    def submit(self, function: str, args: Sequence[Argument] = ()) -> bytes: ...


@dataclass(frozen=True)
class Page(Generic[R]):
    """One page of a list; pass `bookmark` back for the next one ("" when this is the last)."""

    records: tuple[R, ...]
    bookmark: str
    fetched: int


def _proposal_document(
    task_id: str,
    model_sha256: str,
    uri: str,
    size_bytes: int,
    metrics: Mapping[str, float] | None,
    parent: str | None,
    round: str | None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "taskId": task_id,
        "modelSha256": model_sha256,
        "uri": uri,
        "sizeBytes": size_bytes,
        "format": "onnx",
        "metrics": dict(metrics or {}),
    }
    if parent is not None:
        document["parent"] = parent
    if round is not None:
        document["round"] = round
    return document


def proposal_id_for(task_id: str, model_sha256: str) -> str:
    """The id the chaincode gives a proposal: "p-" and 32 hex of SHA-256(task, 0, model)."""
    digest = hashlib.sha256(f"{task_id}\0{model_sha256}".encode()).hexdigest()
    return f"p-{digest[:32]}"


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


class Registry:
    """Typed calls of the registry contract through one organisation's contract.

    Every call raises ChaincodeRefusalError (the chaincode's own message) when the chaincode
    refuses it, RecordError when its answer is not a record this package reads, and the fabric
    package's errors (FabricError) when the ledger cannot be reached or the transaction does
    not commit.
    """

    def __init__(self, contract: ContractLike) -> None:
        self.contract = contract

    def _function(self, name: str) -> str:
        # A Contract made for the chaincode as a whole routes by "registry:Name"; one made for
        # the registry contract already adds the prefix itself.
        return name if self.contract.contract_name else f"{CONTRACT}:{name}"

    def _call(self, submit: bool, name: str, args: Sequence[str]) -> Any:
        function = self._function(name)
        try:
            if submit:
                result = self.contract.submit(function, args)
            else:
                result = self.contract.evaluate(function, args)
        except GatewayError as error:
            message = error.chaincode_message
            if message is None:
                raise
            transaction_id = str(getattr(error, "transaction_id", ""))
            raise ChaincodeRefusalError(name, message, transaction_id) from error
        try:
            return json.loads(result)
        except ValueError as error:
            raise RecordError(f"{name} returned something other than JSON ({error})") from None

    def _submit(self, name: str, *args: str) -> Any:
        return self._call(True, name, args)

    def _evaluate(self, name: str, *args: str) -> Any:
        return self._call(False, name, args)

    # Tasks

    def create_task(
        self,
        task_id: str,
        *,
        schema: Mapping[str, Any],
        metric: str,
        members: Sequence[str],
        policy: Policy,
        description: str = "",
    ) -> Task:
        """Create a task; the calling organisation must be one of `members`."""
        document = {
            "id": task_id,
            "description": description,
            "schema": dict(schema),
            "metric": metric,
            "members": list(members),
            "policy": policy.to_dict(),
        }
        return Task.from_dict(self._submit("CreateTask", _json(document)))

    def get_task(self, task_id: str) -> Task:
        return Task.from_dict(self._evaluate("GetTask", task_id))

    def list_tasks(self, *, page_size: int | None = None, bookmark: str = "") -> Page[Task]:
        reply = self._evaluate("ListTasks", _query(page_size=page_size, bookmark=bookmark))
        return _page(reply, Task.from_dict, "ListTasks")

    def all_tasks(self) -> Iterator[Task]:
        yield from _walk(lambda bookmark: self.list_tasks(bookmark=bookmark))

    # Proposals

    def submit_proposal(
        self,
        task_id: str,
        *,
        model_sha256: str,
        uri: str,
        size_bytes: int,
        metrics: Mapping[str, float] | None = None,
        parent: str | None = None,
        round: str | None = None,
    ) -> Proposal:
        """Register a model (already in the store) for a task, proposed by the caller's org.

        An EXPIRED proposal of the same model is reopened (docs/governance.md)."""
        document = _proposal_document(
            task_id, model_sha256, uri, size_bytes, metrics, parent, round
        )
        return Proposal.from_dict(self._submit("SubmitProposal", _json(document)))

    def check_proposal(
        self,
        task_id: str,
        *,
        model_sha256: str,
        uri: str,
        size_bytes: int,
        metrics: Mapping[str, float] | None = None,
        parent: str | None = None,
        round: str | None = None,
    ) -> Proposal:
        """What `submit_proposal` would record, evaluated on a peer without ordering anything:
        the chaincode's refusal (ChaincodeRefusalError) comes before the model is uploaded.

        The ledger may change before the submit, which can still be refused."""
        document = _proposal_document(
            task_id, model_sha256, uri, size_bytes, metrics, parent, round
        )
        return Proposal.from_dict(self._evaluate("SubmitProposal", _json(document)))

    def get_proposal(self, proposal_id: str) -> Proposal:
        return Proposal.from_dict(self._evaluate("GetProposal", proposal_id))

    def list_proposals(
        self,
        *,
        task_id: str | None = None,
        status: ProposalStatus | None = None,
        proposer: str | None = None,
        page_size: int | None = None,
        bookmark: str = "",
    ) -> Page[Proposal]:
        """Proposals, optionally of one task and/or status (`proposer` needs both)."""
        query = _query(
            taskId=task_id, status=status, proposer=proposer, page_size=page_size, bookmark=bookmark
        )
        return _page(self._evaluate("ListProposals", query), Proposal.from_dict, "ListProposals")

    def all_proposals(
        self, *, task_id: str | None = None, status: ProposalStatus | None = None
    ) -> Iterator[Proposal]:
        yield from _walk(
            lambda bookmark: self.list_proposals(task_id=task_id, status=status, bookmark=bookmark)
        )

    def decide(self, proposal_id: str) -> Proposal:
        """Settle a PENDING proposal as its recorded votes decide (ACCEPTED or REJECTED), or as
        EXPIRED once its voting period is over; returns the settled proposal.

        Refused with UNDECIDED while the votes decide nothing before the deadline, NOT_PENDING
        once the proposal is settled (by this call or another member's)."""
        return Proposal.from_dict(self._submit("Decide", proposal_id))

    def preview_decision(self, proposal_id: str) -> Proposal:
        """What `decide` would settle the proposal as now, simulated on the gateway's peer and
        never ordered: refused as `decide` is. A chaincode before 0.2 has no Decide: the refusal
        then has the code UNKNOWN."""
        return Proposal.from_dict(self._evaluate("Decide", proposal_id))

    def close_expired(self, proposal_id: str) -> Proposal:
        """Settle a PENDING proposal whose voting period is over: as its votes decide, else
        EXPIRED (a chaincode before 0.2 always makes it EXPIRED)."""
        return Proposal.from_dict(self._submit("CloseExpired", proposal_id))

    # Votes

    def cast_vote(
        self,
        proposal_id: str,
        *,
        decision: Decision,
        metrics: Mapping[str, float],
        holdout_rows: int,
        evaluator_version: str,
        reason: str = "",
    ) -> VoteResult:
        """Vote for the caller's organisation (the chaincode takes it from the identity).

        The vote is recorded under its own key and counted by `decide`. After the decision it is
        a late vote: recorded, deciding nothing; on the task's champion it becomes the caller's
        champion score, the base of its veto on the next proposals."""
        document = {
            "proposalId": proposal_id,
            "decision": decision,
            "metrics": dict(metrics),
            "holdoutRows": holdout_rows,
            "evaluatorVersion": evaluator_version,
            "reason": reason,
        }
        return parse(VoteResult, self._submit("CastVote", _json(document)), "CastVote result")

    def get_votes(self, proposal_id: str) -> tuple[Vote, ...]:
        return tuple(vote for vote, _ in self.recorded_votes(proposal_id))

    def recorded_votes(self, proposal_id: str) -> tuple[tuple[Vote, Any], ...]:
        """Each vote on the proposal with its JSON as the chaincode returned it.

        Raises RecordError when the reply is not a list.
        """
        reply = self._evaluate("GetVotes", proposal_id)
        if not isinstance(reply, list):
            raise RecordError(f"GetVotes returned {type(reply).__name__}, not a list")
        return tuple((Vote.from_dict(v, f"GetVotes[{i}]"), v) for i, v in enumerate(reply))

    def vote_of(self, proposal_id: str, msp_id: str) -> Vote | None:
        """The vote `msp_id` cast on the proposal, or None if it has not voted."""
        return next((v for v in self.get_votes(proposal_id) if v.voter == msp_id), None)

    # Validators

    def announce_validator(
        self, task_ids: Sequence[str], evaluator_version: str
    ) -> ValidatorAnnouncement:
        """Record that this organisation's validator serves `task_ids` (replacing its previous
        announcement; a task it already served keeps its serving-since time)."""
        document = {"taskIds": list(task_ids), "evaluatorVersion": evaluator_version}
        return parse(
            ValidatorAnnouncement,
            self._submit("AnnounceValidator", _json(document)),
            "AnnounceValidator result",
        )

    def list_validators(self, task_id: str) -> tuple[ServingValidator, ...]:
        """The validators whose last announcement names `task_id`, by organisation.

        Raises RecordError when the reply is not a list of them."""
        reply = self._evaluate("ListValidators", task_id)
        if not isinstance(reply, list):
            raise RecordError(f"ListValidators returned {type(reply).__name__}, not a list")
        return tuple(
            parse(ServingValidator, v, f"ListValidators[{i}]") for i, v in enumerate(reply)
        )

    # Champions

    def get_champion(self, task_id: str) -> Champion:
        """The task's accepted model; ChaincodeRefusalError if it has none yet."""
        return Champion.from_dict(self._evaluate("GetChampion", task_id))

    def find_champion(self, task_id: str) -> Champion | None:
        """The task's champion, or None when none of its proposals has been accepted."""
        try:
            return self.get_champion(task_id)
        except ChaincodeRefusalError as refusal:
            if refusal.code is RefusalCode.NO_CHAMPION:
                return None
            raise

    # Governance

    def propose_change(
        self,
        task_id: str,
        change_type: ChangeType,
        *,
        policy: Policy | None = None,
        member: str | None = None,
        reason: str = "",
    ) -> Change:
        document: dict[str, Any] = {"taskId": task_id, "type": change_type, "reason": reason}
        if policy is not None:
            document["policy"] = policy.to_dict()
        if member is not None:
            document["member"] = member
        return Change.from_dict(self._submit("ProposeChange", _json(document)))

    def vote_change(self, change_id: str, decision: Decision) -> Change:
        return Change.from_dict(self._submit("VoteChange", change_id, decision))

    def get_change(self, change_id: str) -> Change:
        return Change.from_dict(self._evaluate("GetChange", change_id))

    def list_changes(
        self, task_id: str, *, page_size: int | None = None, bookmark: str = ""
    ) -> Page[Change]:
        query = _query(taskId=task_id, page_size=page_size, bookmark=bookmark)
        return _page(self._evaluate("ListChanges", query), Change.from_dict, "ListChanges")

    def all_changes(self, task_id: str) -> Iterator[Change]:
        """Every change of the task, page by page, in the order of their ids."""
        yield from _walk(lambda bookmark: self.list_changes(task_id, bookmark=bookmark))

    def close_expired_change(self, change_id: str) -> Change:
        """End a PENDING change whose voting period is over: it becomes EXPIRED."""
        return Change.from_dict(self._submit("CloseExpired", change_id))

    # Audit

    def history(self, doc_type: str, record_id: str) -> tuple[HistoryEntry, ...]:
        """Every committed version of a task, proposal, champion or change, newest first.

        Raises ValueError for a record type without history.
        """
        if doc_type not in HISTORY_TYPES:
            raise ValueError(f"history is kept for {', '.join(HISTORY_TYPES)}, not {doc_type!r}")
        where = "GetHistory result"
        reply = parse(_History, self._evaluate("GetHistory", doc_type, record_id), where)
        return tuple(
            HistoryEntry(
                transaction_id=entry.transaction_id,
                timestamp=entry.timestamp,
                is_delete=entry.is_delete,
                record=None
                if entry.is_delete or entry.value is None
                else parse_record(doc_type, entry.value, f"{where}.entries[{index}].value"),
                value=None if entry.is_delete else entry.value,
            )
            for index, entry in enumerate(reply.entries)
        )

    def proposal_history(self, proposal_id: str) -> tuple[Proposal, ...]:
        """The proposal's committed versions, oldest first."""
        versions = [e.record for e in self.history("proposal", proposal_id)]
        return tuple(r for r in reversed(versions) if isinstance(r, Proposal))


def _query(*, page_size: int | None, bookmark: str, **filters: str | None) -> str:
    document: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
    if page_size is not None:
        document["pageSize"] = page_size
    if bookmark:
        document["bookmark"] = bookmark
    return _json(document) if document else ""


# The shapes of the replies that wrap records (read like the records: fedledger.registry.records).


@dataclass(frozen=True)
class _PageReply:
    records: list[Any]  # each read by the caller's record type
    bookmark: Text
    fetched: Integer


@with_config(CAMEL)
@dataclass(frozen=True)
class _Version:
    transaction_id: Annotated[Text, TX_ID]
    timestamp: Time
    is_delete: Flag
    value: Any  # present; the record, or null where it was deleted


@dataclass(frozen=True)
class _History:
    entries: list[_Version]


def _page(reply: Any, read: Any, name: str) -> Page[Any]:
    where = f"{name} result"
    page = parse(_PageReply, reply, where)
    records = (read(r, f"{where}.records[{i}]") for i, r in enumerate(page.records))
    return Page(tuple(records), page.bookmark, page.fetched)


def _walk(fetch: Any) -> Iterator[Any]:
    bookmark = ""
    while True:
        page = fetch(bookmark)
        yield from page.records
        if not page.bookmark or not page.records:
            return
        bookmark = page.bookmark


@contextmanager
def open_registry(
    profile: ConnectionProfile, msp_id: str, identity: str = "user"
) -> Iterator[Registry]:
    """A Registry acting as `identity` of organisation `msp_id`; the connection closes on exit.

    Raises ProfileError when the organisation has no such identity, MspFolderError when its
    msp folder cannot be read.
    """
    with connect(profile, msp_id, identity) as gateway:
        contract = gateway.network(profile.channel).contract(profile.chaincode)
        yield Registry(contract)
