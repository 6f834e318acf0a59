"""Check a local CSV or Parquet file against the task schema, reporting every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from fedledger.schema.types import Feature, Schema

ProblemKind = Literal[
    "missing_column",
    "wrong_type",
    "null_not_allowed",
    "non_finite",
    "unknown_category",
    "unknown_class",
    "row_count",
    "unreadable",
]
_EXAMPLES = 5
_CSV_NA = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    column: str | None
    message: str
    count: int = 0
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ValidationReport:
    rows: int
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> set[ProblemKind]:
        return {p.kind for p in self.problems}

    def raise_for_problems(self, source: str = "data") -> None:
        if self.problems:
            raise SchemaValidationError(source, self)


class SchemaValidationError(ValueError):
    """A data file does not conform to the task schema; `report` lists every problem."""

    def __init__(self, source: str, report: ValidationReport) -> None:
        self.source = source
        self.report = report
        lines = "; ".join(p.message for p in report.problems)
        super().__init__(f"{source} does not match the task schema: {lines}")


def read_table(path: str | Path, schema: Schema) -> pd.DataFrame:
    """Read CSV (category columns kept as text) or Parquet, by file extension."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return pd.read_parquet(p)
    if suffix in {".csv", ".txt"} or p.name.endswith(".csv.gz"):
        text_columns = [f.name for f in schema.features if f.type == "category"]
        if schema.target.is_classification:
            text_columns.append(schema.target.name)
        # Category values such as "NA" or "01" must stay text; numeric columns get the usual NAs.
        header = pd.read_csv(p, nrows=0).columns
        na_values = {c: ([""] if c in text_columns else _CSV_NA) for c in header}
        dtypes = {c: "string" for c in text_columns if c in header}
        return pd.read_csv(p, dtype=dtypes, na_values=na_values, keep_default_na=False)
    raise ValueError(f"{p}: unsupported file type {suffix!r}; use .csv or .parquet")


def validate_file(
    path: str | Path, schema: Schema, *, require_target: bool = True, min_rows: int = 1
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate a file; unreadable files give a report with one `unreadable` problem."""
    try:
        frame = read_table(path, schema)
    except (OSError, ValueError) as exc:
        problem = Problem("unreadable", None, f"{path}: cannot be read: {exc}")
        return pd.DataFrame(), ValidationReport(rows=0, problems=(problem,))
    return frame, validate_frame(frame, schema, require_target=require_target, min_rows=min_rows)


def validate_frame(
    frame: pd.DataFrame, schema: Schema, *, require_target: bool = True, min_rows: int = 1
) -> ValidationReport:
    problems: list[Problem] = []
    if len(frame) < min_rows:
        problems.append(
            Problem("row_count", None, f"has {len(frame)} rows; at least {min_rows} required")
        )
    for feature in schema.features:
        if feature.name not in frame.columns:
            problems.append(
                Problem("missing_column", feature.name, f"missing column {feature.name!r}")
            )
            continue
        problems.extend(_check_feature(frame[feature.name], feature))
    target = schema.target
    if require_target:
        if target.name not in frame.columns:
            problems.append(
                Problem("missing_column", target.name, f"missing target column {target.name!r}")
            )
        elif target.is_classification:
            as_feature = Feature(target.name, "category", categories=target.classes)
            problems.extend(_check_feature(frame[target.name], as_feature, what="class"))
        else:
            problems.extend(_check_feature(frame[target.name], Feature(target.name, "float")))
    return ValidationReport(rows=len(frame), problems=tuple(problems))


def _examples(values: pd.Series) -> tuple[str, ...]:
    return tuple(str(v) for v in pd.unique(values)[:_EXAMPLES])


def _check_feature(column: pd.Series, feature: Feature, what: str = "category") -> list[Problem]:
    name = feature.name
    problems: list[Problem] = []
    missing = column.isna()
    if missing.any() and not feature.nullable:
        n = int(missing.sum())
        problems.append(
            Problem("null_not_allowed", name, f"column {name!r} has {n} missing value(s)", n)
        )
    present = column[~missing]
    if feature.type == "category":
        text = present.astype("string")
        unknown = text[~text.isin(feature.categories)]
        if len(unknown):
            kind: ProblemKind = "unknown_class" if what == "class" else "unknown_category"
            examples = _examples(unknown)
            problems.append(
                Problem(
                    kind,
                    name,
                    f"column {name!r} has {len(unknown)} value(s) outside the {what} list, "
                    f"e.g. {list(examples)}",
                    len(unknown),
                    examples,
                )
            )
        return problems
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        parsed = pd.to_numeric(present, errors="coerce")
        bad = present[parsed.isna()]
        examples = _examples(bad) if len(bad) else _examples(present)
        problems.append(
            Problem(
                "wrong_type",
                name,
                f"column {name!r} should be {feature.type} but has type {column.dtype} "
                f"(e.g. {list(examples)})",
                len(bad),
                examples,
            )
        )
        return problems
    values = present.to_numpy(dtype=np.float64)
    infinite = ~np.isfinite(values)
    if infinite.any():
        n = int(infinite.sum())
        problems.append(
            Problem("non_finite", name, f"column {name!r} has {n} infinite value(s)", n)
        )
    if feature.type == "int":
        fractional = np.isfinite(values) & (values != np.round(values))
        if fractional.any():
            n = int(fractional.sum())
            examples = tuple(str(v) for v in values[fractional][:_EXAMPLES])
            problems.append(
                Problem(
                    "wrong_type",
                    name,
                    f"column {name!r} should be int but has {n} fractional value(s), "
                    f"e.g. {list(examples)}",
                    n,
                    examples,
                )
            )
    return problems
