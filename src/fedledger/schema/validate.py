"""Check a local CSV or Parquet file against the task schema, reporting every problem found.

Every message names the column and the schema field it answers to (`schema.features[3]`) and,
where one exists, the fix. Bool features accept booleans (Parquet), the text true/false/1/0 in
any case with surrounding spaces (CSV), and the numbers 0 and 1; `parse_bools` is the one reading
of them, shared with the model inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.types import BOOL_FALSE, BOOL_TRUE, Feature, Schema

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
    rows: tuple[int, ...] = ()  # 1-based data rows (the header is not a row), when named

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
        """Raises SchemaValidationError listing every problem, if there is one."""
        if self.problems:
            raise SchemaValidationError(source, self)


class SchemaValidationError(TaskSchemaError):
    """A data file does not conform to the task schema; `report` lists every problem."""

    def __init__(self, source: str, report: ValidationReport) -> None:
        self.source = source
        self.report = report
        lines = "; ".join(p.message for p in report.problems)
        super().__init__(f"{source} does not match the task schema: {lines}")


def parse_bools(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column as pandas booleans (NA where missing), and a mask of values that are not.

    Booleans are taken as they are; text is true/false/1/0 in any case, surrounding spaces
    ignored (empty text is missing); numbers must be 0 or 1.
    """
    missing = column.isna()
    if pd.api.types.is_bool_dtype(column):
        return column.astype("boolean"), pd.Series(False, index=column.index)
    if pd.api.types.is_numeric_dtype(column):
        bad = ~missing & ~column.isin([0, 1])
        values = column.where(~bad & ~missing).astype("Float64").astype("boolean")
        return values, bad
    text = column.map(_bool_text, na_action="ignore").astype("string").str.strip().str.casefold()
    true = text.isin(BOOL_TRUE).fillna(False).astype(bool)
    false = text.isin(BOOL_FALSE).fillna(False).astype(bool)
    empty = (text == "").fillna(False).astype(bool)
    bad = ~missing & ~true & ~false & ~empty
    values = pd.Series(pd.NA, index=column.index, dtype="boolean")
    values[true] = True
    values[false] = False
    return values, bad


def _bool_text(value: object) -> object:
    """Booleans and 0/1 in an object column as the text they stand for; other values as text."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return str(int(value))
    return str(value) if not isinstance(value, str) else value


def validate_frame(
    frame: pd.DataFrame, schema: Schema, *, require_target: bool = True, min_rows: int = 1
) -> ValidationReport:
    problems: list[Problem] = []
    if len(frame) < min_rows:
        problems.append(
            Problem("row_count", None, f"has {len(frame)} rows; at least {min_rows} required")
        )
    for index, feature in enumerate(schema.features):
        where = f"schema.features[{index}]"
        if feature.name not in frame.columns:
            problems.append(
                Problem(
                    "missing_column",
                    feature.name,
                    f"missing column {feature.name!r} ({where}.name){_columns_hint(frame)}",
                )
            )
            continue
        problems.extend(_check_feature(frame[feature.name], feature, where))
    target = schema.target
    if require_target:
        if target.name not in frame.columns:
            problems.append(
                Problem(
                    "missing_column",
                    target.name,
                    f"missing target column {target.name!r} (schema.target.name)"
                    f"{_columns_hint(frame)}",
                )
            )
        elif target.is_classification:
            as_feature = Feature(target.name, "category", categories=target.classes)
            problems.extend(
                _check_feature(frame[target.name], as_feature, "schema.target", what="class")
            )
        else:
            as_float = Feature(target.name, "float")
            problems.extend(_check_feature(frame[target.name], as_float, "schema.target"))
    return ValidationReport(rows=len(frame), problems=tuple(problems))


def _columns_hint(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    if not names:
        return "; the data has no columns"
    shown = names[:20] + (["..."] if len(names) > 20 else [])
    return f"; the data has columns {shown}"


def _rows(mask: pd.Series) -> tuple[int, ...]:
    """1-based positions of the True entries (the first data row is row 1)."""
    return tuple(int(i) + 1 for i in np.flatnonzero(mask.to_numpy(dtype=bool)))


def _holds_booleans(column: pd.Series, present: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return True
    return (
        column.dtype == object
        and len(present) > 0
        and all(isinstance(v, bool | np.bool_) for v in present)
    )


def _examples(values: pd.Series) -> tuple[str, ...]:
    return tuple(str(v) for v in pd.unique(values)[:_EXAMPLES])


def _check_feature(
    column: pd.Series, feature: Feature, where: str, what: str = "category"
) -> list[Problem]:
    """Problems of one column; `where` is the schema field it answers to."""
    missing = column.isna()
    problems = _check_missing(column, missing, feature, where)
    present = column[~missing]
    if feature.type == "category":
        return problems + _check_labels(column, present, feature, where, what)
    if feature.type == "bool":
        return problems + _check_bools(column, feature, where)
    if _holds_booleans(column, present) or _booleans_as_text(column, present):
        return [*problems, _booleans_declared_numeric(present, feature, where)]
    if not pd.api.types.is_numeric_dtype(column):
        return [*problems, _text_in_numbers(column, present, feature, where)]
    return problems + _check_numbers(present, feature, where)


def _check_missing(
    column: pd.Series, missing: pd.Series, feature: Feature, where: str
) -> list[Problem]:
    if not missing.any() or feature.nullable:
        return []
    n = int(missing.sum())
    fix = (
        "the target must be present in every row"
        if where == "schema.target"
        else f"{where}.nullable is false: fill them in or declare the feature nullable: true"
    )
    rows = _rows(missing)
    message = f"column {feature.name!r} has {n} missing value(s) (rows {_listed(rows)}); {fix}"
    return [Problem("null_not_allowed", feature.name, message, n, rows=rows[:_EXAMPLES])]


def _check_bools(column: pd.Series, feature: Feature, where: str) -> list[Problem]:
    _, bad = parse_bools(column)
    if not bad.any():
        return []
    rows = _rows(bad)
    shown = ", ".join(f"row {row}: {_cell(column.iloc[row - 1])}" for row in rows[:_EXAMPLES]) + (
        ", ..." if len(rows) > _EXAMPLES else ""
    )
    examples = tuple(str(column.iloc[row - 1]) for row in rows[:_EXAMPLES])
    message = (
        f"column {feature.name!r} ({where} is bool) has {len(rows)} value(s) that are not "
        f"true, false, 1 or 0: {shown}; write each as one of those"
    )
    return [Problem("wrong_type", feature.name, message, len(rows), examples, rows[:_EXAMPLES])]


def _booleans_declared_numeric(present: pd.Series, feature: Feature, where: str) -> Problem:
    examples = _examples(present)
    fix = (
        "a yes/no target is a category target with two classes"
        if where == "schema.target"
        else "declare the feature as type: bool"
    )
    message = (
        f"column {feature.name!r} holds booleans (e.g. {list(examples)}) but {where}.type is "
        f"{feature.type}; {fix}"
    )
    return Problem("wrong_type", feature.name, message, len(present), examples)


def _text_in_numbers(
    column: pd.Series, present: pd.Series, feature: Feature, where: str
) -> Problem:
    name = feature.name
    parsed = pd.to_numeric(present, errors="coerce")
    bad = present[parsed.isna()]
    if len(bad):
        examples = _examples(bad)
        message = (
            f"column {name!r} should hold numbers ({where}.type is {feature.type}) but has "
            f"{len(bad)} text value(s), e.g. {list(examples)}; correct them, or declare "
            + ("the target" if where == "schema.target" else "the feature")
            + " with the type its values have"
        )
    else:
        examples = _examples(present)
        message = (
            f"column {name!r} holds numbers written as text (type {column.dtype}, e.g. "
            f"{list(examples)}); read it as numbers (`fedledger data sanitise` "
            "writes them as numbers)"
        )
    return Problem("wrong_type", name, message, len(bad), examples)


def _check_numbers(present: pd.Series, feature: Feature, where: str) -> list[Problem]:
    name = feature.name
    problems: list[Problem] = []
    values = present.to_numpy(dtype=np.float64)
    infinite = ~np.isfinite(values)
    if infinite.any():
        n = int(infinite.sum())
        message = f"column {name!r} has {n} infinite value(s); {where} takes finite numbers only"
        problems.append(Problem("non_finite", name, message, n))
    fractional = np.isfinite(values) & (values != np.round(values))
    if feature.type == "int" and fractional.any():
        n = int(fractional.sum())
        examples = tuple(str(v) for v in values[fractional][:_EXAMPLES])
        message = (
            f"column {name!r} should be int but has {n} fractional value(s), "
            f"e.g. {list(examples)}; declare {where} as type: float, or round them"
        )
        problems.append(Problem("wrong_type", name, message, n, examples))
    return problems


def _check_labels(
    column: pd.Series, present: pd.Series, feature: Feature, where: str, what: str
) -> list[Problem]:
    text = present.astype("string")
    unknown = text[~text.isin(feature.categories)]
    if not len(unknown):
        return []
    kind: ProblemKind = "unknown_class" if what == "class" else "unknown_category"
    field = f"{where}.classes" if what == "class" else f"{where}.categories"
    examples = _examples(unknown)
    message = (
        f"column {feature.name!r} has {len(unknown)} value(s) outside the {what} list, "
        f"e.g. {list(examples)}; add them to {field} or correct the data"
    )
    if _holds_booleans(column, present):
        message += (
            f" (the column holds booleans: write them as the labels in {field})"
            if what == "class"
            else " (the column holds booleans: declare the feature as type: bool)"
        )
    return [Problem(kind, feature.name, message, len(unknown), examples)]


def _booleans_as_text(column: pd.Series, present: pd.Series) -> bool:
    """Text that is all true/false/1/0 with at least one true or false (CSV "true", "0", ...)."""
    if pd.api.types.is_numeric_dtype(column) or not len(present):
        return False
    if parse_bools(present)[1].any():
        return False
    words = present.astype("string").str.strip().str.casefold()
    return bool(words.isin(("true", "false")).any())


def _cell(value: object) -> str:
    """A value as it reads in a message: text quoted, numbers as they are."""
    return repr(value) if isinstance(value, str) else str(value)


def _listed(rows: tuple[int, ...]) -> str:
    shown = ", ".join(str(r) for r in rows[:_EXAMPLES])
    return shown + (", ..." if len(rows) > _EXAMPLES else "")
