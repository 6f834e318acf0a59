"""The model in service: a champion fetched from the store, verified against the hash the
ledger recorded, checked as a validator checks a proposal, and loaded into onnxruntime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from fedledger.evaluate.policy import Task
from fedledger.models.scoring import Scorer
from fedledger.registry.records import Champion
from fedledger.store.base import ModelStore

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ServedModel:
    """One champion, loaded. Immutable: a swap replaces the whole object, so a request that
    took a reference keeps scoring with the model it started with."""

    task_id: str
    proposal_id: str
    sha256: str
    accepted_at: datetime
    metric: str
    scores: dict[str, float]  # each member's score of the model on its holdout, by MSP ID
    loaded_at: datetime
    load_seconds: float
    scorer: Scorer = field(repr=False)

    def describe(self) -> dict[str, Any]:
        """What `GET /model` answers."""
        return {
            "task": self.task_id,
            "proposal_id": self.proposal_id,
            "sha256": self.sha256,
            "accepted_at": self.accepted_at.isoformat(),
            "metric": self.metric,
            "scores": dict(self.scores),
            "loaded_at": self.loaded_at.isoformat(),
            "load_seconds": round(self.load_seconds, 6),
        }

    def score(self, feeds: dict[str, npt.NDArray[np.generic]]) -> dict[str, Any]:
        """The scores of `feeds` (the model inputs of the task's features, serving/rows.py
        read_feeds) as the response carries them: a classifier's class names and one list of
        probabilities per row, in the order of the task's classes; a regressor's values.
        Raises onnxruntime's errors for inputs of another shape."""
        scores = self.scorer.score_feeds(feeds)
        schema = self.scorer.schema
        if scores.labels is None or scores.probabilities is None:
            values = scores.predictions
            return {"predictions": [] if values is None else values.tolist()}
        classes = list(schema.target.classes)
        return {
            "classes": classes,
            "predictions": [classes[i] for i in scores.labels.tolist()],
            "probabilities": scores.probabilities.tolist(),
        }


def load_model(
    champion: Champion, task: Task, store: ModelStore, clock: Clock, timer: Callable[[], float]
) -> ServedModel:
    """The champion's bytes from `store`, verified against its ledger hash, checked against
    the task (the validators' static checks), in an onnxruntime session.

    Raises StoreError when the bytes cannot be read or do not hash to the ledger's SHA-256,
    ModelError when the model does not fit the task.
    """
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model

    started = timer()
    model_bytes = store.get(champion.uri, champion.model_sha256)
    check_model(model_bytes, task, SandboxLimits())
    scorer = Scorer(model_bytes, task.schema)
    return ServedModel(
        task_id=champion.task_id,
        proposal_id=champion.proposal_id,
        sha256=champion.model_sha256,
        accepted_at=champion.since,
        metric=task.policy.metric,
        scores=dict(champion.scores),
        loaded_at=clock(),
        load_seconds=timer() - started,
        scorer=scorer,
    )
