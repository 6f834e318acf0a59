"""The channelconfig package's errors: one root, `ChannelConfigError`, for everything it raises."""

from __future__ import annotations


class ChannelConfigError(Exception):
    """Base of the errors this package raises."""


class NoChangeError(ChannelConfigError):
    """The modified configuration equals the current one: there is nothing to update."""


class MembershipError(ChannelConfigError):
    """The organisation is already a member, or is not one, or cannot be removed."""


class UpdateFileError(ChannelConfigError):
    """A configuration update file cannot be read or is not for this channel."""


class UpdateRefusedError(ChannelConfigError):
    """An orderer's checks refuse the update: a read-set version is stale, a version is not the
    next one, or the signatures do not satisfy an element's modification policy."""


class PolicyNotSatisfiedError(UpdateRefusedError):
    """The signatures do not satisfy a modification policy; `missing` names the organisations
    whose admins could still sign to satisfy it."""

    def __init__(self, message: str, policy: str, missing: list[str]) -> None:
        super().__init__(message)
        self.policy = policy
        self.missing = missing


class BroadcastError(ChannelConfigError):
    """The orderer refused the envelope or could not be reached."""
