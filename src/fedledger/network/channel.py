"""The channel: organisation material and the genesis block from `configtxgen`, orderers joined
with `osnadmin` (channel participation, no system channel), peers joined with the block. On
Fabric 2.2 the orderers start from a system channel instead (`system_channel.py`).

Every step is idempotent, so `up` after `down` or a crash finds what is already done.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import structlog
import yaml

from fedledger.network import system_channel
from fedledger.network.configtx import PROFILE, Host, build_configtx, on_this_host
from fedledger.network.errors import NetworkError
from fedledger.network.peercli import FabricCommands
from fedledger.orgs import generate_material

log = structlog.get_logger(__name__)


def write_material(commands: FabricCommands) -> None:
    """Organisation material, kept across `down`/`up`: created only where missing."""
    definition, layout = commands.definition, commands.layout
    layout.root.mkdir(parents=True, exist_ok=True)
    created = generate_material(layout.crypto, definition.members, definition.ordering)
    if created:
        log.info("organisation material created", domains=created)


def bootstrap_block(commands: FabricCommands) -> Path:
    """The block the orderers start from: the channel's genesis block, or on Fabric 2.2 the
    system channel's."""
    if commands.installation.channel_participation:
        return commands.layout.genesis_block
    return commands.layout.channel_dir / system_channel.SYSTEM_GENESIS


def write_genesis_block(commands: FabricCommands, host: Host = on_this_host) -> None:
    """Write the channel's genesis block with configtxgen, its nodes reached at `host` (default:
    127.0.0.1), or on Fabric 2.2 the system channel's genesis block and the channel's creation
    transaction; raises NetworkError with configtxgen's own error when it fails.
    """
    definition, layout = commands.definition, commands.layout
    members = [commands.org_layout(i) for i in range(len(definition.members))]
    configtx = build_configtx(definition, commands.orderer_org, members, host)
    folder = layout.channel_dir
    folder.mkdir(parents=True, exist_ok=True)
    if commands.installation.channel_participation:
        (folder / "configtx.yaml").write_text(yaml.safe_dump(configtx, sort_keys=False))
        _configtxgen(commands, PROFILE, definition.channel, "-outputBlock", layout.genesis_block)
        return
    configtx = system_channel.with_system_channel(configtx)
    (folder / "configtx.yaml").write_text(yaml.safe_dump(configtx, sort_keys=False))
    system = system_channel.SYSTEM_PROFILE
    block = bootstrap_block(commands)
    _configtxgen(commands, system, system_channel.SYSTEM_CHANNEL, "-outputBlock", block)
    transaction = folder / system_channel.CHANNEL_TX
    _configtxgen(commands, PROFILE, definition.channel, "-outputCreateChannelTx", transaction)


def _configtxgen(
    commands: FabricCommands, profile: str, channel_id: str, output: str, path: Path
) -> None:
    result = subprocess.run(
        [
            str(commands.installation.binary("configtxgen")),
            "-profile", profile,
            "-channelID", channel_id,
            output, str(path),
            "-configPath", str(commands.layout.channel_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise NetworkError(f"configtxgen failed: {result.stderr.strip()[-800:]}")


def join_orderers(commands: FabricCommands) -> None:
    definition = commands.definition
    for i in range(definition.ordering.orderers):
        listed = commands.osnadmin(
            i, "channel", "list", "--channelID", definition.channel, check=False
        )
        if listed.returncode == 0 and '"name"' in listed.stdout:
            continue
        commands.osnadmin(
            i,
            "channel", "join",
            "--channelID", definition.channel,
            "--config-block", str(commands.layout.genesis_block),
        )  # fmt: skip


def join_peers(commands: FabricCommands) -> None:
    for i in range(len(commands.definition.members)):
        channels = commands.peer(i, "channel", "list").stdout
        if commands.definition.channel in channels.split():
            continue
        commands.peer(i, "channel", "join", "-b", str(commands.layout.genesis_block))
