"""`fedledger`: the command line's root; each command group lives in its own module.

The groups are loaded when they are run, not when the command line starts (click's lazy
subcommand pattern): `fedledger --help` lists them from the table below without importing any
of them, and `fedledger network status` imports the network's modules and nothing else. Each
summary must equal the first line of its command's own help; a test keeps the two equal.

Every command runs inside `failures.failures()`: the one place that turns the packages' errors
into `error: <message>` and exit status 1.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import typer
import typer.core
import typer.main

# Typer vendors click and passes its own click classes around; overrides must use those.
from typer import _click as click

from fedledger import __version__
from fedledger.cli.logs import configure_logging

# name → (module, attribute: a Typer group or a command function, summary for the listing)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "network": (
        "fedledger.cli.network",
        "network_app",
        "Start, inspect and stop a fedledger network.",
    ),
    "validator": (
        "fedledger.cli.validator",
        "validator_app",
        "Run and inspect this organisation's validator.",
    ),
    "chaincode": (
        "fedledger.cli.chaincode",
        "chaincode_app",
        "Package the chaincode and run it as a service.",
    ),
    "deploy": (
        "fedledger.cli.deploy",
        "deploy",
        "Install, approve and (with --commit) commit the chaincode as one organisation.",
    ),
    "ledger": ("fedledger.cli.ledger", "ledger_app", "Inspect the embedded ledger."),
    "task": ("fedledger.cli.tasks", "task_app", "Create and inspect tasks."),
    "propose": (
        "fedledger.cli.proposals",
        "propose",
        "Check a model against the task, put it in the store and register its hash on-chain.",
    ),
    "watch": (
        "fedledger.cli.watch",
        "watch",
        "Propose every new model uploaded to an S3 prefix or a folder, exactly once.",
    ),
    "demo": (
        "fedledger.cli.demo",
        "demo",
        "Three organisations govern one credit-risk model: propose, validate, vote, use.",
    ),
    "proposal": ("fedledger.cli.proposals", "proposal_app", "Inspect proposals and their votes."),
    "models": (
        "fedledger.cli.models",
        "models_app",
        "Convert, check, train, fetch and verify models.",
    ),
    "predict": (
        "fedledger.cli.predict",
        "predict",
        "Score rows with the task's champion, verified against the ledger.",
    ),
    "serve": (
        "fedledger.cli.serve",
        "serve",
        "Serve predictions of the task's champion over HTTP, swapped when the ledger decides.",
    ),
    "data": (
        "fedledger.cli.data",
        "data_app",
        "Check and sanitise data files against a task's schema.",
    ),
    "change": (
        "fedledger.cli.changes",
        "change_app",
        "Propose, vote on and inspect changes to a task.",
    ),
    "champion": ("fedledger.cli.champions", "champion_app", "Follow a task's champions."),
    "store": (
        "fedledger.cli.store",
        "store_app",
        "Verify the model store and remove the objects no proposal refers to.",
    ),
    "org": (
        "fedledger.cli.org",
        "org_app",
        "One organisation's own side: its material, peer, chaincode service and validator.",
    ),
    "orderer": (
        "fedledger.cli.orderer",
        "orderer_app",
        "The ordering organisation's own side: its material and its orderer.",
    ),
    "channel": (
        "fedledger.cli.channel",
        "channel_app",
        "Create, join and show channels; add or remove organisations by signed config updates.",
    ),
    "audit": (
        "fedledger.cli.audit",
        "audit_app",
        "Export a task's complete history and verify an export against the ledger.",
    ),
    "identity": (
        "fedledger.cli.identity",
        "identity_app",
        "Enrol and register identities with a Fabric CA.",
    ),
    "report": (
        "fedledger.cli.report",
        "report",
        "Write a task's proposals, scores, cross-site matrix and audit trail as one HTML file.",
    ),
    "amb": (
        "fedledger.cli.amb",
        "amb_app",
        "Run a consortium on AWS Managed Blockchain: network, members, peer nodes, profile.",
    ),
}


def load_command(name: str) -> click.Command:
    """Import the module of command `name` and build its click command."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    command: click.Command
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _reflow(command)
    return command


def _reflow(command: click.Command) -> None:
    """Join the lines of each help paragraph: docstrings wrap at 100 columns in the source, and
    Typer's rich help would keep those breaks, leaving ragged lines in a narrower terminal."""
    if command.help:
        command.help = re.sub(r"(?<!\n)\n(?!\n)", " ", inspect.cleandoc(command.help))
    for sub in getattr(command, "commands", {}).values():
        _reflow(sub)


class LazyGroup(typer.core.TyperGroup):
    """Commands imported on first use; until then each is a stand-in holding its summary, which
    is all the help listing and typo suggestions need."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, _, summary) in COMMANDS.items():
            self.add_command(typer.core.TyperCommand(name, help=summary))
        self._listing = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if self._listing or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        return load_command(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from fedledger.cli.failures import failures  # with a command only: --help needs none

        with failures():
            return super().invoke(ctx)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="fedledger",
    cls=LazyGroup,
    help="Govern a shared machine-learning model across organisations on a Fabric ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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
