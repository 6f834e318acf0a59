"""`fedledger chaincode`: package the chaincode for any Fabric network."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.failures import console
from fedledger.network.packaging import package_ccaas, package_node
from fedledger.runtime.definition import NetworkDefinition

chaincode_app = typer.Typer(help="Package the chaincode.", no_args_is_help=True)


class PackageType(StrEnum):
    ccaas = "ccaas"
    node = "node"


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
    source: Annotated[Path | None, typer.Option(help="The chaincode project.")] = None,
    name: Annotated[str, typer.Option(help="Chaincode name (label prefix).")] = "fedledger",
) -> None:
    """Write a lifecycle package and print its package id."""
    folder = source or NetworkDefinition.load().chaincode_source
    build = package_ccaas if type_ is PackageType.ccaas else package_node
    built = build(folder, name, out)
    console.print(f"wrote {built.path}")
    typer.echo(built.package_id)
