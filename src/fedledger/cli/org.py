"""`fedledger org`: one organisation's own material, in its own folder, on its own host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.common import out

org_app = typer.Typer(
    help="Create one organisation's material and export its public part.", no_args_is_help=True
)

DEFAULT_ORG_DIR = Path("org")
OrgDir = Annotated[
    Path,
    typer.Option("--dir", envvar="FEDLEDGER_ORG_DIR", help="The organisation's own folder."),
]


@org_app.command()
def init(
    msp_id: Annotated[str, typer.Option("--msp-id", help="Its MSP ID, e.g. Org4MSP.")],
    domain: Annotated[str, typer.Option(help="Its DNS domain, e.g. org4.example.com.")],
    host: Annotated[
        list[str],
        typer.Option(help="A name or IP address of the peer's host (repeat for several)."),
    ],
    port: Annotated[int, typer.Option(help="The peer's port (the anchor peer's).")] = 7051,
    folder: OrgDir = DEFAULT_ORG_DIR,
) -> None:
    """Create one organisation's CAs, peer, Admin and User1 in its own folder.

    TLS certificates name the given hosts; private keys stay in the folder (mode 0600).
    """
    from fedledger.orgs.standalone import init_org

    org = init_org(folder, msp_id, domain, host, port)
    out.print(f"created {org.msp_id} ({org.domain}) in {folder}")
    out.print(f"anchor peer {org.anchor_peer[0]}:{org.anchor_peer[1]}; next: fedledger org export")


@org_app.command()
def export(
    output: Annotated[Path, typer.Option("--out", help="The JSON file to write.")],
    folder: OrgDir = DEFAULT_ORG_DIR,
) -> None:
    """Write the organisation's public part (MSP definition, anchor peer) as one JSON file."""
    from fedledger.orgs.export import OrgDefinition
    from fedledger.orgs.standalone import load_org

    definition = OrgDefinition.of(load_org(folder))
    definition.write(output)
    out.print(f"wrote {definition.msp_id}'s public definition to {output}")
