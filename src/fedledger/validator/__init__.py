"""The validator: each member organisation's voice in the consensus.

A gRPC service (validator.proto: Evaluate, GetReport, Status; health; reflection; mutual TLS)
and a watcher that turns the ledger's ProposalSubmitted events into exactly one vote each.
"""

from fedledger.validator.config import ConfigError, ValidatorConfig
from fedledger.validator.errors import (
    InvalidRequestError,
    LimitExceededError,
    ModelRejectedError,
    NotFoundError,
    NotReadyError,
    UnavailableError,
    ValidatorError,
)
from fedledger.validator.profile_config import config_document, write_config
from fedledger.validator.service import ValidatorService, read_endpoint

__all__ = [
    "ConfigError",
    "InvalidRequestError",
    "LimitExceededError",
    "ModelRejectedError",
    "NotFoundError",
    "NotReadyError",
    "UnavailableError",
    "ValidatorConfig",
    "ValidatorError",
    "ValidatorService",
    "config_document",
    "read_endpoint",
    "write_config",
]
