"""One cell against one schema field: kept, normalised (and how), or refused (and why).

These are the rules of `fedledger data check` and `data sanitise` and of a validator reading its
holdout (docs/data.md): each function takes a cell as read (text from a CSV, or a typed value
from Parquet) and returns an `Outcome`. A value in the agreed shape comes back unchanged, with
no change named; one that can be normalised without guessing comes back in the agreed spelling
with the rules applied; anything else is refused with the rule it breaks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pycountry

from fedledger.schema.types import BOOL_FALSE, BOOL_TRUE

# Rules that normalise a value, as `data sanitise` counts them.
TRIMMED = "trimmed whitespace"
CASE = "matched ignoring case"
COUNTRY_NAME = "country name to alpha-2"
ALPHA3 = "alpha-3 code to alpha-2"
NUMERIC_CODE = "numeric code to alpha-2"
BOOL_WORD = "boolean word to true/false"

# Missing in a number or bool column; a category's only missing value is empty text, so that
# "NA" can be a category (Namibia's alpha-2 code is NA).
MISSING_TOKENS = frozenset({"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"})
BOOL_AS_AGREED = frozenset(BOOL_TRUE + BOOL_FALSE)
_TRUE_WORDS = frozenset({*BOOL_TRUE, "t", "yes", "y", "on"})
_FALSE_WORDS = frozenset({*BOOL_FALSE, "f", "no", "n", "off"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SHOWN_LABELS = 5


@dataclass(frozen=True)
class Outcome:
    """`text`: the cell as `data sanitise` writes it (None: missing); `value`: as typed for a
    model (str, float or bool); `changes`: the rules that changed it; `refusal`: why it cannot
    be used (then `text` and `value` are None)."""

    text: str | None
    value: object = None
    changes: tuple[str, ...] = ()
    refusal: str | None = None


def refused(rule: str) -> Outcome:
    return Outcome(None, refusal=rule)


def is_missing(cell: object, tokens: frozenset[str] = MISSING_TOKENS) -> bool:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return True
    return isinstance(cell, str) and cell.strip() in tokens


def label(cell: object, labels: Sequence[str], what: str = "categories") -> Outcome:
    """A category or class: exact, else trimmed, else the one label equal ignoring case."""
    text = _text(cell)
    changes: tuple[str, ...] = (TRIMMED,) if text != text.strip() else ()
    text = text.strip()
    if text in labels:
        return Outcome(text, text, changes)
    matches = [item for item in labels if item.casefold() == text.casefold()]
    if len(matches) == 1:
        return Outcome(matches[0], matches[0], (*changes, CASE))
    return refused(f"not one of the {what} ({_shown(labels)})")


def country(cell: object, categories: Sequence[str]) -> Outcome:
    """An ISO 3166 country as its alpha-2 code: the code in any case, the alpha-3 or numeric
    code, or the English name (pycountry's names, official names and common names)."""
    text = _text(cell)
    changes: tuple[str, ...] = (TRIMMED,) if text != text.strip() else ()
    text = text.strip()
    if text in categories:
        return Outcome(text, text, changes)
    found = country_code(text)
    if found is None:
        return refused(
            "not an ISO 3166 country: write its alpha-2 code (e.g. BR), alpha-3 code or "
            "English name"
        )
    code, how = found
    if code not in categories:
        return refused(f"the country {code} is not one of the categories ({_shown(categories)})")
    return Outcome(code, code, (*changes, how))


def country_code(text: str) -> tuple[str, str] | None:
    """(alpha-2 code, the rule that found it) for a country written any of the accepted ways."""
    upper = text.upper()
    if len(text) == 2 and pycountry.countries.get(alpha_2=upper) is not None:
        return upper, CASE
    if len(text) == 3 and text.isalpha():
        record = pycountry.countries.get(alpha_3=upper)
        return (record.alpha_2, ALPHA3) if record is not None else None
    if text.isdigit() and len(text) <= 3:
        record = pycountry.countries.get(numeric=text.zfill(3))
        return (record.alpha_2, NUMERIC_CODE) if record is not None else None
    try:
        record = pycountry.countries.lookup(text)
    except LookupError:
        return None
    return record.alpha_2, COUNTRY_NAME


def boolean(cell: object) -> Outcome:
    """true/false/1/0 as agreed; yes/no, y/n, t/f, on/off in any case become true/false."""
    if isinstance(cell, bool):
        return Outcome(str(cell).lower(), cell)
    if isinstance(cell, int | float) and cell in (0, 1):
        return Outcome(str(int(cell)), bool(cell))
    text = _text(cell)
    stripped = text.strip()
    changes: tuple[str, ...] = (TRIMMED,) if text != stripped else ()
    if stripped in BOOL_AS_AGREED:
        return Outcome(stripped, stripped in BOOL_TRUE, changes)
    word = stripped.casefold()
    if word in _TRUE_WORDS or word in _FALSE_WORDS:
        truth = word in _TRUE_WORDS
        return Outcome("true" if truth else "false", truth, (*changes, BOOL_WORD))
    return refused("not a boolean: write true or false (yes/no, y/n, 1/0 and on/off are read too)")


NOT_A_NUMBER_BUT_BOOLEAN = "not a number but a boolean: declare the feature as type: bool"


def number(cell: object, *, integer: bool = False) -> Outcome:
    """A finite decimal number (whole for an int feature); surrounding spaces are trimmed."""
    if isinstance(cell, bool):
        return refused(NOT_A_NUMBER_BUT_BOOLEAN)
    if isinstance(cell, int | float):
        return _finite(str(cell), float(cell), (), integer=integer)
    text = _text(cell)
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        if stripped.casefold() in ("true", "false"):
            return refused(NOT_A_NUMBER_BUT_BOOLEAN)
        return refused("not a number: write digits with a decimal point, e.g. 1250.5")
    changes: tuple[str, ...] = (TRIMMED,) if text != stripped else ()
    return _finite(stripped, float(stripped), changes, integer=integer)


def _finite(text: str, value: float, changes: tuple[str, ...], *, integer: bool) -> Outcome:
    if not math.isfinite(value):
        return refused("not a finite number")
    if integer and not value.is_integer():
        return refused("not a whole number, and the feature is int: round it or declare float")
    return Outcome(text, value, changes)


def _text(cell: object) -> str:
    return cell if isinstance(cell, str) else str(cell)


def _shown(labels: Sequence[str]) -> str:
    shown = ", ".join(labels[:_SHOWN_LABELS])
    return shown + (f", ... {len(labels)} in all" if len(labels) > _SHOWN_LABELS else "")
