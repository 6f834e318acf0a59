"""`fedledger demo`: the whole story on a local network, in about a minute."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from fedledger.backends import open_backend, resolve_record
from fedledger.cli.common import DEFAULT_RUN_DIR, RunDir, console, fail, out
from fedledger.network.validators import NetworkValidators
from fedledger.profile import ConnectionProfile
from fedledger.runtime.health import NotReadyError
from fedledger.runtime.layout import RunLayout

if TYPE_CHECKING:
    from fedledger.demo.story import DemoResult


def demo(
    ledger: Annotated[str, typer.Option(help="auto, fabric or embedded.")] = "auto",
    rows: Annotated[int, typer.Option(help="Rows of synthetic loan data in all.")] = 9000,
    port_base: Annotated[
        int | None, typer.Option(help="First port of a new network's port block.")
    ] = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Three organisations govern one credit-risk model: propose, validate, vote, use.

    Starts the network if it is not running, has one validator per organisation serve the
    demo's task, then proposes three models in turn. The network and its validators keep
    running afterwards.
    """
    from fedledger.demo.story import run_demo  # scikit-learn and pandas: only for the demo

    started = time.monotonic()
    record, note = resolve_record(run_dir, ledger, port_base=port_base)
    console.print(note)
    backend = open_backend(record, run_dir)
    if backend.running():
        profile = ConnectionProfile.load(run_dir / "connection-profile.yaml")
    else:
        with console.status("starting the network") as status:
            profile = backend.up(step=lambda message: status.update(message))
    folder = run_dir / "demo"
    try:
        with console.status("") as status:

            def say(line: str) -> None:
                console.print(f"  {line}")
                status.update(line)

            validators = NetworkValidators(record.definition(), run_dir)
            result = run_demo(profile, validators, folder, RunLayout(run_dir).store, say, rows)
    except NotReadyError as error:
        fail(f"a validator did not start: {error}")
    show(result)
    console.print(
        f"demo finished in {time.monotonic() - started:.0f} s. The network and its validators "
        f"are still running: `fedledger proposal show {result.champion} --history` shows the "
        f"champion's audit trail, `fedledger propose MODEL --task {result.task_id} --wait` has "
        "the validators vote on another model; `fedledger network down` stops them all."
    )


def show(result: DemoResult) -> None:
    for number, round_ in enumerate(result.rounds, 1):
        proposal = round_.proposal
        table = Table(
            title=f"{number}. {round_.proposer} proposes {round_.title}: {proposal.status} "
            f"in {round_.seconds:.1f} s",
            title_justify="left",
        )
        for column in ("organisation", "decision", "roc_auc on its holdout", "reason"):
            table.add_column(column)
        for vote in round_.votes:
            score = vote.metrics.get(proposal.metric)
            table.add_row(
                vote.voter, vote.decision, "-" if score is None else f"{score:.4f}", vote.reason
            )
        out.print(table)
    out.print(
        f"champion of {result.task_id}: {result.champion}; fetched, verified against the "
        f"ledger and scored by the third organisation on its own rows: roc_auc "
        f"{result.consumer_auc:.4f}"
    )
