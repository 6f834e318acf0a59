"""Is a local port free to listen on? Checked before any node starts, so the error names it."""

from __future__ import annotations

import socket

LOCALHOST = "127.0.0.1"


def _bindable(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _listening(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def port_free(port: int, host: str = LOCALHOST) -> bool:
    """True unless another program listens there. Connections a killed node left closing
    (FIN_WAIT, TIME_WAIT) can refuse a test bind for a minute; the node itself binds
    through them, so only a listener counts as "in use"."""
    return _bindable(port, host) or not _listening(port, host)
