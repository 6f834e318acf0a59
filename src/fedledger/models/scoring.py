"""Scoring rows with a model in this process: what a member does with its verified champion.

A validator runs a proposed (untrusted) model in its sandbox; a champion the members accepted,
verified by hash against the ledger, runs here with onnxruntime directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from fedledger.models.inputs import NumericDType, frame_to_feeds
from fedledger.models.metadata import CLASSIFIER_OUTPUTS
from fedledger.schema.types import Schema


@dataclass(frozen=True)
class Scores:
    """`probabilities` [N, classes] and `labels` (class indices) for a classifier,
    `predictions` [N] for a regressor."""

    labels: npt.NDArray[np.int64] | None = None
    probabilities: npt.NDArray[np.float64] | None = None
    predictions: npt.NDArray[np.float64] | None = None


class Scorer:
    """One onnxruntime session for a model that fits `schema` (checked by the caller)."""

    def __init__(self, model: bytes, schema: Schema) -> None:
        import onnxruntime as ort

        self.schema = schema
        self.session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        types = {i.type for i in self.session.get_inputs()}
        self.dtype: NumericDType = "float32" if "tensor(float)" in types else "float64"

    def score(self, frame: pd.DataFrame) -> Scores:
        """The scores of `frame` (the schema's features, typed). Raises what score_feeds
        raises."""
        return self.score_feeds(frame_to_feeds(frame, self.schema, self.dtype))

    def score_feeds(self, feeds: dict[str, npt.NDArray[np.generic]]) -> Scores:
        """The scores of model inputs built as frame_to_feeds builds them. Raises
        onnxruntime's errors for inputs of another shape."""
        if self.schema.target.is_classification:
            label, proba = self.session.run(list(CLASSIFIER_OUTPUTS), feeds)
            return Scores(
                labels=np.asarray(label).reshape(-1).astype(np.int64),
                probabilities=np.asarray(proba, dtype=np.float64),
            )
        [prediction] = self.session.run(None, feeds)
        return Scores(predictions=np.asarray(prediction, dtype=np.float64).reshape(-1))
