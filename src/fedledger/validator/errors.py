"""The validator's errors, under one root, `ValidatorError`. The servicer turns each kind of
request error into one gRPC status code; the watcher retries the ones that are our fault and
turns the model's faults into REJECT votes. `StartError` and `config.ConfigError` come before
any request: the validator does not start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedledger.evaluate.report import EvaluationReport


class ValidatorError(Exception):
    """Base class; the message is meant for the person who called."""


class InvalidRequestError(ValidatorError):
    """The request itself is malformed (no model, a SHA-256 that is not one)."""


class NotFoundError(ValidatorError):
    """No such task here, no such task on the ledger, no such object, no such report."""


class NotReadyError(ValidatorError):
    """This validator cannot evaluate the task now (its holdout does not load): fix, retry."""


class LimitExceededError(ValidatorError):
    """A limit: the model is too large, or every evaluation slot is busy."""


class UnavailableError(ValidatorError):
    """A dependency of ours (store, peer, sandbox) failed in a way worth retrying."""


class ModelRejectedError(ValidatorError):
    """The model cannot be scored at all (malformed, wrong hash, wrong signature...)."""

    def __init__(self, report: EvaluationReport) -> None:
        self.report = report
        super().__init__("; ".join(report.reasons))


class StartError(ValidatorError):
    """The validator cannot start with its configuration; names the field to change."""


class ValidatorCallError(ValidatorError):
    """A client could not get an answer from a validator: none is configured or running for the
    organisation, it did not answer, or it refused the request (the message says which, with
    the gRPC status and what to do)."""
