"""docs/serving.md's request for the demo's task fits that task's schema, as a newcomer sends it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from fedledger.demo.data import demo_schema
from fedledger.schema.conform import conform_frame

SERVING = Path(__file__).parents[2] / "docs" / "serving.md"


def _demo_rows() -> list[dict[str, object]]:
    text = SERVING.read_text()
    block = text.split("uv run fedledger serve --task credit-risk-1 &", 1)[1].split("```", 1)[0]
    body = re.search(r"-d '(.*?)'", block, re.DOTALL)
    assert body is not None, "no `curl ... -d '...'` after the demo's serve command"
    rows: list[dict[str, object]] = json.loads(body.group(1))
    return rows


def test_the_demo_request_has_exactly_the_demo_tasks_features() -> None:
    rows = _demo_rows()
    assert [list(row) for row in rows] == [list(demo_schema().feature_names)]


def test_the_demo_request_is_read_without_a_refused_cell() -> None:
    conformed = conform_frame(pd.DataFrame(_demo_rows()), demo_schema(), target="ignored")
    assert conformed.missing_columns == []
    assert conformed.refused == 0
