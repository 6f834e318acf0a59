"""`fedledger predict`: score a file of rows with the task's champion, verified by its hash."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    StoreOption,
    console,
    fail,
    model_store,
    out,
    registry_for,
)
from fedledger.cli.model_files import read_rows
from fedledger.cli.models import fetch_champion
from fedledger.task_source import is_task_file

if TYPE_CHECKING:
    import pandas as pd

    from fedledger.models.scoring import Scorer, Scores
    from fedledger.schema.types import Schema

DEFAULT_ID_COLUMN = "id"
BATCH_ROWS = 50_000


def predict(
    data: Annotated[Path, typer.Argument(help="Rows to score (CSV or Parquet); no target needed.")],
    task: Annotated[str, typer.Option("--task", help="Task id on the ledger.")],
    output: Annotated[Path, typer.Option("--out", help="Write the scores here (CSV).")],
    id_column: Annotated[
        str | None,
        typer.Option(
            help=f"Copy this column to the scores (default: {DEFAULT_ID_COLUMN!r} if "
            "the rows have one)."
        ),
    ] = None,
    org: OrgOption = None,
    store: StoreOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Score rows with the task's champion, verified against the ledger.

    The champion is fetched from the store and its bytes checked against the hash the ledger
    recorded (as `fedledger models fetch`). The rows are checked against the task's schema
    first. The scores keep the rows' order: the id column, then `prediction` (the class, or
    the value for a regression) and one `probability_<class>` column per class.
    """
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model
    from fedledger.models.scoring import Scorer
    from fedledger.registry.evaluation import evaluation_task

    if is_task_file(task):
        fail(f"predict scores with the champion on the ledger: give the task's id, not {task}")
    with registry_for(run_dir, profile, org) as registry:
        found = evaluation_task(registry.get_task(task))
        champion, model_bytes = fetch_champion(registry, model_store(run_dir, store), task)
    check_model(model_bytes, found, SandboxLimits())
    rows = read_rows(data, found.schema, task, require_target=False)
    frame = rows.typed_frame()
    ids = _id_column(rows.frame, id_column, data)
    if ids is not None and ids not in frame.columns:
        frame.insert(0, ids, rows.frame[ids])  # the text as written: ids are not numbers
    _write_scores(frame, ids, Scorer(model_bytes, found.schema), output)
    out.print(
        f"{output}: {len(frame):,} rows scored with the champion of {task} "
        f"({champion.proposal_id}, sha256 {champion.model_sha256[:12]}… verified)"
    )


def _write_scores(frame: pd.DataFrame, ids: str | None, scorer: Scorer, output: Path) -> None:
    """Batch by batch into a `.partial` file, renamed when whole: no half file is left."""
    partial = output.with_name(output.name + ".partial")
    try:
        with _progress(len(frame)) as advance:
            for start in range(0, max(len(frame), 1), BATCH_ROWS):
                rows = frame.iloc[start : start + BATCH_ROWS]
                scores = _table(scorer.score(rows), scorer.schema, rows.index)
                if ids is not None:
                    scores.insert(0, ids, rows[ids])
                first = start == 0
                scores.to_csv(partial, mode="w" if first else "a", header=first, index=False)
                advance(len(rows))
        partial.replace(output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {output}: {error.strerror or error}")


def _id_column(frame: pd.DataFrame, wanted: str | None, data: Path) -> str | None:
    name = wanted or DEFAULT_ID_COLUMN
    if name in frame.columns:
        return name
    if wanted is not None:
        fail(f"{data} has no column {wanted!r} (--id-column); its columns: {list(frame.columns)}")
    return None


def _table(scores: Scores, schema: Schema, index: pd.Index) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if scores.probabilities is None or scores.labels is None:
        return pd.DataFrame({"prediction": scores.predictions}, index=index)
    classes = np.asarray(schema.target.classes, dtype=object)
    table = pd.DataFrame({"prediction": classes[scores.labels]}, index=index)
    for column, name in enumerate(schema.target.classes):
        table[f"probability_{name}"] = scores.probabilities[:, column]
    return table


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; otherwise a line per batch when there is more than one."""
    if not console.is_terminal:
        done = [0]

        def line(rows: int) -> None:
            done[0] += rows
            if total > BATCH_ROWS:
                console.print(f"scored {done[0]:,} of {total:,} rows")

        yield line
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("scoring", total=total)
        yield lambda rows: progress.advance(bar, rows)
