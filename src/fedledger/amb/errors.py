"""AWS Managed Blockchain errors: one root, `AmbError`, for everything this package raises.

Each names the AMB operation or resource and, where AWS answered, AWS's error code
(`ResourceLimitExceededException`, …): callers branch on the code, never on AWS's English text.
"""

from __future__ import annotations


class AmbError(Exception):
    """Base of the errors this package raises."""


class AmbInputError(AmbError, ValueError):
    """An option given to a command is unusable (named in the message, with the rule)."""


class AmbRequestError(AmbError):
    """AWS refused or failed a Managed Blockchain call.

    `code` is AWS's error code (the `Error.Code` of the answer), `operation` the API call.
    """

    def __init__(self, operation: str, code: str, message: str, advice: str = "") -> None:
        self.operation = operation
        self.code = code
        self.aws_message = message
        text = f"AWS Managed Blockchain refused {operation}: {code}: {message}"
        super().__init__(f"{text}; {advice}" if advice else text)


class AmbMemberLimitError(AmbRequestError):
    """The network holds as many members (or a member as many nodes) as its edition allows."""


class AmbInvitationError(AmbError):
    """No usable invitation: none for the network, or it was rejected, expired or used."""


class AmbWaitError(AmbError):
    """A network, member or node did not become AVAILABLE: creation failed, or the wait ran
    out. `status` is the last status AMB reported."""

    def __init__(self, message: str, status: str) -> None:
        self.status = status
        super().__init__(message)
