"""The evaluation report a validator signs into its vote."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from typing import Any

from fedledger import __version__
from fedledger.evaluate.policy import Decision
from fedledger.evaluate.reasons import public_text


def evaluator_version() -> str:
    """Our version and onnxruntime's: both decide the numbers a report holds."""
    try:
        ort = importlib_metadata.version("onnxruntime")
    except importlib_metadata.PackageNotFoundError:
        ort = "unknown"
    return f"fedledger/{__version__} onnxruntime/{ort}"


@dataclass(frozen=True)
class EvaluationReport:
    model_sha256: str
    task_id: str
    decision: Decision
    reasons: tuple[str, ...]
    metric: str
    score: float | None
    metrics: dict[str, float]
    rows: int
    duration_seconds: float
    evaluator_version: str
    error_code: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Reasons go into votes on the ledger: whoever made the report, they name no local path.
        object.__setattr__(self, "reasons", tuple(public_text(r) for r in self.reasons))

    @property
    def approved(self) -> bool:
        return self.decision is Decision.APPROVE

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["decision"] = self.decision.value
        out["reasons"] = list(self.reasons)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> EvaluationReport:
        fields = dict(doc)
        fields["decision"] = Decision(fields["decision"])
        fields["reasons"] = tuple(fields["reasons"])
        return cls(**fields)
