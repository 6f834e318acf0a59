"""The task's acceptance policy as the evaluator applies it, filled from the ledger's task.

The rules a validator applies to its own score are the chaincode's (chaincode/src/policy.ts),
with the same tolerance; testdata/policy-vectors.json holds the cases both suites check and
docs/policy.md states the rules once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from fedledger.schema.types import Schema

# The metrics a task may be decided on, whether higher is better, and whether they fit a
# classification target: the chaincode's list in its order (testdata/metrics.json, checked by both
# suites). Reports carry brier too, but no task is decided on it (docs/policy.md).
TASK_METRICS: dict[str, tuple[bool, bool]] = {
    "roc_auc": (True, True),
    "accuracy": (True, True),
    "f1": (True, True),
    "log_loss": (False, True),
    "rmse": (False, False),
    "mae": (False, False),
    "r2": (True, False),
}
# The values each metric can take, (lowest, highest), None: unbounded on that side
# (testdata/metrics.json; the chaincode's METRIC_RANGES). A policy's bounds must fit them.
METRIC_RANGES: dict[str, tuple[float | None, float | None]] = {
    "roc_auc": (0, 1),
    "accuracy": (0, 1),
    "f1": (0, 1),
    "log_loss": (0, None),
    "rmse": (0, None),
    "mae": (0, None),
    "r2": (None, 1),
}
CLASSIFICATION_METRICS = tuple(m for m, (_, fits) in TASK_METRICS.items() if fits)
REGRESSION_METRICS = tuple(m for m, (_, fits) in TASK_METRICS.items() if not fits)
LOWER_IS_BETTER = frozenset(m for m, (higher, _) in TASK_METRICS.items() if not higher)
DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024
# Regressions are differences of floats: 0.80 - 0.75 is 0.05000000000000004, which must not count
# as more than a maxRegression of 0.05. The chaincode's REGRESSION_TOLERANCE, the same number.
REGRESSION_TOLERANCE = 1e-9


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Rule(StrEnum):
    """A policy rule a score can break, named as the task's policy field."""

    MIN_SCORE = "minScore"
    MAX_REGRESSION = "maxRegression"


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

    def regression(self, score: float, champion_score: float) -> float:
        """How much worse `score` is than the champion's; negative for an improvement."""
        return champion_score - score if self.higher_is_better else score - champion_score

    def broken(self, score: float, champion_score: float | None) -> list[Rule]:
        """The rules a finite `score` breaks, in the order of the policy's fields; the veto
        counts only a regression over maxRegression by more than REGRESSION_TOLERANCE."""
        rules: list[Rule] = []
        if self.min_score is not None and not self._at_least(score, self.min_score):
            rules.append(Rule.MIN_SCORE)
        if (
            champion_score is not None
            and self.max_regression is not None
            and self.regression(score, champion_score) - self.max_regression > REGRESSION_TOLERANCE
        ):
            rules.append(Rule.MAX_REGRESSION)
        return rules

    def decide(self, score: float, champion_score: float | None) -> tuple[Decision, list[str]]:
        """Apply the minimum score, then the veto on regression against the champion."""
        if not math.isfinite(score):
            return Decision.REJECT, [f"{self.metric} is {score}"]
        broken = self.broken(score, champion_score)
        reasons = [self._reason(rule, score, champion_score) for rule in broken]
        if reasons:
            return Decision.REJECT, reasons
        return Decision.APPROVE, [f"{self.metric} {score:.6g} meets the task's policy"]

    def _reason(self, rule: Rule, score: float, champion_score: float | None) -> str:
        if rule is Rule.MAX_REGRESSION and champion_score is not None:
            return (
                f"{self.metric} {score:.6g} regresses {self.regression(score, champion_score):.6g}"
                f" from the champion's {champion_score:.6g}, more than the allowed "
                f"{self.max_regression:.6g}"
            )
        word = "below" if self.higher_is_better else "above"
        return f"{self.metric} {score:.6g} is {word} the task's minimum {self.min_score:.6g}"


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
