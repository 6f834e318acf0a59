"""Write three banks' loan exports: the stand-in for data that never leaves each bank.

Real loan books cannot be shared, which is the point of fedledger, so this example makes its
own: one population of applicants, split between three banks, each exporting it the way its own
systems do. Bank A writes countries as names ("Brazil"), bank B as ISO alpha-3 codes ("BRA"),
bank C as lower-case codes with stray spaces (" br "); booleans are "Y"/"N", "true"/"false" or
"1"/"0"; a few rows hold values no rule can repair. `fedledger data sanitise` turns each export
into the shape the task agrees on.

    python make_data.py [--rows 6000] [--out data]

writes data/bank-{a,b,c}/train.csv and holdout.csv, and data/new-applicants.csv (bank A's new
applications, no outcome yet).
The same arguments always give the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

COUNTRIES = {  # alpha-2 → (name as bank A writes it, alpha-3 as bank B writes it)
    "BR": ("Brazil", "BRA"),
    "US": ("United States", "USA"),
    "DE": ("Germany", "DEU"),
    "GB": ("United Kingdom", "GBR"),
    "PT": ("Portugal", "PRT"),
}
PURPOSES = ("car", "home", "education", "business")
BANKS = {
    "bank-a": {"country": lambda code: COUNTRIES[code][0], "bool": ("Y", "N")},
    "bank-b": {"country": lambda code: COUNTRIES[code][1], "bool": ("true", "false")},
    "bank-c": {"country": lambda code: f" {code.lower()} ", "bool": ("1", "0")},
}


def applicants(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Applicants in the agreed shape, with an outcome drawn from a known risk model."""
    frame = pd.DataFrame(
        {
            "age": rng.integers(19, 75, rows),
            "income": np.round(rng.lognormal(10.4, 0.5, rows), 2),
            "loan_amount": np.round(rng.lognormal(9.3, 0.7, rows), 2),
            "term_months": rng.choice([12, 36, 60], rows),
            "employment_years": np.round(rng.gamma(2.0, 3.0, rows), 1),
            "prior_defaults": rng.poisson(0.3, rows),
            "home_owner": rng.random(rows) < 0.45,
            "purpose": rng.choice(PURPOSES, rows),
            "country": rng.choice(list(COUNTRIES), rows),
        }
    )
    burden = frame["loan_amount"] / frame["income"]
    logit = (
        -2.2
        + 3.0 * burden
        + 0.9 * frame["prior_defaults"]
        + 0.012 * (frame["term_months"] - 36)
        - 0.06 * frame["employment_years"]
        - 0.5 * frame["home_owner"]
        + 0.4 * (frame["purpose"] == "business")
        + 0.3 * frame["country"].isin(["BR", "PT"])
        - 0.01 * (frame["age"] - 40)
    )
    defaulted = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame["default"] = np.where(defaulted, "yes", "no")
    return frame


def export(frame: pd.DataFrame, bank: str, rng: np.random.Generator | None) -> pd.DataFrame:
    """`frame` as `bank`'s systems write it, with two rows no rule can repair when `rng` is
    given."""
    style = BANKS[bank]
    out = frame.copy()
    out["country"] = out["country"].map(style["country"])
    yes, no = style["bool"]
    out["home_owner"] = np.where(out["home_owner"], yes, no)
    out["purpose"] = out["purpose"].str.title() if bank == "bank-a" else out["purpose"]
    if rng is None:
        return out
    broken = rng.choice(len(out), 2, replace=False)
    out = out.astype({"country": "object", "income": "object"})
    out.loc[out.index[broken[0]], "country"] = "Atlantis"
    out.loc[out.index[broken[1]], "income"] = "n/a"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6000, help="applicants in all (default 6000)")
    parser.add_argument("--out", type=Path, default=Path("data"), help="folder (default data)")
    arguments = parser.parse_args()
    rng = np.random.default_rng(2026)
    population = applicants(arguments.rows, rng)
    fresh = population.sample(frac=0.05, random_state=1)
    known = population.drop(fresh.index)
    shares = np.array_split(np.arange(len(known)), len(BANKS))
    for number, (bank, rows) in enumerate(zip(BANKS, shares, strict=True)):
        part = known.iloc[rows]
        folder = arguments.out / bank
        folder.mkdir(parents=True, exist_ok=True)
        cut = int(len(part) * 0.7)
        export(part.iloc[:cut], bank, rng).to_csv(folder / "train.csv", index=False)
        export(part.iloc[cut:], bank, rng).to_csv(folder / "holdout.csv", index=False)
        print(f"{folder}: {cut} training rows, {len(part) - cut} holdout rows (bank {number + 1})")
    new = export(fresh.drop(columns="default"), "bank-a", None).reset_index(drop=True)
    new.insert(0, "application_id", [f"app-{i:05d}" for i in range(len(new))])
    new.to_csv(arguments.out / "new-applicants.csv", index=False)
    print(f"{arguments.out / 'new-applicants.csv'}: {len(new)} applications to score")


if __name__ == "__main__":
    main()
