"""Bank A's own model: plain scikit-learn, saved with skops. Nothing here knows about fedledger.

    python train.py data/bank-a/train.clean.csv model.skops

A data scientist's usual script: read the (sanitised) export, one-hot encode the categories,
fit gradient-boosted trees, report a cross-validated AUC, save the fitted pipeline with skops,
which loads it back without unpickling (`fedledger models convert` refuses pickles).
"""

from __future__ import annotations

import sys

import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

CATEGORIES = ["purpose", "country"]
NUMBERS = ["age", "income", "loan_amount", "term_months", "employment_years", "prior_defaults"]


def main(data: str, out: str) -> None:
    frame = pd.read_csv(data)
    features = frame[[*NUMBERS, "home_owner", *CATEGORIES]]
    features = features.astype({"home_owner": "int64"})
    target = frame["default"] == "yes"
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORIES)],
                    remainder="passthrough",
                ),
            ),
            ("trees", HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05)),
        ]
    )
    auc = cross_val_score(model, features, target, cv=5, scoring="roc_auc")
    print(f"cross-validated ROC AUC on {len(frame)} rows: {auc.mean():.3f} ± {auc.std():.3f}")
    model.fit(features, target)
    sio.dump(model, out)
    print(f"saved {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
