"""Asking a running validator how a model would do on its holdout (its Evaluate call), as a
client of the organisation: find the validator, send the model's bytes, read the report.

Nothing is voted: Evaluate scores the model under the task's policy as the ledger records it and
says what the validator's vote would be. Cheap to import (grpc and the generated messages only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from fedledger.validator.api import validator_pb2
from fedledger.validator.client import channel_for, stub
from fedledger.validator.config import ConfigError, ValidatorConfig
from fedledger.validator.endpoint import read_endpoint
from fedledger.validator.errors import ValidatorCallError

CONFIG_NAME = "validator.yaml"
START_HINT = (
    "start it with `fedledger network up --validators FILE`, or "
    "`fedledger validator serve --config FILE` for a validator of your own"
)


@dataclass(frozen=True)
class RemoteReport:
    """A validator's report on a model, as its Evaluate call returned it."""

    organization: str
    address: str
    task_id: str
    model_sha256: str
    decision: str
    reasons: tuple[str, ...]
    metric: str
    score: float | None
    champion_score: float | None
    holdout_rows: int
    duration_seconds: float
    evaluator_version: str
    error_code: str
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "address": self.address,
            "taskId": self.task_id,
            "modelSha256": self.model_sha256,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "metric": self.metric,
            "score": self.score,
            "championScore": self.champion_score,
            "metrics": dict(sorted(self.metrics.items())),
            "holdoutRows": self.holdout_rows,
            "durationSeconds": self.duration_seconds,
            "evaluatorVersion": self.evaluator_version,
            "errorCode": self.error_code,
        }


def config_of(run_dir: Path, organization: str) -> Path:
    """Where `fedledger network up` writes the validator configuration of `organization`."""
    return run_dir / "validators" / organization / CONFIG_NAME


def load_config(path: Path, organization: str | None) -> ValidatorConfig:
    """The validator configuration at `path`; ValidatorCallError when there is none, it does not
    load, or it is another organisation's than `organization` (when given)."""
    if not path.is_file():
        who = f" of {organization}" if organization else ""
        raise ValidatorCallError(
            f"no validator configuration{who} at {path}: no validator of this organisation "
            f"was started with this run folder; {START_HINT}"
        )
    try:
        config = ValidatorConfig.load(path)
    except ConfigError as error:
        raise ValidatorCallError(f"{path}: {error}") from error
    if organization is not None and config.organization != organization:
        raise ValidatorCallError(
            f"{path} configures the validator of {config.organization}, not {organization}"
        )
    return config


def evaluate_remote(
    config: ValidatorConfig,
    task_id: str,
    model: bytes,
    *,
    address: str | None = None,
    timeout: float = 300.0,
) -> RemoteReport:
    """Ask the validator `config` describes to evaluate `model` for `task_id`.

    Raises ValidatorCallError when the validator is not running (no address recorded), does
    not answer within `timeout` seconds, or refuses the request (the task is not one it serves,
    the model is over its inline limit, the task is not on the ledger); the message carries the
    gRPC status and the validator's own words.
    """
    who = f"the validator of {config.organization}"
    try:
        target = address or str(read_endpoint(config.state_dir)["address"])
    except FileNotFoundError as error:
        raise ValidatorCallError(f"{who} is not running: {error}") from None
    try:
        with channel_for(config, target) as channel:
            request = validator_pb2.EvaluateRequest(task_id=task_id, inline=model)
            reply = stub(channel).Evaluate(request, timeout=timeout)
    except grpc.RpcError as error:
        raise ValidatorCallError(_rpc_failure(who, target, error)) from None
    except OSError as error:
        raise ValidatorCallError(
            f"cannot read the TLS certificates to call {who}: {error}"
        ) from error
    return _report(config.organization, target, reply.report)


def _rpc_failure(who: str, address: str, error: grpc.RpcError) -> str:
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return (
            f"{who} at {address} did not answer ({code.name}: {details}); is it running? "
            f"`fedledger network status` lists the validators; {START_HINT}"
        )
    return f"{who} at {address} refused the evaluation ({code.name}): {details}"


def _report(organization: str, address: str, report: Any) -> RemoteReport:
    return RemoteReport(
        organization=organization,
        address=address,
        task_id=report.task_id,
        model_sha256=report.model_sha256,
        decision=report.decision,
        reasons=tuple(report.reasons),
        metric=report.metric,
        score=report.score if report.HasField("score") else None,
        champion_score=report.champion_score if report.HasField("champion_score") else None,
        holdout_rows=report.holdout_rows,
        duration_seconds=report.duration_seconds,
        evaluator_version=report.evaluator_version,
        error_code=report.error_code,
        metrics=dict(report.metrics),
    )
