"""`fedledger validator`: run this organisation's validator, ask a running one its status, and
ask it how a model would do on its holdout."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import grpc
import typer

from fedledger.cli.failures import fail, failures
from fedledger.validator.api import validator_pb2
from fedledger.validator.client import channel_for, stub
from fedledger.validator.config import ConfigError, ValidatorConfig
from fedledger.validator.remote import RemoteReport, config_of, evaluate_remote, load_config

validator_app = typer.Typer(
    help="Run and inspect this organisation's validator.", no_args_is_help=True
)
# The run folder option as every ledger command has it (cli/common.py), without importing what
# those commands need.
RunDir = Annotated[
    Path,
    typer.Option(
        envvar="FEDLEDGER_RUN_DIR",
        resolve_path=True,
        help="The network's folder, where `network up --validators` keeps their configurations.",
    ),
]
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The validator's YAML configuration.")
]


def _load(config: Path) -> ValidatorConfig:
    try:
        return ValidatorConfig.load(config)
    except ConfigError as error:
        fail(f"{config}: {error}")


@validator_app.command()
def serve(
    config: ConfigOption,
    grace: Annotated[float, typer.Option(help="Seconds to let work in flight finish.")] = 10.0,
) -> None:
    """Serve gRPC and vote on every proposal for this organisation's tasks until stopped."""
    from fedledger.validator.factory import build_validator  # the evaluation stack

    settings = _load(config)
    with failures("the validator did not start: ", also=(OSError, ValueError)):
        service = build_validator(settings)
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        try:
            service.start()
        except Exception:
            service.stop(grace=0)
            raise
    stopping.wait()
    service.stop(grace)


@validator_app.command()
def status(
    config: ConfigOption,
    address: Annotated[
        str | None, typer.Option(help="host:port (default: what the running validator recorded).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What a running validator serves and how far it has got (its Status call)."""
    settings = _load(config)
    try:
        with channel_for(settings, address) as channel:
            reply = stub(channel).Status(validator_pb2.StatusRequest(), timeout=10)
    except FileNotFoundError as error:
        fail(str(error))
    except grpc.RpcError as error:
        code = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
        details = error.details() if isinstance(error, grpc.Call) else str(error)
        fail(f"the validator did not answer: {code}: {details}")
    document = {
        "organization": reply.organization,
        "version": reply.version,
        "lastBlock": reply.last_block,
        "votesCast": reply.votes_cast,
        "pending": reply.pending,
        "evaluationsRunning": reply.evaluations_running,
        "tasks": [
            {
                "taskId": t.task_id,
                "holdout": t.holdout,
                "holdoutRows": t.holdout_rows,
                "error": t.error,
            }
            for t in reply.tasks
        ],
    }
    if as_json:
        json.dump(document, sys.stdout, indent=2)
        typer.echo()
        return
    typer.echo(
        f"{reply.organization}: last block {reply.last_block}, {reply.votes_cast} votes cast, "
        f"{reply.pending} pending, {reply.evaluations_running} evaluating (v{reply.version})"
    )
    for task in reply.tasks:
        state = f"{task.holdout_rows} rows" if not task.error else f"not loaded: {task.error}"
        typer.echo(f"  {task.task_id}: {task.holdout} ({state})")


@validator_app.command()
def health(config: ConfigOption) -> None:
    """Exit 0 when the running validator answers its gRPC health check with SERVING."""
    from fedledger.network.validators import serving

    settings = _load(config)
    if not serving(settings):
        fail(f"the validator of {settings.organization} is not serving (configuration {config})")
    typer.echo(f"{settings.organization}: SERVING")


@validator_app.command()
def evaluate(
    model: Annotated[Path, typer.Argument(help="The ONNX model to evaluate.")],
    task: Annotated[str, typer.Option("--task", "-t", help="The task to evaluate it for.")],
    org: Annotated[
        str | None,
        typer.Option(
            "--org",
            envvar="FEDLEDGER_ORG",
            help="The organisation (MSP ID) whose validator to ask.",
        ),
    ] = None,
    run_dir: RunDir = Path(".fedledger"),
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="The validator's YAML configuration (default: <run dir>/validators/<org>/"
            "validator.yaml, as `fedledger network up --validators` writes it).",
        ),
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="host:port (default: what the running validator recorded).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the report.")] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ask an organisation's validator how a model would do on its holdout; nothing is voted."""
    if config is None and org is None:
        fail("name the organisation whose validator to ask (--org MSPID) or its --config")
    try:
        data = model.read_bytes()
    except OSError as error:
        fail(f"cannot read {model}: {error}")
    with failures():
        settings = load_config(config or config_of(run_dir, str(org)), org)
        report = evaluate_remote(settings, task, data, address=address, timeout=timeout)
    if as_json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        typer.echo()
        return
    for line in report_lines(report):
        typer.echo(line)


def report_lines(report: RemoteReport) -> list[str]:
    """The report as a person reads it: the would-be vote first, then why, then the numbers."""
    lines = [
        f"{report.organization}'s validator would {report.decision} this model for task "
        f"{report.task_id} (nothing was voted)",
        f"model {report.model_sha256}, {report.holdout_rows} holdout rows, "
        f"{report.duration_seconds:.2f} s, {report.evaluator_version}",
    ]
    if report.error_code:
        lines.append(f"not scored: {report.error_code}")
    if report.score is not None:
        base = (
            "no champion score here"
            if report.champion_score is None
            else f"champion scores {report.champion_score:.6g} here"
        )
        lines.append(f"{report.metric} {report.score:.6g} (the task's metric; {base})")
    lines.append("reasons:")
    lines.extend(f"  - {reason}" for reason in report.reasons)
    others = {k: v for k, v in sorted(report.metrics.items()) if k != report.metric}
    if others:
        lines.append("other metrics: " + ", ".join(f"{k} {v:.6g}" for k, v in others.items()))
    return lines
