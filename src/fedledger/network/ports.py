"""Is a local port free to listen on? Checked before any node starts, so the error names it."""

from __future__ import annotations

import socket

LOCALHOST = "127.0.0.1"


def port_free(port: int, host: str = LOCALHOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
