"""`fedledger network`: install Fabric, start, inspect and stop a local network."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from fedledger.backends import NetworkRecord, open_backend, resolve_record
from fedledger.cli.common import DEFAULT_RUN_DIR, RunDir, console, fail, out
from fedledger.cli.compose import compose, compose_deploy
from fedledger.embedded.errors import EmbeddedAlreadyRunningError
from fedledger.installation import FABRIC_VERSION, install_release
from fedledger.network.errors import AlreadyRunningError
from fedledger.network.native import NativeNetwork
from fedledger.network.validators import NetworkValidators
from fedledger.profile import ConnectionProfile
from fedledger.runtime.definition import parse_duration
from fedledger.runtime.status import NodeStatus
from fedledger.validator.config import ConfigError

network_app = typer.Typer(help="Start, inspect and stop a fedledger network.", no_args_is_help=True)
network_app.command("compose")(compose)
network_app.command("compose-deploy")(compose_deploy)


@network_app.command()
def install(
    version: Annotated[str, typer.Option(help="Fabric version to install.")] = FABRIC_VERSION,
    url: Annotated[str | None, typer.Option(help="Download from this mirror URL.")] = None,
) -> None:
    """Download Fabric's official release archive into the fedledger cache."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"Fabric {version}", total=None)
        installation = install_release(
            version,
            url=url,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(f"installed Fabric {installation.version} at {installation.root}")


@network_app.command()
def up(
    ledger: Annotated[str, typer.Option(help="auto, fabric or embedded.")] = "auto",
    orgs: Annotated[int | None, typer.Option(help="Member organisations (default 3).")] = None,
    orderers: Annotated[int | None, typer.Option(help="Raft orderers (fabric; default 1).")] = None,
    port_base: Annotated[int | None, typer.Option(help="First port of the port block.")] = None,
    batch_timeout: Annotated[str | None, typer.Option(help="Block timeout, e.g. 500ms.")] = None,
    fabric_version: Annotated[
        str | None,
        typer.Option(help="Fabric release to run (fabric; default 2.5.16; docs/fabric-2.2.md)."),
    ] = None,
    definition: Annotated[
        Path | None,
        typer.Option(resolve_path=True, help="Network definition file (default: the bundled one)."),
    ] = None,
    validators: Annotated[
        Path | None,
        typer.Option(help="Also run one validator per organisation (docs/validator.md)."),
    ] = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Start the network (or the parts of it that are not running) and write its profile."""
    try:
        timeout = parse_duration(batch_timeout, "--batch-timeout") if batch_timeout else None
        record, note = resolve_record(
            run_dir,
            ledger,
            definition,
            orgs=orgs,
            orderers=orderers,
            port_base=port_base,
            batch_timeout=timeout,
            fabric_version=fabric_version,
        )
        console.print(note)
        backend = open_backend(record, run_dir)
        started = time.monotonic()
        with console.status("starting") as status:
            try:
                profile = backend.up(step=lambda message: status.update(message))
                outcome = f"network up in {time.monotonic() - started:.1f} s"
            except (AlreadyRunningError, EmbeddedAlreadyRunningError):
                profile = ConnectionProfile.load(run_dir / "connection-profile.yaml")
                outcome = "the network was already running; nothing of it changed"
            status.update("starting validators")
            changes = NetworkValidators(record.definition(), run_dir).start(profile, validators)
    except ConfigError as error:
        fail(_validator_config_error(error))
    console.print(f"{outcome}; connection profile: {profile.path}")
    if validators is not None or changes.started or changes.restarted or changes.stopped:
        console.print(changes.summary())


@network_app.command()
def down(
    purge: Annotated[bool, typer.Option(help="Also delete the ledger, material and logs.")] = False,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Stop exactly the processes this network started."""
    record = NetworkRecord.load(run_dir)
    backend = open_backend(record, run_dir)
    stopped = _validators(record, run_dir).stop(purge=purge) + backend.down(purge=purge)
    console.print(f"stopped {len(stopped)} processes" + (f"; removed {run_dir}" if purge else ""))


@network_app.command()
def status(
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: Annotated[
        Path | None,
        typer.Option(help="Instead: each organisation's peer in this connection profile."),
    ] = None,
) -> None:
    """A table of the network's nodes: organisation, ports, health, ledger height."""
    if profile is not None:
        from fedledger.network.profile_status import profile_statuses

        rows = profile_statuses(ConnectionProfile.load(profile))
        title = f"network of {profile} (health: the chaincode answers)"
    else:
        rows, title = _run_dir_rows(run_dir)
    table = Table(title=title)
    for column in ("node", "kind", "organisation", "ports", "pid", "health", "height"):
        table.add_column(column)
    for row in rows:
        health = (
            "[green]healthy[/green]"
            if row.healthy
            else ("[yellow]unhealthy[/yellow]" if row.running else "[red]stopped[/red]")
        )
        table.add_row(
            row.name,
            row.kind,
            row.organization,
            row.ports,
            str(row.pid or "-"),
            health,
            "-" if row.height is None else str(row.height),
        )
    out.print(table)
    if not any(row.running for row in rows):
        raise typer.Exit(3)


def _run_dir_rows(run_dir: Path) -> tuple[list[NodeStatus], str]:
    try:
        record = NetworkRecord.load(run_dir)
        rows = open_backend(record, run_dir).status() + _validators(record, run_dir).status()
    except ConfigError as error:
        fail(_validator_config_error(error))
    return rows, f"{record.ledger} network in {run_dir}"


def _validators(record: NetworkRecord, run_dir: Path) -> NetworkValidators:
    return NetworkValidators(record.definition(), run_dir)


def _validator_config_error(error: ConfigError) -> str:
    """A generated validator configuration that does not load: which one, and what to do."""
    return (
        f"the validator configuration {error.file} does not load: {error}; fix the validators "
        "file and run `fedledger network up --validators FILE` again, or `network down --purge`"
    )


@network_app.command()
def logs(
    node: Annotated[str, typer.Argument(help="Node name, as `network status` shows it.")],
    lines: Annotated[int, typer.Option("-n", "--lines", help="How many of the last lines.")] = 50,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """The last lines of a node's log."""
    path = run_dir / "logs" / f"{node}.log"
    if not path.exists():
        known = sorted(p.stem for p in (run_dir / "logs").glob("*.log"))
        fail(f"no log for {node!r} in {run_dir}/logs (known: {', '.join(known) or 'none'})")
    out.print("\n".join(path.read_text(errors="replace").splitlines()[-lines:]), markup=False)


@network_app.command()
def deploy(run_dir: RunDir = DEFAULT_RUN_DIR) -> None:
    """Redeploy the chaincode after a change (fabric: the next lifecycle sequence)."""
    record = NetworkRecord.load(run_dir)
    backend = open_backend(record, run_dir)
    if not isinstance(backend, NativeNetwork):
        fail("deploy is for the fabric backend; restart the embedded ledger")
    deployment = backend.redeploy()
    if deployment.changed:
        console.print(f"deployed {deployment.package_id} at sequence {deployment.sequence}")
    else:
        console.print(f"already deployed: {deployment.package_id} (sequence {deployment.sequence})")
