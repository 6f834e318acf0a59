"""A Fabric Gateway client on the official protobufs (see docs/fabric-client.md).

with connect(profile, "Org1MSP") as gateway:
    contract = gateway.network(profile.channel).contract(profile.chaincode)
    contract.submit("health:Beat", ["alice"])
"""

from fedledger.fabric.checkpoint import Checkpoint, CheckpointError, FileCheckpointer
from fedledger.fabric.client import Timeouts
from fedledger.fabric.connect import connect
from fedledger.fabric.contract import Contract, Network
from fedledger.fabric.crypto import transaction_id
from fedledger.fabric.errors import (
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    EventsError,
    FabricError,
    GatewayError,
    SubmitError,
    TransactionError,
)
from fedledger.fabric.events import Backoff, ChaincodeEvent, ChaincodeEventStream
from fedledger.fabric.gateway import Gateway, TlsConfig
from fedledger.fabric.identity import Identity, SigningIdentity
from fedledger.fabric.proposal import TransactionContext
from fedledger.fabric.transaction import Commit, Proposal, Status, Transaction

__all__ = [
    "Backoff",
    "ChaincodeEvent",
    "ChaincodeEventStream",
    "Checkpoint",
    "CheckpointError",
    "Commit",
    "CommitError",
    "CommitStatusError",
    "Contract",
    "EndorseError",
    "ErrorDetail",
    "EvaluateError",
    "EventsError",
    "FabricError",
    "FileCheckpointer",
    "Gateway",
    "GatewayError",
    "Identity",
    "Network",
    "Proposal",
    "SigningIdentity",
    "Status",
    "SubmitError",
    "Timeouts",
    "TlsConfig",
    "Transaction",
    "TransactionContext",
    "TransactionError",
    "connect",
    "transaction_id",
]
