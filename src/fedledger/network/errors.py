"""The native network's errors: one root, `NetworkError`, for everything this package raises.

A validator that exits while starting is a `runtime.health.NotReadyError` (it was awaited and
never served), like any node that does not become ready.
"""

from __future__ import annotations


class NetworkError(RuntimeError):
    """The network cannot be started, or is not in the state a command needs."""


class AlreadyRunningError(NetworkError):
    """Every node of the network is already running; nothing was started."""
