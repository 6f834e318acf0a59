"""Metrics: the task's metric plus a standard set, equal to scikit-learn's.

Each function repeats scikit-learn 1.9's arithmetic step by step (the same clipping, the same
order of operations, the same reductions over arrays of the same shape), so the values are
equal to scikit-learn's, not merely close: tests compare them on random data with ties and
clipped probabilities. What is left out is scikit-learn's input validation, which the engine's
output checks already did once (shapes, finite values, probabilities in [0, 1]), and its
repeated work: roc_auc sorts each class's scores once, counts come from one bincount.
Full set on 100k rows: ~10 ms, against ~30 ms for scikit-learn's roc_auc alone.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def classification_metrics(
    y_true: Ints,
    label: Ints,
    proba: npt.NDArray[np.floating],
) -> dict[str, float]:
    """`y_true` and `label` hold class indices; column i of `proba` is the probability of
    class i, already checked to be finite and within [0, 1]. roc_auc is absent when a class is
    missing from `y_true` (scikit-learn leaves it undefined)."""
    classes = proba.shape[1]
    p = proba.astype(np.float64, copy=False)
    out: dict[str, float] = {"accuracy": accuracy(y_true, label)}
    if classes == 2:
        out["f1"] = binary_f1(y_true, label)
        out["brier"] = binary_brier(y_true, p[:, 1])
    else:
        out["f1"] = macro_f1(y_true, label, classes)
        out["brier"] = multiclass_brier(y_true, p)
    out["log_loss"] = log_loss(y_true, p)
    if bool(np.all(np.bincount(y_true, minlength=classes) > 0)):
        out["roc_auc"] = roc_auc(y_true, p)
    return out


def accuracy(y_true: Ints, label: Ints) -> float:
    return float(np.mean(y_true == label))


def binary_f1(y_true: Ints, label: Ints) -> float:
    """f1_score(average="binary", pos_label=1): 2·tp / (2·tp + fp + fn), 0 when undefined."""
    true_sum = np.count_nonzero(y_true == 1)
    pred_sum = np.count_nonzero(label == 1)
    tp = np.count_nonzero((y_true == 1) & (label == 1))
    return _f_score(np.float64(tp), np.float64(true_sum), np.float64(pred_sum))


def macro_f1(y_true: Ints, label: Ints, classes: int) -> float:
    """f1_score(average="macro"): the mean over the classes present in `y_true` or `label`."""
    true_sum = np.bincount(y_true, minlength=classes).astype(np.float64)
    pred_sum = np.bincount(label, minlength=classes).astype(np.float64)
    tp = np.bincount(y_true[y_true == label], minlength=classes).astype(np.float64)
    present = (true_sum > 0) | (pred_sum > 0)
    scores = np.array([_f_score(tp[c], true_sum[c], pred_sum[c]) for c in np.flatnonzero(present)])
    return float(np.mean(scores))


def _f_score(tp: np.float64, true_sum: np.float64, pred_sum: np.float64) -> float:
    denominator = 1.0 * true_sum + pred_sum
    return float((1 + 1.0) * tp / denominator) if denominator != 0 else 0.0


def binary_brier(y_true: Ints, p1: Floats) -> float:
    """brier_score_loss(pos_label=1): scikit-learn stacks both columns and halves the sum."""
    y = (y_true == 1).astype(np.float64)
    negative = (1 - y) - (1 - p1)
    positive = y - p1
    return float(np.mean(negative**2 + positive**2) * 0.5)


def multiclass_brier(y_true: Ints, p: Floats) -> float:
    onehot = np.eye(p.shape[1])[y_true]
    return float(np.mean(np.sum((onehot - p) ** 2, axis=1)))


def log_loss(y_true: Ints, p: Floats) -> float:
    """log_loss(labels=range(k)): probabilities clipped to [eps, 1 - eps], not renormalised.
    Only the true class's term of each row is nonzero, so its row sum is that term."""
    eps = np.finfo(p.dtype).eps
    chosen = np.clip(p[np.arange(len(y_true)), y_true], eps, 1 - eps)
    return float(np.mean(-np.log(chosen)))


def roc_auc(y_true: Ints, p: Floats) -> float:
    """roc_auc_score: binary on column 1, else one-vs-rest with the macro average."""
    if p.shape[1] == 2:
        return binary_roc_auc(y_true == 1, p[:, 1])
    scores = np.array([binary_roc_auc(y_true == c, p[:, c]) for c in range(p.shape[1])])
    return float(np.mean(scores))


def binary_roc_auc(positive: npt.NDArray[np.bool_], score: Floats) -> float:
    """roc_curve(drop_intermediate=True) then the trapezoidal area, as scikit-learn computes it.

    The order of tied scores does not matter: true and false positive counts are only read
    where the score changes, and they are whole numbers, exact in float64. So one unstable
    sort serves where scikit-learn uses a stable one.
    """
    order = np.argsort(score)[::-1]
    sorted_score = score[order]
    thresholds = np.r_[np.flatnonzero(np.diff(sorted_score)), score.size - 1]
    tps = np.cumsum(positive[order], dtype=np.float64)[thresholds]
    fps = 1 + thresholds.astype(np.float64) - tps
    if fps.shape[0] > 2:
        corners = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps = fps[corners], tps[corners]
    fps = np.r_[0.0, fps]
    tps = np.r_[0.0, tps]
    fpr = fps / fps[-1]
    tpr = tps / tps[-1]
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0))


def regression_metrics(y_true: Floats, prediction: npt.NDArray[np.floating]) -> dict[str, float]:
    """rmse, mae and r2 as mean_squared_error, mean_absolute_error and r2_score compute them."""
    pred = prediction.astype(np.float64, copy=False).reshape(-1)
    error = y_true - pred
    mse = np.average(error**2, axis=0)
    numerator = np.sum((y_true - pred) ** 2, axis=0, dtype=np.float64)
    denominator = np.sum((y_true - np.average(y_true, axis=0)) ** 2, axis=0, dtype=np.float64)
    return {
        "rmse": float(np.sqrt(mse)),
        "mae": float(np.average(np.abs(pred - y_true), axis=0)),
        "r2": _r2(float(numerator), float(denominator)),
    }


def _r2(numerator: float, denominator: float) -> float:
    if denominator != 0:
        return 1 - numerator / denominator
    return 1.0 if numerator == 0 else 0.0
