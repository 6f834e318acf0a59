"""`fedledger network compose` and `fedledger network compose-deploy`: the network definition
as a docker-compose file, and the channel and chaincode once its containers run
(docs/docker-compose.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.common import console


def compose(
    out: Annotated[
        Path, typer.Option(help="Folder for docker-compose.yaml and .fedledger-compose/.")
    ] = Path(),
    orgs: Annotated[int | None, typer.Option(help="Member organisations (default 3).")] = None,
    orderers: Annotated[int | None, typer.Option(help="Raft orderers (default 1).")] = None,
    port_base: Annotated[int | None, typer.Option(help="First port of the port block.")] = None,
    batch_timeout: Annotated[str | None, typer.Option(help="Block timeout, e.g. 500ms.")] = None,
    definition: Annotated[
        Path | None,
        typer.Option(resolve_path=True, help="Network definition file (default: the bundled one)."),
    ] = None,
    validators: Annotated[
        Path | None,
        typer.Option(help="One validator service per organisation it lists (docs/validator.md)."),
    ] = None,
) -> None:
    """Write a docker-compose file for the network and the material it mounts."""
    from fedledger.installation import find_installation
    from fedledger.network.compose_folder import write_compose
    from fedledger.network.validators import ValidatorsSpec
    from fedledger.runtime.definition import DEFAULT_DEFINITION, NetworkDefinition, parse_duration

    network = NetworkDefinition.load(definition or DEFAULT_DEFINITION).with_overrides(
        orgs=orgs,
        orderers=orderers,
        port_base=port_base,
        batch_timeout=parse_duration(batch_timeout, "--batch-timeout") if batch_timeout else None,
    )
    spec = ValidatorsSpec.load(validators) if validators else None
    output = write_compose(find_installation(), network, out, spec)
    console.print(
        f"wrote {output.compose_file} and {output.run_folder}; next: "
        f"`docker compose -f {output.compose_file} up -d`, then "
        f"`fedledger network compose-deploy --out {out}`"
    )


def compose_deploy(
    out: Annotated[
        Path, typer.Option(help="The folder `fedledger network compose` wrote to.")
    ] = Path(),
    orgs: Annotated[int | None, typer.Option(help="As given to `network compose`.")] = None,
    orderers: Annotated[int | None, typer.Option(help="As given to `network compose`.")] = None,
    port_base: Annotated[int | None, typer.Option(help="As given to `network compose`.")] = None,
    definition: Annotated[
        Path | None,
        typer.Option(resolve_path=True, help="As given to `network compose`."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each step.")] = 120.0,
) -> None:
    """Join the compose network's nodes to the channel and deploy the chaincode on it."""
    from fedledger.installation import find_installation
    from fedledger.network.compose_folder import RUN_FOLDER, deploy_on_compose
    from fedledger.runtime.definition import DEFAULT_DEFINITION, NetworkDefinition

    network = NetworkDefinition.load(definition or DEFAULT_DEFINITION).with_overrides(
        orgs=orgs, orderers=orderers, port_base=port_base
    )
    started = time.monotonic()
    with console.status("joining the channel and deploying the chaincode"):
        deployment = deploy_on_compose(find_installation(), network, out / RUN_FOLDER, timeout)
    profile = out / RUN_FOLDER / "connection-profile.yaml"
    console.print(
        f"chaincode {deployment.package_id} at sequence {deployment.sequence} "
        f"({'deployed' if deployment.changed else 'already deployed'}) in "
        f"{time.monotonic() - started:.1f} s; connection profile: {profile}"
    )
