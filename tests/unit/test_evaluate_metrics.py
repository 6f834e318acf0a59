"""The engine's metrics equal scikit-learn's on random data: ties, clipping, absent classes."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import pytest
from sklearn import metrics as skm

from fedledger.evaluate.metrics import classification_metrics, regression_metrics

CASES = range(120)


def _scikit_learn(
    y: npt.NDArray[np.int64], label: npt.NDArray[np.int64], p: npt.NDArray[np.float64]
) -> dict[str, float]:
    classes = p.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division warnings on degenerate f1 cases
        ref = {
            "accuracy": skm.accuracy_score(y, label),
            "log_loss": skm.log_loss(y, p, labels=list(range(classes))),
        }
        if classes == 2:
            ref["f1"] = skm.f1_score(y, label, pos_label=1, average="binary")
            ref["brier"] = skm.brier_score_loss(y, p[:, 1], pos_label=1)
        else:
            ref["f1"] = skm.f1_score(y, label, average="macro")
            ref["brier"] = skm.brier_score_loss(y, p, labels=list(range(classes)))
        if len(np.unique(y)) == classes:
            ref["roc_auc"] = (
                skm.roc_auc_score(y, p[:, 1])
                if classes == 2
                else skm.roc_auc_score(y, p, multi_class="ovr")
            )
    return {key: float(value) for key, value in ref.items()}


def _random_case(
    seed: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(2, 3000))
    classes = int(rng.choice([2, 2, 3, 5]))
    raw = rng.random((rows, classes)) ** rng.uniform(0.2, 8)
    if seed % 3 == 0:
        raw = np.round(raw, 1)  # many tied scores
    if seed % 5 == 0:
        raw[rng.random((rows, classes)) < 0.2] = 0.0  # exact 0 and 1: log_loss clips
    sums = raw.sum(axis=1, keepdims=True)
    p = np.where(sums > 0, raw / np.where(sums > 0, sums, 1), 1 / classes)
    if seed % 4 == 0:
        p = p.astype(np.float32).astype(np.float64)  # a tree ensemble's float32 output
    y = rng.integers(0, classes, rows)
    if seed % 11 == 0:
        y[y == classes - 1] = 0  # a class absent from the holdout: roc_auc undefined
    label = p.argmax(axis=1) if seed % 2 else rng.integers(0, classes, rows)
    if seed % 7 == 0:
        label[:] = 0  # nothing predicted positive: f1 is 0 by scikit-learn's rule
    return y, label, p


@pytest.mark.parametrize("seed", CASES)
def test_classification_metrics_equal_scikit_learn(seed: int) -> None:
    y, label, p = _random_case(seed)
    ours = classification_metrics(y, label, p)
    reference = _scikit_learn(y, label, p)
    assert set(ours) == set(reference)
    for name, value in reference.items():
        # Equal, not merely within 1e-9: the same arithmetic as scikit-learn.
        assert ours[name] == value, (name, ours[name] - value)


def test_roc_auc_with_every_score_tied_and_perfect_separation() -> None:
    y = np.array([0, 1, 0, 1, 1, 0], dtype=np.int64)
    tied = np.full((6, 2), 0.5)
    assert classification_metrics(y, y, tied)["roc_auc"] == 0.5
    separated = np.stack([1 - y, y], axis=1).astype(np.float64)
    metrics = classification_metrics(y, y, separated)
    assert metrics["roc_auc"] == 1.0
    assert metrics["log_loss"] == pytest.approx(float(-np.log(1 - np.finfo(np.float64).eps)))
    assert metrics == _scikit_learn(y, y, separated)


def test_roc_auc_is_absent_when_a_class_is_missing() -> None:
    y = np.zeros(5, dtype=np.int64)
    assert "roc_auc" not in classification_metrics(y, y, np.full((5, 2), 0.5))


@pytest.mark.parametrize("seed", range(20))
def test_regression_metrics_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=int(rng.integers(2, 2000)))
    prediction = y + rng.normal(size=y.size) * rng.uniform(0, 2)
    ours = regression_metrics(y, prediction)
    assert ours == {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, prediction))),
        "mae": float(skm.mean_absolute_error(y, prediction)),
        "r2": float(skm.r2_score(y, prediction)),
    }


def test_r2_of_a_constant_target_follows_scikit_learn() -> None:
    y = np.ones(4)
    assert regression_metrics(y, y)["r2"] == skm.r2_score(y, y) == 1.0
    assert regression_metrics(y, y + 1)["r2"] == skm.r2_score(y, y + 1) == 0.0
