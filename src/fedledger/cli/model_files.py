"""`fedledger models convert|check|train`: make and check a model file for a task, offline
when the task is a task file (`--task`: cli/common.py, load_task)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    StoreOption,
    TaskOption,
    fail,
    load_task,
    model_store,
    out,
    registry_for,
)
from fedledger.task_source import is_task_file

if TYPE_CHECKING:
    from fedledger.evaluate.policy import Task
    from fedledger.evaluate.report import EvaluationReport
    from fedledger.schema.conform import Conformed
    from fedledger.schema.types import Schema

OutOption = Annotated[Path, typer.Option("--out", help="Write the ONNX model here.")]


def convert(
    source: Annotated[
        Path,
        typer.Argument(
            help="The model: .skops (scikit-learn, saved with skops), .json/.ubj (XGBoost "
            "save_model), .txt (LightGBM booster save_model) or .onnx (any tool)."
        ),
    ],
    task: TaskOption,
    output: OutOption,
    trust: Annotated[
        list[str] | None,
        typer.Option(
            help="Trust this type in a .skops file (repeatable); only if you trust "
            "whoever wrote the file."
        ),
    ] = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Convert a model to an ONNX file that fits the task, with fedledger's metadata.

    The result passes the static checks a validator makes. A model that cannot fit is refused
    with the input, type or output named and how to export it instead; see
    docs/bring-your-own-model.md.
    """
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model
    from fedledger.models.errors import ModelError
    from fedledger.models.foreign import convert_file

    found = load_task(task, run_dir, profile, org)
    try:
        converted = convert_file(source, found.schema, found.task_id, trusted=trust or ())
        check_model(converted.data, found, SandboxLimits())
    except ModelError as error:
        fail(f"{source} cannot be converted for task {found.task_id}: {error}")
    _write(output, converted.data)
    for change in converted.changes:
        out.print(f"adapted: {change}")
    out.print(
        f"{output}: {converted.source} model converted for task {found.task_id} "
        f"({len(converted.data):,} bytes); check it with "
        f"`fedledger models check {output} --task {task} --data rows.csv`"
    )


def check(
    model: Annotated[Path, typer.Argument(help="An ONNX model file.")],
    task: TaskOption,
    data: Annotated[
        Path | None,
        typer.Option(help="Rows with the target (CSV or Parquet): evaluate on them too."),
    ] = None,
    org: OrgOption = None,
    store: StoreOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Run a validator's checks on a model; with --data, evaluate it as a validator would.

    The static checks are the validators' own (size, operators, inputs, outputs, metadata);
    the evaluation runs the model in the validators' sandbox and scores it with the task's
    metric and policy. For a task on the ledger that has a champion, the champion (verified by
    hash) is scored on the same rows and the regression veto applies against it. Exits 1 when
    the model does not fit or its evaluation is a rejection.
    """
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model
    from fedledger.models.errors import ModelError

    model_bytes = _read(model)
    found = load_task(task, run_dir, profile, org)
    try:
        checked = check_model(model_bytes, found, SandboxLimits())
    except ModelError as error:
        fail(f"{model} does not fit task {found.task_id}: {error}")
    inputs = ", ".join(f"{name} ({dtype})" for name, dtype in checked.input_dtypes.items())
    out.print(f"{model} fits task {found.task_id}: the static checks pass")
    out.print(f"  inputs: {inputs}")
    out.print(f"  outputs: {', '.join(checked.outputs)}")
    if data is None:
        return
    champion = None if is_task_file(task) else _champion(task, run_dir, profile, org, store)
    report = _evaluate(model_bytes, found, data, champion)
    _print_report(report, data)
    if not report.approved:
        raise typer.Exit(1)


def _champion(
    task_id: str, run_dir: Path, profile: Path | None, org: str | None, store: str | None
) -> tuple[str, bytes] | None:
    """The task's champion (proposal id, bytes verified against the ledger), if it has one."""
    with registry_for(run_dir, profile, org) as registry:
        champion = registry.find_champion(task_id)
    if champion is None:
        return None
    return champion.proposal_id, model_store(run_dir, store).get(
        champion.uri, champion.model_sha256
    )


def _evaluate(
    model_bytes: bytes, task: Task, data: Path, champion: tuple[str, bytes] | None
) -> EvaluationReport:
    from fedledger.evaluate.engine import Evaluator
    from fedledger.evaluate.holdout import Holdout

    with Holdout.load(data, task.schema) as holdout, Evaluator() as evaluator:
        champion_score = None
        if champion is not None:
            proposal_id, champion_bytes = champion
            champion_score = evaluator.evaluate(champion_bytes, task, holdout).score
            shown = "no score" if champion_score is None else f"{champion_score:.6g}"
            out.print(
                f"the champion {proposal_id} scores {task.policy.metric} {shown} on these rows"
            )
        return evaluator.evaluate(model_bytes, task, holdout, champion_score=champion_score)


def _print_report(report: EvaluationReport, data: Path) -> None:
    from rich.table import Table

    out.print(f"evaluated on {report.rows:,} rows of {data} in the sandbox:")
    table = Table("metric", "value")
    for name, value in sorted(report.metrics.items()):
        marker = " (the task's metric)" if name == report.metric else ""
        table.add_row(name + marker, f"{value:.6g}")
    if report.metrics:
        out.print(table)
    verdict = "approve" if report.approved else "reject"
    out.print(f"a validator with these rows would vote {verdict}: {'; '.join(report.reasons)}")


def train(
    task: TaskOption,
    data: Annotated[Path, typer.Option(help="Training rows with the target (CSV or Parquet).")],
    estimator: Annotated[
        str, typer.Option(help="logistic (classification), linear (regression), hgb or rf.")
    ],
    output: OutOption,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Train a baseline model on rows in the task's schema and write it as ONNX.

    The pipeline follows the schema (scaling, imputation, one-hot categories;
    docs/model-pipeline.md) and ends in the chosen estimator.
    """
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model
    from fedledger.models.baselines import baseline
    from fedledger.models.conversion import convert as to_onnx
    from fedledger.models.train import train as fit

    found = load_task(task, run_dir, profile, org)
    chosen = baseline(estimator, classification=found.schema.target.is_classification)
    frame = read_rows(data, found.schema, task).typed_frame()
    trained = fit(found.schema, frame, chosen)
    model_bytes = to_onnx(trained, found.task_id)
    check_model(model_bytes, found, SandboxLimits())
    _write(output, model_bytes)
    out.print(
        f"{output}: {type(chosen).__name__} trained on {len(frame):,} rows of {data} "
        f"for task {found.task_id}"
    )


def read_rows(data: Path, schema: Schema, task: str, *, require_target: bool = True) -> Conformed:
    """The rows of `data` read as `fedledger data check` and the validators read them
    (schema/conform.py); ends the command naming the first cells that cannot be used."""
    from fedledger.schema.conform import conform_file

    conformed = conform_file(data, schema, target="required" if require_target else "ignored")
    if conformed.refused:
        fail(
            f"{data} does not match the task schema: {conformed.describe_refusals()}; "
            f"`fedledger data check --task {task} {data}` lists every row"
        )
    return conformed


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a failed write leaves no half model behind."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {path}: {error.strerror or error}")
