"""`fedledger channel create` (channel participation) and `channel join-orderer`: a channel
from the organisations' exported files, on an ordering service without a system channel
(Fabric 2.3+). Kept apart from channel.py's update commands and from `create --legacy`."""

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


def create(
    org_files: Annotated[
        list[Path], typer.Argument(help="Each member organisation's file (org export).")
    ],
    orderer_org: Annotated[
        Path, typer.Option(help="The ordering organisation's file (orderer export).")
    ],
    channel: Annotated[str, typer.Option(help="The new channel's name.")] = "fedledger",
    block_out: Annotated[
        Path, typer.Option("--block-out", "--out", help="Where to write its genesis block.")
    ] = Path("genesis.block"),
    batch_timeout: Annotated[
        float, typer.Option(help="Seconds the orderer waits to fill a block.")
    ] = DEFAULT_BATCH_TIMEOUT,
) -> None:
    """Write a new channel's genesis block from the organisations' exported files.

    The same policies, capabilities, Raft consenters and anchor peers as `network up`'s channel
    (docs/consortium.md). Then the ordering organisation runs `channel join-orderer`.
    """
    members = create_from_files(org_files, orderer_org, channel, block_out, batch_timeout)
    out.print(
        f"wrote the genesis block of channel {channel} ({', '.join(members)}) to {block_out}; "
        f"next: the ordering organisation runs `fedledger channel join-orderer {block_out}`",
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
