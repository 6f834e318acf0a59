"""Fabric settings as a container's environment: which settings docker-compose gives a node in
its environment rather than in its mounted configuration file, and the names Fabric reads them
under.

Fabric reads `CORE_<KEY>` (peer) and `ORDERER_<KEY>` (orderer) over its configuration file: the
key's path upper-cased with `_` for `.` (peer.gossip.bootstrap ↔ CORE_PEER_GOSSIP_BOOTSTRAP).
The settings that name the node and its addresses go in the environment, so the compose file
shows where each node is; everything else stays in the node's file.
"""

from __future__ import annotations

import copy
from typing import Any

PEER_PREFIX = "CORE"
ORDERER_PREFIX = "ORDERER"

PEER_ENV_KEYS = (
    "peer.id",
    "peer.localMspId",
    "peer.listenAddress",
    "peer.address",
    "peer.chaincodeListenAddress",
    "peer.chaincodeAddress",
    "peer.gossip.bootstrap",
    "peer.gossip.endpoint",
    "peer.gossip.externalEndpoint",
    "operations.listenAddress",
)
ORDERER_ENV_KEYS = (
    "General.LocalMSPID",
    "General.ListenAddress",
    "General.ListenPort",
    "Admin.ListenAddress",
    "Operations.ListenAddress",
)


def env_name(prefix: str, key: str) -> str:
    """The environment variable Fabric reads `key` (a dotted path) from."""
    return f"{prefix}_{key.replace('.', '_').upper()}"


def split_settings(
    settings: dict[str, Any], keys: tuple[str, ...], prefix: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """(`settings` without `keys`, those keys as environment variables). Raises KeyError when
    `settings` lacks one of `keys` (a programming error: the key lists follow nodeconfig.py)."""
    rest = copy.deepcopy(settings)
    env: dict[str, str] = {}
    for key in keys:
        *parents, leaf = key.split(".")
        holder = rest
        for part in parents:
            holder = holder[part]
        env[env_name(prefix, key)] = str(holder.pop(leaf))
    return rest, env
