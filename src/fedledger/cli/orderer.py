"""`fedledger orderer`: the ordering organisation's own side, in its own folder, on its host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.common import out
from fedledger.cli.process_status import print_process_status

orderer_app = typer.Typer(
    help="The ordering organisation's own side: its material and its orderer.",
    no_args_is_help=True,
)

DEFAULT_ORDERER_DIR = Path("orderer")
OrdererDir = Annotated[
    Path,
    typer.Option(
        "--dir", envvar="FEDLEDGER_ORDERER_DIR", help="The ordering organisation's own folder."
    ),
]


@orderer_app.command()
def init(
    msp_id: Annotated[str, typer.Option("--msp-id", help="Its MSP ID, e.g. OrdererMSP.")],
    domain: Annotated[str, typer.Option(help="Its DNS domain, e.g. orderer.example.com.")],
    host: Annotated[
        list[str],
        typer.Option(help="A name or IP address of the orderer's host (repeat for several)."),
    ],
    port: Annotated[
        int, typer.Option(help="The orderer's port (admin and operations: the two after it).")
    ] = 7050,
    folder: OrdererDir = DEFAULT_ORDERER_DIR,
) -> None:
    """Create the ordering organisation's CAs, orderer0 and Admin in its own folder.

    orderer0's TLS certificate names the given hosts; private keys stay in the folder.
    """
    from fedledger.ordering.folder import init_orderer

    org = init_orderer(folder, msp_id, domain, host, port)
    host_name, listen = org.endpoint
    out.print(f"created {org.msp_id} ({org.domain}) in {folder}", highlight=False)
    out.print(f"orderer {host_name}:{listen}; next: fedledger orderer export", highlight=False)


@orderer_app.command()
def export(
    output: Annotated[Path, typer.Option("--out", help="The JSON file to write.")],
    folder: OrdererDir = DEFAULT_ORDERER_DIR,
) -> None:
    """Write the ordering organisation's public part (MSP, endpoints, consenters) as JSON.

    Its TLS CA certificate is written beside it (`<name>-tlsca.pem`): members give it to
    `org start --orderer-tls-ca`.
    """
    from fedledger.ordering.export import OrdererDefinition
    from fedledger.ordering.folder import load_orderer

    org = load_orderer(folder)
    definition = OrdererDefinition.of(org)
    definition.write(output)
    tls_ca = output.with_name(f"{output.stem}-tlsca.pem")
    tls_ca.write_bytes(org.layout.tlsca_cert.read_bytes())
    out.print(
        f"wrote {definition.msp_id}'s public definition to {output} and its TLS CA to {tls_ca}",
        highlight=False,
    )


@orderer_app.command()
def start(
    folder: OrdererDir = DEFAULT_ORDERER_DIR,
    listen_host: Annotated[
        str, typer.Option(help="The address it listens on (0.0.0.0: every one).")
    ] = "127.0.0.1",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for it to be healthy.")] = 60.0,
) -> None:
    """Run the ordering organisation's orderer (channel participation, no system channel)."""
    from fedledger.installation import find_installation
    from fedledger.ordering import node
    from fedledger.ordering.folder import load_orderer

    org = load_orderer(folder)
    line = node.start(org, find_installation(), listen_host, timeout)
    out.print(line, highlight=False)


@orderer_app.command()
def status(folder: OrdererDir = DEFAULT_ORDERER_DIR) -> None:
    """A table of what `orderer start` runs: process, ports, health."""
    from fedledger.ordering import node
    from fedledger.ordering.folder import load_orderer

    org = load_orderer(folder)
    rows = node.status(org)
    print_process_status(org.msp_id, folder, rows)


@orderer_app.command()
def stop(folder: OrdererDir = DEFAULT_ORDERER_DIR) -> None:
    """Stop exactly the processes `orderer start` started."""
    from fedledger.ordering import node
    from fedledger.ordering.folder import load_orderer

    stopped = node.stop(load_orderer(folder))
    out.print(f"stopped {len(stopped)} processes" + (f": {', '.join(stopped)}" if stopped else ""))
