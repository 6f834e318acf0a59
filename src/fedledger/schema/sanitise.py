"""`data sanitise`: write a data file in the agreed shape, or nothing.

The input file is never changed. Every schema field is normalised by the rules of `values.py`;
if any cell cannot be, nothing is written unless the caller names a rejects file, which then
receives those rows exactly as read, with their row number and what is wrong. Both files are
written to temporary files beside their targets and renamed into place together, so a reader
never sees half a file (docs/data.md).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fedledger.schema.conform import Conformed, conform_file
from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.types import Schema

ROW_COLUMN = "_row"
PROBLEMS_COLUMN = "_problems"
_LISTED_ROWS = 10


class SanitiseError(TaskSchemaError):
    """Nothing was written: the output would overwrite a file, or some rows cannot be
    normalised and no rejects file was given, or a column of the schema is missing.
    `conformed` is the file as read, when it was read."""

    def __init__(self, message: str, conformed: Conformed | None = None) -> None:
        self.conformed = conformed
        super().__init__(message)


@dataclass(frozen=True)
class SanitiseResult:
    conformed: Conformed
    written: int  # rows in the output
    rejected: int  # rows in the rejects file

    @property
    def changes(self) -> dict[tuple[str, str], int]:
        """(field, rule) → cells changed in the rows written to the output."""
        return self.conformed.change_counts(~self.conformed.refused_rows)


def sanitise_file(
    source: Path,
    out: Path,
    schema: Schema,
    *,
    rejects: Path | None = None,
    overwrite: bool = False,
) -> SanitiseResult:
    """Normalise `source` into `out` (CSV). Raises SanitiseError (nothing written) and
    DataFileError (the source cannot be read)."""
    _check_targets(source, out, rejects, overwrite=overwrite)
    conformed = conform_file(source, schema, target="if present")
    if conformed.missing_columns:
        raise SanitiseError(
            f"{source} has no column {', '.join(conformed.missing_columns)}, which the schema "
            "has; nothing was written: add the column (or rename it to the schema's name)",
            conformed,
        )
    refused = conformed.refused_rows
    if refused.any() and rejects is None:
        rows = [str(int(i) + conformed.first_row) for i in refused.nonzero()[0][:_LISTED_ROWS]]
        more = ", ..." if int(refused.sum()) > _LISTED_ROWS else ""
        raise SanitiseError(
            f"{source}: {int(refused.sum())} row(s) have values that cannot be normalised "
            f"(rows {', '.join(rows)}{more}); nothing was written: correct them (`fedledger "
            "data check` lists each), or pass --rejects FILE to write the other rows and set "
            "these aside",
            conformed,
        )
    kept = conformed.frame[~refused]
    files = [(out, kept)]
    if rejects is not None:
        files.append((rejects, _rejected_rows(conformed)))
    _write_together(files)
    return SanitiseResult(conformed, len(kept), int(refused.sum()))


def _check_targets(source: Path, out: Path, rejects: Path | None, *, overwrite: bool) -> None:
    targets = [("--out", out)] + ([("--rejects", rejects)] if rejects is not None else [])
    if rejects is not None and rejects.resolve() == out.resolve():
        raise SanitiseError(f"--rejects and --out are the same file {out}: name two files")
    for option, target in targets:
        if target.resolve() == source.resolve():
            raise SanitiseError(
                f"{option} {target} is the input file; the input is never changed: "
                "write to another file"
            )
        if not target.parent.is_dir():
            raise SanitiseError(f"{option} {target}: the folder {target.parent} does not exist")
        if target.exists() and not overwrite:
            raise SanitiseError(
                f"{option} {target} exists; nothing was written: remove it, choose another "
                "name, or pass --overwrite"
            )


def _rejected_rows(conformed: Conformed) -> pd.DataFrame:
    """The refused rows as read (not normalised), their row number and every problem."""
    raw = conformed.frame.copy()
    for column in conformed.columns:
        raw[column.name] = column.raw
    problems: dict[int, list[str]] = {}
    for finding in conformed.findings(fixable=False):
        if finding.row is not None:
            problems.setdefault(finding.row, []).append(f"{finding.field}: {finding.rule}")
    refused = conformed.refused_rows
    rows = raw[refused].copy()
    numbers = [int(i) + conformed.first_row for i in refused.nonzero()[0]]
    rows.insert(0, ROW_COLUMN, numbers)
    rows[PROBLEMS_COLUMN] = ["; ".join(problems[n]) for n in numbers]
    return rows


def _write_together(files: list[tuple[Path, pd.DataFrame]]) -> None:
    """Each frame to a temporary file beside its target, then all renamed into place."""
    written: list[tuple[Path, Path]] = []
    try:
        for target, frame in files:
            handle, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
            )
            os.close(handle)
            written.append((Path(name), target))
            frame.to_csv(name, index=False)
        for temporary, destination in written:
            temporary.replace(destination)
    except BaseException:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)
        raise
