"""A data file read as the members agreed it: each schema field normalised cell by cell.

`conform_file` is the one reading of a data file against a task's schema: `fedledger data
check` lists what it finds, `data sanitise` writes its normalised text, and a validator scores
models on its typed frame (evaluate/holdout.py), so a file in the agreed shape reads the same
everywhere. The rules for one cell are in `values.py`; docs/data.md is the reference.

Rows are numbered as a user counts them: in a CSV file the header is row 1 and the first data
row is row 2 (a spreadsheet's numbering); a Parquet file has no header row, its first row is 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from fedledger.schema import values
from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.types import Feature, Schema

Rule = Callable[[object], values.Outcome]
MISSING_FEATURE = "missing, and the feature is not nullable: fill it in or declare nullable: true"
MISSING_TARGET = "missing target: every row needs one"

# The target column: required (training rows, holdouts), checked only if the file has it (`data
# check` and `sanitise`: a file without it is rows to score), or ignored (scoring).
TargetRule = Literal["required", "if present", "ignored"]


class DataFileError(TaskSchemaError):
    """A data file cannot be read at all (no such file, not CSV or Parquet, malformed)."""


@dataclass(frozen=True)
class Finding:
    """One cell not in the agreed shape: `fixed` is what `data sanitise` writes, or None when
    it is refused and `rule` says why."""

    row: int | None  # None: the whole column (it is missing)
    field: str
    value: str
    rule: str
    fixed: str | None = None

    def __str__(self) -> str:
        if self.row is None:
            return f"column {self.field}: {self.rule}"
        where = f"row {self.row}, {self.field} {self.value!r}"
        if self.fixed is None:
            return f"{where}: {self.rule}"
        return f"{where} -> {self.fixed!r} ({self.rule})"


@dataclass
class Column:
    """One schema field's cells, normalised: text as written out, typed values, findings."""

    name: str
    kind: str  # "text", "number" or "bool": the dtype of the typed frame
    text: pd.Series
    typed: pd.Series
    raw: pd.Series
    refusals: pd.Series  # per row, the rule it breaks, or None
    changes: list[tuple[str, ...]]  # per row


@dataclass
class Conformed:
    """A data file read against a schema. `frame` holds every column of the file as text, the
    schema's fields normalised; `refused_rows` marks rows with a field that cannot be."""

    source: str
    frame: pd.DataFrame
    columns: list[Column]
    missing_columns: list[str]
    first_row: int
    header_changes: int = 0

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def refused_rows(self) -> npt.NDArray[np.bool_]:
        mask = np.zeros(self.rows, dtype=bool)
        for column in self.columns:
            mask |= column.refusals.notna().to_numpy()
        return mask

    @property
    def refused(self) -> int:
        """Cells (and missing columns) that cannot be normalised."""
        return len(self.missing_columns) + sum(int(c.refusals.notna().sum()) for c in self.columns)

    @property
    def fixable(self) -> int:
        """Cells not in the agreed shape that `data sanitise` normalises."""
        return sum(sum(1 for c in column.changes if c) for column in self.columns)

    def change_counts(
        self, rows: npt.NDArray[np.bool_] | None = None
    ) -> dict[tuple[str, str], int]:
        """(field, rule) → how many cells the rule changed, in `rows` (default: all)."""
        counts: Counter[tuple[str, str]] = Counter()
        for column in self.columns:
            for index, changes in enumerate(column.changes):
                if changes and (rows is None or rows[index]):
                    counts.update((column.name, rule) for rule in changes)
        if self.header_changes:
            counts[("(header)", values.TRIMMED)] = self.header_changes
        return counts

    def findings(self, *, fixable: bool = True) -> Iterator[Finding]:
        """Missing columns, then every refused (and, if `fixable`, normalised) cell by row."""
        for name in self.missing_columns:
            yield Finding(None, name, "", "missing column: the schema has this field")
        marked = [self._marked(column, fixable=fixable) for column in self.columns]
        rows = np.flatnonzero(np.logical_or.reduce(marked)) if marked else np.array([], int)
        for index in rows:
            for column, mask in zip(self.columns, marked, strict=True):
                if mask[index]:
                    yield self._finding(column, int(index))

    def describe_refusals(self, limit: int = 5) -> str:
        """`N value(s) cannot be used: <the first few findings>`, for one-line errors."""
        shown = [str(f) for f, _ in zip(self.findings(fixable=False), range(limit), strict=False)]
        more = "; ..." if self.refused > limit else ""
        return f"{self.refused} value(s) cannot be used: {'; '.join(shown)}{more}"

    def _marked(self, column: Column, *, fixable: bool) -> npt.NDArray[np.bool_]:
        mask: npt.NDArray[np.bool_] = column.refusals.notna().to_numpy()
        if fixable:
            mask = mask | np.array([bool(c) for c in column.changes], dtype=bool)
        return mask

    def _finding(self, column: Column, index: int) -> Finding:
        raw = column.raw.iloc[index]
        value = "" if values.is_missing(raw, frozenset()) else str(raw)
        row = index + self.first_row
        refusal = column.refusals.iloc[index]
        if refusal is not None:
            return Finding(row, column.name, value, str(refusal))
        fixed = column.text.iloc[index]
        rules = ", ".join(column.changes[index])
        return Finding(row, column.name, value, rules, "" if fixed is None else str(fixed))

    def typed_frame(self) -> pd.DataFrame:
        """The schema's fields as a model reads them: text as strings, numbers as floats,
        booleans as pandas booleans; missing values as NA."""
        data = {}
        for column in self.columns:
            dtype = {"text": "string", "number": "Float64", "bool": "boolean"}[column.kind]
            data[column.name] = column.typed.astype(dtype)
        frame = pd.DataFrame(data, index=self.frame.index)
        for name in frame.columns:
            if frame[name].dtype == "Float64":
                frame[name] = frame[name].astype("float64")
        return frame


def conform_file(path: str | Path, schema: Schema, *, target: TargetRule = "required") -> Conformed:
    """Read `path` (CSV, or Parquet) against `schema`. Raises DataFileError when it cannot be
    read; everything about its content is in the result."""
    p = Path(path)
    frame, first_row = read_cells(p)
    return conform_frame(frame, schema, source=str(p), first_row=first_row, target=target)


def read_cells(path: Path) -> tuple[pd.DataFrame, int]:
    """Every cell as written (CSV: text, nothing parsed; Parquet: as typed) and the number of
    the first data row. Raises DataFileError."""
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path).astype(object), 1
        if name.endswith((".csv", ".txt", ".csv.gz")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
            return frame, 2
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:
        raise DataFileError(f"{path}: cannot be read as a data file: {error}") from error
    raise DataFileError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")


def conform_frame(
    frame: pd.DataFrame,
    schema: Schema,
    *,
    source: str = "data",
    first_row: int = 2,
    target: TargetRule = "required",
) -> Conformed:
    """`frame`'s cells (text or typed) normalised field by field against `schema`; the target
    column as `target` says."""
    stripped = [str(c).strip() for c in frame.columns]
    header_changes = sum(1 for old, new in zip(frame.columns, stripped, strict=True) if old != new)
    frame = frame.set_axis(stripped, axis=1).reset_index(drop=True)
    fields = [(f, _feature_rule(f), MISSING_FEATURE) for f in schema.features]
    if target == "required" or (target == "if present" and schema.target.name in stripped):
        fields.append(_target_field(schema))
    columns: list[Column] = []
    missing: list[str] = []
    out = frame.copy()
    for feature, rule, missing_rule in fields:
        if feature.name not in frame.columns:
            missing.append(feature.name)
            continue
        column = conform_column(frame[feature.name], feature, rule, missing_rule)
        columns.append(column)
        out[feature.name] = column.text
    return Conformed(source, out, columns, missing, first_row, header_changes)


def _feature_rule(feature: Feature) -> Rule:
    if feature.type == "category":
        categories = feature.categories
        if feature.is_country:
            return lambda cell: values.country(cell, categories)
        return lambda cell: values.label(cell, categories)
    if feature.type == "bool":
        return values.boolean
    integer = feature.type == "int"
    return lambda cell: values.number(cell, integer=integer)


def _target_field(schema: Schema) -> tuple[Feature, Rule, str]:
    target = schema.target
    if target.is_classification:
        classes = target.classes
        as_feature = Feature(target.name, "category", categories=classes)
        return as_feature, lambda cell: values.label(cell, classes, "classes"), MISSING_TARGET
    return Feature(target.name, "float"), values.number, MISSING_TARGET


def conform_column(raw: pd.Series, feature: Feature, rule: Rule, missing_rule: str) -> Column:
    """Each distinct cell is judged once, then spread back over the rows."""
    tokens = frozenset({""}) if feature.type == "category" else values.MISSING_TOKENS
    codes, uniques = pd.factorize(raw.astype(object), use_na_sentinel=True)
    outcomes = [_judge(cell, rule, tokens, feature.nullable, missing_rule) for cell in uniques]
    outcomes.append(_judge(None, rule, tokens, feature.nullable, missing_rule))
    picked = [outcomes[code] for code in codes]
    index = raw.index
    kind = {"category": "text", "bool": "bool"}.get(feature.type, "number")
    return Column(
        name=feature.name,
        kind=kind,
        text=pd.Series([o.text for o in picked], index=index, dtype=object),
        typed=pd.Series([o.value for o in picked], index=index, dtype=object),
        raw=raw,
        refusals=pd.Series([o.refusal for o in picked], index=index, dtype=object),
        changes=[o.changes for o in picked],
    )


def _judge(
    cell: object, rule: Rule, tokens: frozenset[str], nullable: bool, missing_rule: str
) -> values.Outcome:
    if not values.is_missing(cell, tokens):
        return rule(cell)
    if not nullable:
        return values.refused(missing_rule)
    if isinstance(cell, str) and cell != cell.strip():
        return values.Outcome(cell.strip(), None, (values.TRIMMED,))
    return values.Outcome(cell if isinstance(cell, str) else "", None)
