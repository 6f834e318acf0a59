"""`fedledger`: the command line's root; each command group lives in its own module."""

from __future__ import annotations

import typer

from fedledger import __version__
from fedledger.cli.chaincode import chaincode_app
from fedledger.cli.demo import demo
from fedledger.cli.ledger import ledger_app
from fedledger.cli.logs import configure_logging
from fedledger.cli.models import models_app
from fedledger.cli.network import network_app
from fedledger.cli.proposals import proposal_app, propose
from fedledger.cli.tasks import task_app
from fedledger.cli.validator import validator_app

app = typer.Typer(
    name="fedledger",
    help="Govern a shared machine-learning model across organisations on a Fabric ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(network_app, name="network")
app.add_typer(validator_app, name="validator")
app.add_typer(chaincode_app, name="chaincode")
app.add_typer(ledger_app, name="ledger")
app.add_typer(task_app, name="task")
app.command()(propose)
app.command()(demo)
app.add_typer(proposal_app, name="proposal")
app.add_typer(models_app, name="models")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fedledger {__version__}")
        raise typer.Exit


@app.callback()
def root(
    log_level: str = typer.Option("info", help="debug, info, warning or error."),
    log_json: bool = typer.Option(False, "--log-json", help="Log JSON lines to stderr."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    configure_logging(log_level, log_json)


def main() -> None:
    app()
