"""The task's acceptance policy as the evaluator applies it, filled from the ledger's task."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from fedledger.schema.types import Schema

CLASSIFICATION_METRICS = ("roc_auc", "accuracy", "f1", "log_loss", "brier")
REGRESSION_METRICS = ("rmse", "mae", "r2")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "rmse", "mae"})
DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class TaskPolicy:
    """`min_score` and `max_regression` are in the metric's units; None disables the rule."""

    metric: str
    higher_is_better: bool
    min_score: float | None = None
    max_regression: float | None = None
    max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES

    def __post_init__(self) -> None:
        known = CLASSIFICATION_METRICS + REGRESSION_METRICS
        if self.metric not in known:
            raise ValueError(f"policy.metric {self.metric!r} is not one of {list(known)}")
        if self.higher_is_better == (self.metric in LOWER_IS_BETTER):
            direction = "lower" if self.metric in LOWER_IS_BETTER else "higher"
            raise ValueError(
                f"policy.higher_is_better contradicts {self.metric}: {direction} is better"
            )
        if self.max_regression is not None and self.max_regression < 0:
            raise ValueError("policy.max_regression must be >= 0")
        if self.max_model_bytes <= 0:
            raise ValueError("policy.max_model_bytes must be > 0")

    def _at_least(self, score: float, bound: float) -> bool:
        return score >= bound if self.higher_is_better else score <= bound

    def decide(self, score: float, champion_score: float | None) -> tuple[Decision, list[str]]:
        """Apply the minimum score, then the veto on regression against the champion."""
        reasons: list[str] = []
        if not math.isfinite(score):
            return Decision.REJECT, [f"{self.metric} is {score}"]
        if self.min_score is not None and not self._at_least(score, self.min_score):
            word = "below" if self.higher_is_better else "above"
            reasons.append(
                f"{self.metric} {score:.6g} is {word} the task's minimum {self.min_score:.6g}"
            )
        if champion_score is not None and self.max_regression is not None:
            loss = champion_score - score if self.higher_is_better else score - champion_score
            if loss > self.max_regression:
                reasons.append(
                    f"{self.metric} {score:.6g} regresses {loss:.6g} from the champion's "
                    f"{champion_score:.6g}, more than the allowed {self.max_regression:.6g}"
                )
        if reasons:
            return Decision.REJECT, reasons
        return Decision.APPROVE, [f"{self.metric} {score:.6g} meets the task's policy"]


@dataclass(frozen=True)
class Task:
    """What the evaluator needs of a ledger task: its id, schema and policy."""

    task_id: str
    schema: Schema
    policy: TaskPolicy

    def __post_init__(self) -> None:
        allowed = (
            CLASSIFICATION_METRICS if self.schema.target.is_classification else REGRESSION_METRICS
        )
        if self.policy.metric not in allowed:
            raise ValueError(
                f"task {self.task_id}: metric {self.policy.metric!r} does not fit its target; "
                f"use one of {list(allowed)}"
            )
