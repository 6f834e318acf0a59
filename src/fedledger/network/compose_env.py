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
from collections.abc import Iterable
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


def flatten(settings: dict[str, Any], parent: str = "") -> dict[str, Any]:
    """{"peer": {"id": x}} → {"peer.id": x}; lists are values."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        path = f"{parent}.{key}" if parent else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def apply_environment(
    flat: dict[str, Any], env: dict[str, str], prefix: str, known: Iterable[str] = ()
) -> dict[str, Any]:
    """Flattened settings with the `prefix`_ variables of `env` over them, as Fabric reads a
    configuration file and its environment; a variable may set a key of `flat` or of `known`.
    Raises KeyError naming a variable that names none of them (Fabric would ignore it: a
    misspelt setting)."""
    by_env_name = {env_name(prefix, key): key for key in [*known, *flat]}
    merged = dict(flat)
    for variable, value in env.items():
        if not variable.startswith(f"{prefix}_"):
            continue
        if variable not in by_env_name:
            raise KeyError(f"{variable} names no setting of the configuration file")
        merged[by_env_name[variable]] = value
    return merged
