"""Fabric before 2.3 (2.2 is AWS Managed Blockchain's line): a system channel instead of channel
participation.

A 2.2 orderer has no admin endpoint (no `osnadmin`): it bootstraps from the genesis block of a
system channel, whose consortium lists the organisations that may create channels. A channel is
then created by a channel creation transaction (a config update against the consortium's
template) that an organisation's admin signs and broadcasts; the orderer answers with the
channel's genesis block, which the peers join. docs/fabric-2.2.md says what else differs.
"""

from __future__ import annotations

import copy
from typing import Any

from fedledger.network.configtx import PROFILE
from fedledger.network.peercli import FabricCommands
from fedledger.runtime import health

SYSTEM_CHANNEL = "system-channel"
SYSTEM_PROFILE = "FedledgerSystemChannel"
CONSORTIUM = "FedledgerConsortium"
SYSTEM_GENESIS = "system-genesis.block"
CHANNEL_TX = "channel.tx"


def with_system_channel(configtx: dict[str, Any]) -> dict[str, Any]:
    """The configtx.yaml document with a system channel profile (the ordering service and a
    consortium of the member organisations) and the channel profile turned into a channel
    creation template on that consortium (no Orderer section: the system channel's applies)."""
    document = copy.deepcopy(configtx)
    channel = document["Profiles"][PROFILE]
    members = channel["Application"]["Organizations"]
    document["Profiles"][SYSTEM_PROFILE] = {
        "Policies": channel["Policies"],
        "Capabilities": channel["Capabilities"],
        "Orderer": channel.pop("Orderer"),
        "Consortiums": {CONSORTIUM: {"Organizations": members}},
    }
    channel["Consortium"] = CONSORTIUM
    return document


def create_channel(commands: FabricCommands, timeout: float) -> None:
    """Create the channel from its creation transaction as the first organisation's admin and
    keep its genesis block, which the peers then join; nothing to do when the block exists.

    The orderer refuses the transaction until its Raft leader is elected: this retries until
    then. Raises runtime.health.NotReadyError with the orderer's last answer after `timeout`
    seconds.
    """
    layout, definition = commands.layout, commands.definition
    if layout.genesis_block.exists():
        return
    last: list[str] = []

    def created() -> bool:
        result = commands.peer(
            0,
            "channel", "create",
            "-c", definition.channel,
            "-f", str(layout.channel_dir / CHANNEL_TX),
            "--outputBlock", str(layout.genesis_block),
            *commands.orderer_args(),
            check=False,
        )  # fmt: skip
        last[:] = [(result.stderr or result.stdout).strip()[-600:]]
        return result.returncode == 0

    what = f"the orderer to create channel {definition.channel}"
    try:
        health.wait_for(created, what, timeout, interval=0.5)
    except health.NotReadyError as error:
        answer = "".join(last)
        raise health.NotReadyError(f"{error}; the orderer's last answer: {answer}") from error
