"""The chaincode's model registry as typed Python: records, calls and events.

    with open_registry(profile, "Org1MSP") as registry:
        task = registry.create_task("churn", schema=..., metric="roc_auc", members=[...],
                                    policy=Policy(...))
        proposal = registry.submit_proposal("churn", model_sha256=..., uri=..., size_bytes=...)

Or `Registry(contract)` over a `fedledger.fabric.Contract` the caller already holds.
"""

from fedledger.registry.client import (
    ContractLike,
    Page,
    Registry,
    open_registry,
    proposal_id_for,
)
from fedledger.registry.errors import ChaincodeRefusalError, RecordError, RegistryError
from fedledger.registry.events import (
    EVENT_NAMES,
    ChampionScored,
    EventCounts,
    Origin,
    ProposalDecided,
    ProposalSubmitted,
    RegistryEvent,
    TaskCreated,
    VoteCast,
    parse_event,
)
from fedledger.registry.records import (
    DECISIONS,
    HISTORY_TYPES,
    PROPOSAL_STATUSES,
    Champion,
    Change,
    ChangeStatus,
    ChangeType,
    Decision,
    HistoryEntry,
    Policy,
    Proposal,
    ProposalStatus,
    ServingValidator,
    Tally,
    Task,
    ValidatorAnnouncement,
    Vote,
    VoteResult,
    VoteSummary,
)
from fedledger.registry.refusals import RefusalCode, parse_refusal

__all__ = [
    "DECISIONS",
    "EVENT_NAMES",
    "HISTORY_TYPES",
    "PROPOSAL_STATUSES",
    "ChaincodeRefusalError",
    "Champion",
    "ChampionScored",
    "Change",
    "ChangeStatus",
    "ChangeType",
    "ContractLike",
    "Decision",
    "EventCounts",
    "HistoryEntry",
    "Origin",
    "Page",
    "Policy",
    "Proposal",
    "ProposalDecided",
    "ProposalStatus",
    "ProposalSubmitted",
    "RecordError",
    "RefusalCode",
    "Registry",
    "RegistryError",
    "RegistryEvent",
    "ServingValidator",
    "Tally",
    "Task",
    "TaskCreated",
    "ValidatorAnnouncement",
    "Vote",
    "VoteCast",
    "VoteResult",
    "VoteSummary",
    "open_registry",
    "parse_event",
    "parse_refusal",
    "proposal_id_for",
]
