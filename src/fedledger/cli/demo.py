"""`fedledger demo`: the whole story on a local network, in about a minute."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from fedledger.backends import open_backend, resolve_record
from fedledger.cli.common import DEFAULT_RUN_DIR, RunDir, console, fail, out
from fedledger.network.validators import NetworkValidators
from fedledger.profile import ConnectionProfile
from fedledger.runtime.definition import NetworkDefinition
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
    profile_file: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            help="Run on the running network of this connection profile (e.g. "
            ".fedledger-compose/connection-profile.yaml) instead of a local one.",
        ),
    ] = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Three organisations govern one credit-risk model: propose, validate, vote, use.

    Starts the network if it is not running, has one validator per organisation serve the
    demo's task, then proposes three models in turn. The network and its validators keep
    running afterwards. With --profile the network is one that runs already (the compose
    network): the demo starts its validators beside it, as processes of this host, and stops
    them when it ends (docs/docker-compose.md).
    """
    from fedledger.demo.story import run_demo  # scikit-learn and pandas: only for the demo

    started = time.monotonic()
    if profile_file is None:
        profile, validators, root = local_network(run_dir, ledger, port_base)
    else:
        profile, validators, root = profile_network(profile_file)
    try:
        with console.status("") as status:

            def say(line: str) -> None:
                console.print(f"  {line}")
                status.update(line)

            result = run_demo(profile, validators, root / "demo", RunLayout(root).store, say, rows)
    except NotReadyError as error:
        fail(f"a validator did not start: {error}")
    finally:
        if profile_file is not None:
            validators.stop()
    show(result)
    console.print(
        f"demo finished in {time.monotonic() - started:.0f} s. " + next_steps(result, profile_file)
    )


def local_network(
    run_dir: Path, ledger: str, port_base: int | None
) -> tuple[ConnectionProfile, NetworkValidators, Path]:
    """The network in `run_dir`, started when it is not running, and its validators.

    Raises BackendError and DefinitionError as resolve_record does, InstallationError without
    a usable Fabric, and the backend's errors when the network does not start."""
    record, note = resolve_record(run_dir, ledger, port_base=port_base)
    console.print(note)
    backend = open_backend(record, run_dir)
    if backend.running():
        profile = ConnectionProfile.load(run_dir / "connection-profile.yaml")
    else:
        with console.status("starting the network") as status:
            profile = backend.up(step=lambda message: status.update(message))
    return profile, NetworkValidators(record.definition(), run_dir), run_dir


def profile_network(file: Path) -> tuple[ConnectionProfile, NetworkValidators, Path]:
    """The running network `file` names, and validators of the demo's own beside it: in the
    profile's folder, on ports the system picks (the compose validators publish the plan's).

    Raises ProfileError when `file` is not a connection profile, DefinitionError when the
    default definition cannot have as many organisations as it names."""
    profile = ConnectionProfile.load(file)
    console.print(f"ledger: the running network of {file}")
    root = file.resolve().parent  # the validators run in their own folders
    definition = NetworkDefinition.load().with_overrides(orgs=len(profile.msp_ids))
    validators = NetworkValidators(definition, root, root / "demo" / "validators", any_port=True)
    return profile, validators, root


def next_steps(result: DemoResult, profile_file: Path | None) -> str:
    """What to do after the demo; raises nothing."""
    if profile_file is not None:
        return (
            f"The demo's validators are stopped. `fedledger proposal show {result.champion} "
            f"--history --profile {profile_file}` shows the champion's audit trail."
        )
    return (
        "The network and its validators "
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
