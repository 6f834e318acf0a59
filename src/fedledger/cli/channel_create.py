"""`fedledger channel create` without --legacy (channel participation) and `channel
join-orderer`: a channel from the organisations' exported files, on an ordering service without
a system channel (Fabric 2.3+). Kept apart from channel.py's update commands and from
`create --legacy` (legacy_channel.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.common import out

DEFAULT_BATCH_TIMEOUT = 0.5
DEFAULT_MAX_MESSAGE_COUNT = 100


def create_from_files(
    org_files: list[Path],
    orderer_org: Path,
    channel: str,
    block_out: Path,
    batch_timeout: float = DEFAULT_BATCH_TIMEOUT,
    max_message_count: int = DEFAULT_MAX_MESSAGE_COUNT,
) -> list[str]:
    """Write `channel`'s genesis block from the exported files; the members' MSP IDs.

    Raises OrgFileError or OrdererFileError for an unreadable file and OrderingError for no
    member or an MSP ID given twice.
    """
    from fedledger.ordering.export import read_orderer_file
    from fedledger.ordering.genesis import consortium_config, genesis_block
    from fedledger.orgs.export import read_org_file

    orderer = read_orderer_file(orderer_org)
    members = [read_org_file(path) for path in org_files]
    config = consortium_config(orderer, members, batch_timeout, max_message_count)
    block_out.parent.mkdir(parents=True, exist_ok=True)
    block_out.write_bytes(genesis_block(channel, config).SerializeToString())
    return [m.msp_id for m in members]


OrdererOrgOption = Annotated[
    Path | None,
    typer.Option(help="The ordering organisation's file (orderer export); not with --legacy."),
]
LegacyAsOption = Annotated[
    str | None,
    typer.Option(
        "--as", envvar="FEDLEDGER_ORG", help="With --legacy: act as this organisation's admin."
    ),
]
BatchTimeoutOption = Annotated[
    float, typer.Option(help="Seconds the orderer waits to fill a block; not with --legacy.")
]
NO_ORDERER_ORG = (
    "give --orderer-org FILE, the ordering organisation's file (`fedledger orderer export`), "
    "to write the genesis block for channel participation (Fabric 2.3+); or --legacy and --as "
    "to create the channel by a creation transaction on a system channel (Fabric 2.2)"
)


def require_as(as_org: str | None) -> str:
    """`--as`, which `create --legacy` needs; exits with an error naming it when missing."""
    from fedledger.cli.failures import fail

    if as_org is None:
        fail("--legacy needs --as ORG: the member admin who signs the channel's creation")
    return as_org


def create_participation(
    org_files: list[Path],
    orderer_org: Path | None,
    channel: str | None,
    block_out: Path | None,
    batch_timeout: float,
) -> None:
    """`channel create` without --legacy: write the genesis block and say what comes next.

    Raises what create_from_files raises; exits with an error when --orderer-org is missing.
    """
    from fedledger.cli.failures import fail

    if orderer_org is None:
        fail(NO_ORDERER_ORG)
    name = channel or "fedledger"
    target = block_out or Path(f"{name}.block")
    members = create_from_files(org_files, orderer_org, name, target, batch_timeout)
    out.print(
        f"wrote the genesis block of channel {name} ({', '.join(members)}) to {target}; "
        f"next: the ordering organisation runs `fedledger channel join-orderer {target}`",
        highlight=False,
    )


def join_orderer(
    block: Annotated[Path, typer.Argument(help="The channel's genesis block (channel create).")],
    folder: Annotated[
        Path,
        typer.Option(
            "--dir", envvar="FEDLEDGER_ORDERER_DIR", help="The ordering organisation's folder."
        ),
    ] = Path("orderer"),
) -> None:
    """Join the ordering organisation's orderer to a channel by its genesis block (osnadmin)."""
    from fedledger.installation import find_installation
    from fedledger.ordering.folder import load_orderer
    from fedledger.ordering.join import join

    org = load_orderer(folder)
    channel, now = join(org, find_installation(), block)
    host, port = org.endpoint
    out.print(
        f"{org.orderer.name} joined channel {channel}; members start with `fedledger org start "
        f"--orderer {host}:{port} --orderer-tls-ca <orderer export's TLS CA>`"
        if now
        else f"{org.orderer.name} has joined channel {channel} already",
        highlight=False,
    )
