"""How refused values are written in messages, the same way the chaincode writes them.

The chaincode's messages end in `, got <value>` where the value is rendered by `show` in
chaincode/src/input.ts; `show` here renders a parsed JSON or YAML value the same way, so that a
schema refused by `fedledger task validate` and by the chaincode reads the same.
"""

from __future__ import annotations

import datetime
import json
import math
from decimal import Decimal
from typing import Final


class _Missing:
    """A field that is not there at all (JavaScript's `undefined`, shown as "nothing")."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
_SHOW_LIMIT = 80


def show(value: object) -> str:
    """A short rendering of a refused value: strings quoted, lists and mappings by kind only."""
    text: str
    if value is MISSING:
        text = "nothing"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, int | float):
        text = js_number(value)
    elif isinstance(value, list | tuple):
        text = "an array"
    elif isinstance(value, dict):
        text = "an object"
    elif isinstance(value, datetime.date):
        text = f"the date {value.isoformat()}"
    else:
        text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else f"{text[: _SHOW_LIMIT - 3]}..."


def js_number(value: int | float) -> str:
    """A number as JavaScript's String(n) writes it (1.0 -> "1", 1e-7 -> "1e-7")."""
    if isinstance(value, int):
        return str(value) if abs(value) < 10**21 else js_number(float(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that read back as the same double, as JavaScript does.
    _, digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple))
    k = len(digits)
    n = k + int(exponent)  # the decimal point sits after n digits
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = f"0.{'0' * -n}{digits}"
    else:
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def js_length(text: str) -> int:
    """The length JavaScript reports (UTF-16 code units), which the chaincode's limits count."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def quoted_list(values: list[object], limit: int = 5) -> str | None:
    """`["0", "1"]` for [0, 1]: the list with each scalar written as a string; None if it can't."""
    items: list[str] = []
    for value in values:
        if isinstance(value, str):
            items.append(value)
        elif isinstance(value, bool | int | float) and not (
            isinstance(value, float) and not math.isfinite(value)
        ):
            items.append(show(value))
        else:
            return None
    shown = [json.dumps(item, ensure_ascii=False) for item in items[:limit]]
    if len(items) > limit:
        shown.append("...")
    return f"[{', '.join(shown)}]"
