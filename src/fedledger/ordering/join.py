"""`fedledger channel join-orderer`: the orderer joins a channel by its genesis block, through
Fabric's `osnadmin` as the ordering organisation's admin with its own TLS client pair (the
orderer's admin listener accepts clients of the organisation's TLS CA only)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fabric_protos.common import common_pb2
from google.protobuf.message import DecodeError

from fedledger.installation import Installation
from fedledger.network.nodeconfig import LOCALHOST
from fedledger.ordering.errors import OrdererNodeError, OrderingError
from fedledger.ordering.folder import OrderingOrg


def channel_of(block_file: Path) -> str:
    """The channel a genesis block is of; raises OrderingError for a file that is not one."""
    try:
        block = common_pb2.Block.FromString(block_file.read_bytes())
        envelope = common_pb2.Envelope.FromString(block.data.data[0])
        payload = common_pb2.Payload.FromString(envelope.payload)
        header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    except FileNotFoundError:
        raise OrderingError(
            f"no genesis block at {block_file}: write it with `fedledger channel create`"
        ) from None
    except (OSError, IndexError, ValueError, DecodeError) as error:
        raise OrderingError(f"{block_file} is not a block: {error}") from None
    if block.header.number != 0 or header.type != common_pb2.CONFIG or not header.channel_id:
        raise OrderingError(
            f"{block_file} is not a channel's genesis block (block {block.header.number}): "
            "join with the block `fedledger channel create` wrote"
        )
    return str(header.channel_id)


def _osnadmin(
    org: OrderingOrg, installation: Installation, *args: str
) -> subprocess.CompletedProcess[str]:
    admin = org.layout.admin
    command = [
        str(installation.binary("osnadmin")), *args,
        "-o", f"{LOCALHOST}:{org.ports.admin}",
        "--ca-file", str(org.layout.tlsca_cert),
        "--client-cert", str(admin.tls_cert("client")),
        "--client-key", str(admin.tls_key("client")),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def joined_channels(org: OrderingOrg, installation: Installation) -> list[str]:
    """The channels the orderer serves; raises OrdererNodeError when osnadmin fails."""
    listed = _osnadmin(org, installation, "channel", "list")
    if listed.returncode != 0:
        raise OrdererNodeError(
            f"osnadmin could not list {org.orderer.name}'s channels (is it started? "
            f"`fedledger orderer start`): {(listed.stderr or listed.stdout).strip()[-400:]}"
        )
    document = json.loads(listed.stdout[listed.stdout.index("{") :])
    return [str(c["name"]) for c in document.get("channels") or []]


def join(org: OrderingOrg, installation: Installation, block_file: Path) -> tuple[str, bool]:
    """Join the orderer to the block's channel unless it has; the channel and whether it joined
    now. Raises OrderingError for a file that is not a genesis block and OrdererNodeError when
    osnadmin fails (its own words)."""
    channel = channel_of(block_file)
    if channel in joined_channels(org, installation):
        return channel, False
    joined = _osnadmin(
        org, installation, "channel", "join", "--channelID", channel,
        "--config-block", str(block_file),
    )  # fmt: skip
    if joined.returncode != 0 or "201" not in joined.stdout:
        raise OrdererNodeError(
            f"osnadmin channel join of {channel} on {org.orderer.name} failed: "
            f"{(joined.stdout + joined.stderr).strip()[-600:]}"
        )
    return channel, True
