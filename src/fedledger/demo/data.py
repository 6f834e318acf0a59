"""The demo's data: one synthetic credit-risk population, split between the organisations.

Each organisation keeps a private training set and a private holdout; nothing crosses between
them except models. The rows come from `fedledger.models.synthetic`, so the demo needs no
download and gives the same data on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.schema.types import Schema

FEATURES = 10
SEED = 2026


@dataclass(frozen=True)
class OrgData:
    msp_id: str
    train: pd.DataFrame
    holdout_path: Path
    holdout_rows: int


def demo_schema() -> Schema:
    return synthetic_schema(FEATURES)


def split_between(msp_ids: list[str], rows: int, folder: Path) -> dict[str, OrgData]:
    """Equal, disjoint shares; 70 % of each for training, 30 % as the organisation's holdout."""
    schema = demo_schema()
    frame = synthetic_frame(schema, rows, seed=SEED)
    order = np.random.default_rng(SEED).permutation(len(frame))
    shares = np.array_split(order, len(msp_ids))
    result = {}
    for msp_id, share in zip(msp_ids, shares, strict=True):
        part = frame.iloc[share].reset_index(drop=True)
        cut = int(len(part) * 0.7)
        org_folder = folder / msp_id
        org_folder.mkdir(parents=True, exist_ok=True)
        holdout_path = org_folder / "holdout.parquet"
        part.iloc[cut:].to_parquet(holdout_path, index=False)
        result[msp_id] = OrgData(msp_id, part.iloc[:cut], holdout_path, len(part) - cut)
    return result


def poisoned(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Training rows with the labels shuffled: what a careless or hostile proposer trains on."""
    shuffled = frame.copy()
    target = schema.target.name
    shuffled[target] = np.random.default_rng(7).permutation(shuffled[target].to_numpy())
    return shuffled
