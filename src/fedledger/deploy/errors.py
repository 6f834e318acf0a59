"""The deploy package's one root error."""

from __future__ import annotations


class DeployError(RuntimeError):
    """A lifecycle step failed or cannot be taken yet; the message says which and what to do."""


class PeerCommandError(DeployError):
    """Fabric's `peer` command failed; the message carries the step and what the peer said."""


class NotReadyToCommitError(DeployError):
    """Too few organisations have approved the definition for the lifecycle policy."""

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing
