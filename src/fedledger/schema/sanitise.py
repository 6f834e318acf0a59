"""Fix the common, unambiguous data-entry differences before validation."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from fedledger.schema.types import Schema
from fedledger.schema.validate import parse_bools


def normalise_categories(values: pd.Series, categories: Sequence[str]) -> pd.Series:
    """Trim whitespace and map case variants onto the schema's spelling ("br" -> "BR").

    A value is only remapped when its case-folded form matches exactly one category; anything
    else is left (trimmed) for validation to report.
    """
    folded: dict[str, list[str]] = {}
    for category in categories:
        folded.setdefault(category.casefold(), []).append(category)
    mapping = {k: v[0] for k, v in folded.items() if len(v) == 1}
    allowed = set(categories)

    def fix(value: object) -> object:
        if not isinstance(value, str):
            return value
        trimmed = value.strip()
        if trimmed in allowed:
            return trimmed
        return mapping.get(trimmed.casefold(), trimmed)

    missing = values.isna()
    fixed = values.astype("object").where(missing, values.astype("object").map(fix))
    return fixed.astype("string")


def sanitise_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A copy with trimmed column names, normalised categories, numeric and boolean text parsed.

    A bool column is only converted when every value reads as a boolean; otherwise it is left
    for validation to name the rows that do not.
    """
    out = frame.copy()
    out.columns = [str(c).strip() for c in out.columns]
    for feature in schema.features:
        if feature.name not in out.columns:
            continue
        column = out[feature.name]
        if feature.type == "category":
            out[feature.name] = normalise_categories(column, feature.categories)
        elif feature.type == "bool":
            values, bad = parse_bools(column)
            if not bad.any():
                out[feature.name] = values
        elif not pd.api.types.is_numeric_dtype(column):
            out[feature.name] = _parse_numeric_text(column)
    target = schema.target
    if target.is_classification and target.name in out.columns:
        out[target.name] = normalise_categories(out[target.name], target.classes)
    return out


def _parse_numeric_text(column: pd.Series) -> pd.Series:
    """Parse "  12.5 " and empty strings; leave the column alone if any value is not a number."""
    text = column.astype("string").str.strip()
    text = text.mask(text == "")
    parsed = pd.to_numeric(text, errors="coerce")
    if (parsed.isna() & text.notna()).any():
        return column
    return parsed
