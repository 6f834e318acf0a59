"""`fedledger validator`: run this organisation's validator, and ask a running one its status."""

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

validator_app = typer.Typer(
    help="Run and inspect this organisation's validator.", no_args_is_help=True
)
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
