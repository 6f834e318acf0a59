"""Metrics with scikit-learn: the task's metric plus a standard set."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn import metrics as skm


def classification_metrics(
    y_true: npt.NDArray[np.int64],
    label: npt.NDArray[np.int64],
    proba: npt.NDArray[np.floating],
) -> dict[str, float]:
    """`y_true` holds class indices; column i of `proba` is the probability of class i."""
    classes = proba.shape[1]
    p = proba.astype(np.float64, copy=False)
    out: dict[str, float] = {"accuracy": float(skm.accuracy_score(y_true, label))}
    if classes == 2:
        out["f1"] = float(skm.f1_score(y_true, label, pos_label=1, average="binary"))
        out["brier"] = float(skm.brier_score_loss(y_true, p[:, 1], pos_label=1))
    else:
        out["f1"] = float(skm.f1_score(y_true, label, average="macro"))
        onehot = np.eye(classes)[y_true]
        out["brier"] = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    out["log_loss"] = float(skm.log_loss(y_true, p, labels=list(range(classes))))
    if len(np.unique(y_true)) == classes:
        if classes == 2:
            out["roc_auc"] = float(skm.roc_auc_score(y_true, p[:, 1]))
        else:
            out["roc_auc"] = float(skm.roc_auc_score(y_true, p, multi_class="ovr"))
    return out


def regression_metrics(
    y_true: npt.NDArray[np.float64], prediction: npt.NDArray[np.floating]
) -> dict[str, float]:
    pred = prediction.astype(np.float64, copy=False).reshape(-1)
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, pred))),
        "mae": float(skm.mean_absolute_error(y_true, pred)),
        "r2": float(skm.r2_score(y_true, pred)),
    }
