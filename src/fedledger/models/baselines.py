"""The baseline estimators of `fedledger models train`, by name."""

from __future__ import annotations

from typing import Any

from fedledger.models.errors import ConversionError

ESTIMATORS = ("logistic", "linear", "hgb", "rf")


def baseline(name: str, *, classification: bool) -> Any:
    """A fresh scikit-learn estimator; raises ConversionError for an unknown name or one that
    does not fit the task's target."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LinearRegression, LogisticRegression

    if name not in ESTIMATORS:
        raise ConversionError(f"--estimator {name!r} is not one of {', '.join(ESTIMATORS)}")
    if name == "logistic" and not classification:
        raise ConversionError("--estimator logistic needs a classification task; use linear")
    if name == "linear" and classification:
        raise ConversionError("--estimator linear needs a regression task; use logistic")
    # Depth-limited forests: a full-depth forest outgrows a task's model size limit quickly.
    choices: dict[str, Any] = {
        "logistic": LogisticRegression(max_iter=1000),
        "linear": LinearRegression(),
        "hgb": HistGradientBoostingClassifier()
        if classification
        else HistGradientBoostingRegressor(),
        "rf": (RandomForestClassifier if classification else RandomForestRegressor)(
            n_estimators=100, max_depth=12, random_state=0
        ),
    }
    return choices[name]
