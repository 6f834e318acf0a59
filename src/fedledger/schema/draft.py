"""`task init`: a task file drafted from a training file, for the members to review.

Each column becomes a feature with the type its cells have (read as `data check` reads them);
what the draft cannot know is said, not guessed: which class is positive, the policy, whether a
0/1 column is a yes/no, a column left out. The draft passes `task validate` (docs/data.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fedledger.schema import values
from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.task_file import ID_PATTERN, check_task
from fedledger.schema.types import COUNTRY_FORMAT, MAX_LABEL_LENGTH, MAX_LABELS, NAME_PATTERN

MAX_CLASSES_OF_NUMBERS = 20  # a numeric target with more distinct values is a regression
# A column is drafted as numbers (or countries) when at most this share of its cells are not:
# the odd ones are a data error to fix, not a reason to make a number column text.
ODD_SHARE = 0.02


class DraftError(TaskSchemaError):
    """The file cannot be drafted from (no such target column, no usable feature)."""


@dataclass
class Draft:
    document: dict[str, Any]
    inferred: list[str] = field(default_factory=list)  # what the draft read from the data
    decide: list[str] = field(default_factory=list)  # what the members must decide


def draft_task(
    frame: pd.DataFrame, target: str, task_id: str, metric: str | None, source: str
) -> Draft:
    """A task document from `frame`'s cells (text as read). Raises DraftError."""
    if target not in frame.columns:
        raise DraftError(
            f"{source} has no column {target!r} for --target (columns: "
            f"{', '.join(map(str, frame.columns))})"
        )
    draft = Draft({})
    features = [
        feature
        for name in frame.columns
        if name != target and (feature := _feature(str(name), frame[name], draft)) is not None
    ]
    if not features:
        raise DraftError(f"{source}: no column besides {target!r} can be a feature")
    target_doc, default_metric = _target(target, frame[target], draft)
    draft.document = {
        "id": task_id,
        "description": f"Drafted by fedledger task init from {source}; review before create.",
        "metric": metric or default_metric,
        "schema": {"features": features, "target": target_doc},
    }
    if metric is None:
        draft.decide.append(f"metric: {default_metric} was chosen for this target; confirm it")
    draft.decide.append(
        "policy: the defaults of docs/task-file.md apply (quorum: every member, "
        "approvalThreshold 0.5, no minScore or maxRegression); set what the members agree"
    )
    return draft


def task_id_from(stem: str) -> str:
    """A valid task id from a file name: other characters become "-"."""
    text = re.sub(r"[^A-Za-z0-9._-]", "-", stem).lstrip("._-")[:64] or "task"
    return text if ID_PATTERN.fullmatch(text) else "task"


def checked(draft: Draft) -> list[str]:
    """The problems `task validate` would find in the draft (none, unless this module errs)."""
    return list(check_task(draft.document, source="the draft").problems)


def _present(column: pd.Series, tokens: frozenset[str]) -> tuple[list[str], int]:
    cells = [str(c) for c in column if not values.is_missing(c, tokens)]
    return [c.strip() for c in cells], len(column) - len(cells)


def _feature(name: str, column: pd.Series, draft: Draft) -> dict[str, Any] | None:
    if not NAME_PATTERN.fullmatch(name):
        draft.decide.append(
            f"column {name!r} is left out: its name cannot be a model input name; rename it "
            "(letters, digits, _ . -, starting with a letter or _) to use it"
        )
        return None
    cells, missing = _present(column, values.MISSING_TOKENS)
    if not cells:
        draft.decide.append(f"column {name!r} is left out: it is empty")
        return None
    doc: dict[str, Any] = {"name": name}
    cells, odd = _mostly(cells, lambda c: values.number(c).refusal is None)
    kind = _numeric_kind(cells) if odd is not None else _bool_kind(cells)
    if kind is not None:
        doc["type"] = kind
        draft.inferred.append(_describe(name, kind, cells, missing))
        if odd:
            draft.decide.append(_odd_note(name, odd, "numbers"))
        if kind == "int" and set(cells) <= {"0", "1"}:
            draft.decide.append(f"{name}: only 0 and 1 seen; declare type: bool if it is a yes/no")
        if kind == "int" and name.lower().endswith("id") and len(set(cells)) == len(cells):
            draft.decide.append(f"{name}: every value differs, as in an identifier; remove it")
    else:
        categories = _categories(name, column, draft)
        if categories is None:
            return None
        doc.update(categories)
    if missing:
        doc["nullable"] = True
    return doc


def _mostly(cells: list[str], fits: Callable[[str], bool]) -> tuple[list[str], list[str] | None]:
    """The cells that fit and the distinct ones that do not, when those are few enough to be
    errors (at most ODD_SHARE of the cells); else all cells and None."""
    odd = [c for c in cells if not fits(c)]
    if len(odd) > ODD_SHARE * len(cells):
        return cells, None
    return [c for c in cells if fits(c)], sorted(set(odd))


def _odd_note(name: str, odd: list[str], what: str) -> str:
    shown = ", ".join(repr(o) for o in odd[:5]) + (", …" if len(odd) > 5 else "")
    return (
        f"{name}: drafted as {what}, but {len(odd)} value(s) are not: {shown}; "
        "`fedledger data check` lists their rows (fix them, or declare nullable: true for blanks)"
    )


def _numeric_kind(cells: list[str]) -> str | None:
    if not all(values.number(c).refusal is None for c in cells):
        return None
    whole = all(re.fullmatch(r"[+-]?\d+", c) for c in cells)
    return "int" if whole else "float"


def _bool_kind(cells: list[str]) -> str | None:
    return "bool" if all(values.boolean(c).refusal is None for c in cells) else None


def _describe(name: str, kind: str, cells: list[str], missing: int) -> str:
    if kind == "bool":
        text = f"{name}: bool"
    else:
        numbers = [float(c) for c in cells]
        low, high = min(numbers), max(numbers)
        text = f"{name}: {kind}, observed {low:g} to {high:g}"
    return text + (f", {missing} missing" if missing else "")


def _categories(name: str, column: pd.Series, draft: Draft) -> dict[str, Any] | None:
    cells, missing = _present(column, frozenset({""}))
    counts = Counter(cells)
    if len(counts) > MAX_LABELS or any(len(c) > MAX_LABEL_LENGTH for c in counts):
        draft.decide.append(
            f"column {name!r} is left out: {len(counts)} distinct texts (or some over "
            f"{MAX_LABEL_LENGTH} characters) are no category; bin it or drop it"
        )
        return None
    if len(counts) == len(cells) and len(cells) > MAX_CLASSES_OF_NUMBERS:
        draft.decide.append(
            f"column {name!r} is left out: every value differs, as in an identifier"
        )
        return None
    note = f", {missing} missing" if missing else ""
    if "country" in name.lower():
        countries, odd = _mostly(cells, lambda c: values.country_code(c) is not None)
        if odd is not None:
            codes = sorted({code for c in set(countries) if (code := _country(c))})
            draft.inferred.append(
                f"{name}: a country ({COUNTRY_FORMAT}), {len(codes)} seen: {', '.join(codes)}{note}"
            )
            if odd:
                draft.decide.append(_odd_note(name, odd, "ISO 3166 countries"))
            draft.decide.append(f"{name}: add the countries other members have to its categories")
            return {"type": "category", "categories": codes, "format": COUNTRY_FORMAT}
    spellings: dict[str, str] = {}
    for text, _ in counts.most_common():
        spellings.setdefault(text.casefold(), text)
    categories = sorted(spellings.values())
    draft.inferred.append(f"{name}: category, {len(categories)} seen{note}")
    draft.decide.append(f"{name}: add the categories other members have (order is the encoding)")
    return {"type": "category", "categories": categories}


def _country(text: str) -> str | None:
    found = values.country_code(text)
    return None if found is None else found[0]


def _target(name: str, column: pd.Series, draft: Draft) -> tuple[dict[str, Any], str]:
    cells, missing = _present(column, values.MISSING_TOKENS)
    if missing:
        draft.decide.append(f"target {name}: {missing} rows have none; drop them before training")
    distinct = sorted(set(cells))
    numeric = bool(cells) and _numeric_kind(cells) is not None
    if numeric and (len(distinct) > MAX_CLASSES_OF_NUMBERS or _numeric_kind(cells) == "float"):
        draft.inferred.append(_describe(f"target {name}", "float", cells, missing))
        return {"name": name, "type": "float"}, "rmse"
    if len(distinct) < 2:
        raise DraftError(
            f"target {name} has {len(distinct)} distinct value(s); a classification target "
            "needs two classes, and a numeric target more than that"
        )
    classes = distinct
    draft.inferred.append(f"target {name}: category, classes {', '.join(classes)}")
    draft.decide.append(
        f"target {name}: classes are in sorted order and the last ({classes[-1]}) is the "
        "positive class of roc_auc and f1; reorder them if another class is"
    )
    return {"name": name, "type": "category", "classes": classes}, (
        "roc_auc" if len(classes) == 2 else "accuracy"
    )
