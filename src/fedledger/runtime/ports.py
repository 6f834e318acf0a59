"""Is a local port free to listen on? Checked before any node starts, so the error names it."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Iterable
from pathlib import Path

from fedledger.runtime.errors import PortsUnavailableError

LOCALHOST = "127.0.0.1"


def _bindable(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def listening(port: int, host: str = LOCALHOST) -> bool:
    """Something accepts connections on `port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def port_free(port: int, host: str = LOCALHOST) -> bool:
    """True unless another program listens there. Connections a killed node left closing
    (FIN_WAIT, TIME_WAIT) can refuse a test bind for a minute; the node itself binds
    through them, so only a listener counts as "in use"."""
    return _bindable(port, host) or not listening(port, host)


def refuse_ports_in_use(wanted: Iterable[tuple[int, str]], error: type[Exception]) -> None:
    """Return if every port is free to listen on.

    Raises `error` (the caller's package's own error) naming the first port, and what it is
    for, that another program listens on.
    """
    for port, purpose in wanted:
        if not port_free(port):
            raise error(
                f"port {port} ({purpose}) is in use by another program: "
                "stop it, or choose another port base with --port-base"
            )


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports: a listener chosen inside it can
    find its port taken by some client's connection at any moment."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


# Processes that pick port blocks side by side (pytest-xdist workers) each get their own slice
# of the range: a random pick alone lets two of them choose one block before either binds it.
SHARE_VARIABLE = "FEDLEDGER_PORT_SHARE"


def _slice(lowest: int, top: int) -> tuple[int, int]:
    """This process's ports [low, high) of [lowest, top), from FEDLEDGER_PORT_SHARE="K/N"."""
    try:
        index, count = (int(part) for part in os.environ.get(SHARE_VARIABLE, "").split("/"))
    except ValueError:
        return lowest, top
    if not 0 <= index < count:
        return lowest, top
    width = (top - lowest) // count
    return lowest + index * width, lowest + (index + 1) * width


def free_port_base(span: int = 200, lowest: int = 20000) -> int:
    """A base for a whole block of `span` free ports, below the ephemeral range (for tests and
    benchmarks that start several networks side by side). With FEDLEDGER_PORT_SHARE="K/N" set,
    only the K-th of N equal slices of that range is used.

    Raises PortsUnavailableError when no such block is free below the ephemeral range.
    """
    low, top = _slice(lowest, ephemeral_range()[0])
    highest = top - span
    if highest < low:
        raise PortsUnavailableError(f"no room for {span} ports between {low} and {top}")
    for _ in range(50):
        base = random.randrange(low, highest + 1, span)  # noqa: S311 (not a secret)
        if all(_bindable(port, LOCALHOST) for port in range(base, base + span)):
            return base
    raise PortsUnavailableError(f"no free block of {span} ports found below the ephemeral range")
