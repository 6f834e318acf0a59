"""`fedledger chaincode`: package the chaincode for any Fabric network, and run it as a service."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.failures import console, fail
from fedledger.network.bundle import package_node_fabric22
from fedledger.network.packaging import PEER_FILLED_ADDRESS, package_ccaas, package_node
from fedledger.runtime.definition import NetworkDefinition

chaincode_app = typer.Typer(
    help="Package the chaincode and run it as a service.", no_args_is_help=True
)


QUIET_LOGGING = ("CORE_CHAINCODE_LOGGING_LEVEL", "CORE_CHAINCODE_LOGGING_SHIM")


class PackageType(StrEnum):
    ccaas = "ccaas"
    node = "node"


class Target(StrEnum):
    fabric_25 = "fabric-2.5"
    fabric_22 = "fabric-2.2"


@chaincode_app.command()
def package(
    out: Annotated[Path, typer.Option(help="Folder to write the package into.")] = Path(),
    type_: Annotated[
        PackageType,
        typer.Option(
            "--type",
            help="ccaas: chaincode as a service (native network); node: built by the peer "
            "(Docker-based peers, AWS Managed Blockchain).",
        ),
    ] = PackageType.ccaas,
    target: Annotated[
        Target,
        typer.Option(
            help="The Fabric runtime: fabric-2.5 (Node 18+), or fabric-2.2 (Node 12, AWS Managed "
            "Blockchain): a node package of the 2.2 build with its node_modules bundled."
        ),
    ] = Target.fabric_25,
    source: Annotated[Path | None, typer.Option(help="The chaincode project.")] = None,
    name: Annotated[str, typer.Option(help="Chaincode name (label prefix).")] = "fedledger",
    address: Annotated[
        str | None,
        typer.Option(
            help="ccaas: host:port where the peer reaches the chaincode service (default: the "
            "address fedledger's own peers fill in)."
        ),
    ] = None,
) -> None:
    """Write a lifecycle package and print its package id."""
    folder = source or NetworkDefinition.load().chaincode_source
    if target is Target.fabric_22 and type_ is PackageType.ccaas:
        fail(
            "--target fabric-2.2 makes a node package (AWS Managed Blockchain's peers build "
            "chaincode themselves): add --type node"
        )
    if target is Target.fabric_22:
        built = package_node_fabric22(folder, name, out)
    elif type_ is PackageType.ccaas:
        built = package_ccaas(folder, name, out, address or PEER_FILLED_ADDRESS)
    else:
        built = package_node(folder, name, out)
    console.print(f"wrote {built.path}")
    typer.echo(built.package_id)


@chaincode_app.command()
def serve(
    package_id: Annotated[str, typer.Option(help="The package id the peer knows this service by.")],
    address: Annotated[
        str, typer.Option(help="host:port to listen on, as the package's connection.json says.")
    ],
    source: Annotated[Path | None, typer.Option(help="The chaincode project.")] = None,
) -> None:
    """Run the chaincode as a service for a peer, in the foreground, until interrupted."""
    import os
    import shutil

    from fedledger.runtime.chaincode_server import chaincode_server, chaincode_server_command

    folder = source or NetworkDefinition.load().chaincode_source
    node = shutil.which("node")
    if node is None:
        fail("`node` is not on PATH: the chaincode service runs on Node.js 18 or later")
    if not chaincode_server(folder).exists():
        fail(f"the chaincode in {folder} is not installed: run `npm ci && npm run build` there")
    command = chaincode_server_command(node, folder, address, package_id)
    console.print(f"chaincode service {package_id} listening on {address}")
    # At INFO the contract API prints a line per annotation at start and the shim one per
    # transaction (a fifth of its throughput); an operator who wants them sets the variables.
    environment = dict.fromkeys(QUIET_LOGGING, "warning") | dict(os.environ)
    # The shim finds the contract through the package.json of its working folder. The service
    # replaces this process, so the operator's signals reach the shim directly.
    os.chdir(folder)
    os.execve(node, command, environment)  # noqa: S606
