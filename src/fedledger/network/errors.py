"""The native network's errors, one root for every command that drives it."""

from __future__ import annotations


class NetworkError(RuntimeError):
    """The network cannot be started, or is not in the state a command needs."""


class AlreadyRunningError(NetworkError):
    pass
