"""`fedledger org`: one organisation's own material, in its own folder, on its own host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.common import out
from fedledger.cli.process_status import print_process_status

org_app = typer.Typer(
    help="One organisation's own side: its material, peer, chaincode service and validator.",
    no_args_is_help=True,
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


Ledger = Annotated[
    str | None,
    typer.Option(
        help="fabric: run this organisation's own peer; embedded: the embedded ledger is every "
        "organisation's peer (default: what the last start was told, else asked of the orderer)."
    ),
]
Orderer = Annotated[
    str | None, typer.Option(help="The consortium's orderer, host:port (embedded: the ledger's).")
]
OrdererTlsCa = Annotated[
    Path | None, typer.Option(help="The CA certificate of the orderer's TLS server.")
]
OrdererName = Annotated[
    str | None,
    typer.Option(help="The name the orderer's TLS certificate carries (default: its host)."),
]
Channel = Annotated[str | None, typer.Option(help="The channel (default: fedledger).")]
Chaincode = Annotated[str | None, typer.Option(help="The chaincode's name (default: fedledger).")]
ListenHost = Annotated[
    str | None,
    typer.Option(help="The address the peer listens on (default 127.0.0.1; 0.0.0.0: every one)."),
]
ValidatorConfigOption = Annotated[
    Path | None,
    typer.Option(help="A validator configuration (docs/validator-config.md) to run beside."),
]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for each node to be ready.")]


@org_app.command()
def start(
    folder: OrgDir = DEFAULT_ORG_DIR,
    ledger: Ledger = None,
    orderer: Orderer = None,
    orderer_tls_ca: OrdererTlsCa = None,
    orderer_name: OrdererName = None,
    channel: Channel = None,
    chaincode: Chaincode = None,
    listen_host: ListenHost = None,
    validator_config: ValidatorConfigOption = None,
    timeout: Timeout = 120.0,
) -> None:
    """Run the organisation's own peer, chaincode service and validator, and write its profile.

    Joins the peer to the channel (genesis block from the orderer, as the organisation's admin)
    and writes profile.yaml in the folder from the channel's configuration. Starts only what is
    not running; options given once are kept for the next start (docs/multi-host.md).
    """
    from fedledger.orgnode.node import OrgNode
    from fedledger.orgnode.settings import StartSettings
    from fedledger.orgs.standalone import load_org

    org = load_org(folder)
    settings = StartSettings.kept(org.root).updated(
        ledger=ledger,
        orderer=orderer,
        orderer_tls_ca=orderer_tls_ca,
        orderer_name=orderer_name,
        channel=channel,
        chaincode=chaincode,
        listen_host=listen_host,
        validator_config=validator_config,
    )
    with out.status("starting") as status:
        report = OrgNode(org, settings).start(status.update, timeout)
    for line in report.lines:
        out.print(line, highlight=False)


@org_app.command()
def profile(folder: OrgDir = DEFAULT_ORG_DIR, timeout: Timeout = 60.0) -> None:
    """Write the organisation's connection profile again from the channel's configuration.

    For after another organisation joined or left; `org start` writes it the first time.
    """
    from fedledger.orgnode.profile import write_org_profile
    from fedledger.orgnode.settings import StartSettings
    from fedledger.orgs.standalone import load_org

    org = load_org(folder)
    written = write_org_profile(org, StartSettings.kept(org.root), timeout)
    out.print(f"wrote the connection profile {written}", highlight=False)


@org_app.command()
def status(folder: OrgDir = DEFAULT_ORG_DIR) -> None:
    """A table of what `org start` runs for the organisation: process, ports, health."""
    from fedledger.orgnode.node import OrgNode
    from fedledger.orgnode.settings import StartSettings
    from fedledger.orgs.standalone import load_org

    org = load_org(folder)
    rows = OrgNode(org, StartSettings.kept(org.root)).status()
    print_process_status(org.msp_id, folder, rows)


@org_app.command()
def stop(folder: OrgDir = DEFAULT_ORG_DIR) -> None:
    """Stop exactly the processes `org start` started for the organisation."""
    from fedledger.orgnode.node import OrgNode
    from fedledger.orgnode.settings import StartSettings
    from fedledger.orgs.standalone import load_org

    org = load_org(folder)
    stopped = OrgNode(org, StartSettings.kept(org.root)).stop()
    out.print(f"stopped {len(stopped)} processes" + (f": {', '.join(stopped)}" if stopped else ""))
