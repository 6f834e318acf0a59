"""A predict request's rows, read against the task's schema as `data check` and `predict` read
a file (schema/conform.py), so a row the members' tools accept is scored here the same way.

JSON rows are numbered by their index in the list (the first is row 0), Arrow rows by their
index in the stream; CSV rows as a spreadsheet counts them (the header is row 1, the first data
row is row 2), as `data check` does.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic_core import from_json

from fedledger.models.inputs import NumericDType, frame_to_feeds
from fedledger.schema.conform import conform_frame
from fedledger.schema.types import Schema
from fedledger.serving.arrow_rows import (
    ARROW_TYPES,
    arrow_cells,
    arrow_table,
    exact_arrow_feeds,
    exact_arrow_frame,
)
from fedledger.serving.errors import RowsError
from fedledger.serving.exact_rows import exact_feeds, exact_frame
from fedledger.serving.json_rows import JsonRowDecoder

JSON_TYPES = frozenset({"application/json"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})
HOW = (
    "send a JSON list of objects (Content-Type: application/json), CSV with a header row "
    "(Content-Type: text/csv) or an Arrow IPC stream "
    "(Content-Type: application/vnd.apache.arrow.stream)"
)
MAX_PROBLEMS = 20


def read_rows(body: bytes, content_type: str | None, schema: Schema, max_rows: int) -> pd.DataFrame:
    """The task's features of the request's rows, typed as a model reads them.

    Raises RowsError: 415 for a content type other than JSON, CSV or Arrow, 400 for an empty or
    unreadable body, 413 for more than `max_rows` rows, 422 for rows that do not fit the schema
    (each problem names the row and the field).
    """
    media = _media(content_type, body)
    exact, cells, first_row = _read(media, body, schema, max_rows)
    return exact if exact is not None else _conformed(cells, schema, first_row)


def read_feeds(
    body: bytes,
    content_type: str | None,
    schema: Schema,
    max_rows: int,
    dtype: NumericDType,
    decoder: JsonRowDecoder | None = None,
) -> dict[str, npt.NDArray[np.generic]]:
    """The model inputs of the request's rows (models/inputs.py): what frame_to_feeds makes of
    read_rows' frame. JSON and Arrow rows already in the agreed shape go straight to the arrays:
    there the frame was only a carrier, and cost more than the model. With `decoder` (built
    once for `schema`), JSON in that shape is decoded straight into typed rows
    (serving/json_rows.py); any other JSON body takes the path below, which names each problem.

    Raises RowsError as read_rows does.
    """
    media = _media(content_type, body)
    if media in JSON_TYPES:
        typed = None if decoder is None else _typed_feeds(decoder, body, max_rows, dtype)
        if typed is not None:
            return typed
        rows = _json_rows(body)
        _check_count(len(rows), max_rows)
        feeds = exact_feeds(rows, schema, dtype)
        if feeds is not None:
            return feeds
        return frame_to_feeds(_conformed(_json_cells(rows), schema, 0), schema, dtype)
    if media in ARROW_TYPES:
        table = _arrow(body)
        _check_count(table.num_rows, max_rows)
        feeds = exact_arrow_feeds(table, schema, dtype)
        if feeds is not None:
            return feeds
        return frame_to_feeds(_conformed(arrow_cells(table), schema, 0), schema, dtype)
    return frame_to_feeds(read_rows(body, content_type, schema, max_rows), schema, dtype)


def _typed_feeds(
    decoder: JsonRowDecoder, body: bytes, max_rows: int, dtype: NumericDType
) -> dict[str, npt.NDArray[np.generic]] | None:
    rows = decoder.rows(body)
    if rows is None:
        return None
    _check_count(len(rows), max_rows)
    return decoder.feeds(rows, dtype)


def _media(content_type: str | None, body: bytes) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES | CSV_TYPES | ARROW_TYPES:
        shown = repr(content_type) if content_type else "none"
        raise RowsError(415, f"unsupported content type {shown}: {HOW}")
    if not body or body.isspace():
        raise RowsError(400, f"the request has no rows (empty body): {HOW}")
    return media


def _conformed(cells: pd.DataFrame, schema: Schema, first_row: int) -> pd.DataFrame:
    conformed = conform_frame(
        cells, schema, source="request", first_row=first_row, target="ignored"
    )
    if conformed.refused:
        findings = [
            f for f, _ in zip(conformed.findings(fixable=False), range(MAX_PROBLEMS), strict=False)
        ]
        problems: list[dict[str, object]] = [
            {"row": f.row, "field": f.field, "value": f.value, "problem": f.rule} for f in findings
        ]
        raise RowsError(
            422, f"rows do not fit the task's schema: {conformed.describe_refusals()}", problems
        )
    return conformed.typed_frame()


def _read(
    media: str, body: bytes, schema: Schema, max_rows: int
) -> tuple[pd.DataFrame | None, pd.DataFrame, int]:
    """The exact typed frame when the fast path takes the rows (else None), the cells for the
    cell-by-cell reading, and the number of the first row."""
    if media in JSON_TYPES:
        rows = _json_rows(body)
        _check_count(len(rows), max_rows)
        exact = exact_frame(rows, schema)
        return exact, pd.DataFrame() if exact is not None else _json_cells(rows), 0
    if media in ARROW_TYPES:
        table = _arrow(body)
        _check_count(table.num_rows, max_rows)
        exact = exact_arrow_frame(table, schema)
        return exact, pd.DataFrame() if exact is not None else arrow_cells(table), 0
    cells, first_row = _csv_cells(body)
    _check_count(len(cells), max_rows)
    return None, cells, first_row


def _arrow(body: bytes) -> Any:
    try:
        return arrow_table(body)
    except (ValueError, OSError) as error:
        raise RowsError(400, f"the body is not an Arrow IPC stream ({error}): {HOW}") from None


def _check_count(rows: int, max_rows: int) -> None:
    if rows == 0:
        raise RowsError(422, f"the request has no rows: {HOW}")
    if rows > max_rows:
        raise RowsError(
            413,
            f"the request has {rows:,} rows, over this service's {max_rows:,} limit: "
            "send them in several requests",
        )


def _json_rows(body: bytes) -> list[dict[str, Any]]:
    try:
        rows: Any = from_json(body)  # pydantic's parser (Rust): several times json's speed
    except ValueError as error:
        raise RowsError(400, f"the body is not JSON ({error}): {HOW}") from None
    if not isinstance(rows, list):
        raise RowsError(422, f"the body is a JSON {type(rows).__name__}, not a list of rows: {HOW}")
    if set(map(type, rows)) - {dict}:
        index, row = next((i, r) for i, r in enumerate(rows) if not isinstance(r, dict))
        raise RowsError(
            422,
            f"row {index} is a JSON {type(row).__name__}, not an object of field: value",
            [{"row": index, "field": None, "value": str(row)[:80], "problem": "not an object"}],
        )
    return rows


def _json_cells(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The cells of rows that are not all exact, for the cell-by-cell reading; a list or an
    object as a value is refused here (the reading takes only single values)."""
    for index, row in enumerate(rows):
        for field, value in row.items():
            if isinstance(value, list | dict):
                raise RowsError(
                    422,
                    f"row {index}, {field}: a JSON {type(value).__name__} is not a value",
                    [{"row": index, "field": field, "value": str(value)[:80],
                      "problem": "not a number, string, boolean or null"}],
                )  # fmt: skip
    return pd.DataFrame.from_records(rows).astype(object)


def _csv_cells(body: bytes) -> tuple[pd.DataFrame, int]:
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, na_filter=False)
    except (ValueError, UnicodeDecodeError) as error:
        raise RowsError(400, f"the body cannot be read as CSV ({error}): {HOW}") from None
    return frame, 2
