"""The orgnode package's one root error."""

from __future__ import annotations


class OrgNodeError(RuntimeError):
    """The organisation's node cannot be started, read or stopped; the message says what to do."""


class StartSettingsError(OrgNodeError, ValueError):
    """An `org start` setting is missing or wrong (given now or kept from the last start)."""


class PeerExitedError(OrgNodeError):
    """The organisation's peer exited while starting; the message carries its log's tail."""
