"""The Fabric CA client's errors: one root, `CaError`, for everything this package raises.

Each names the CA's URL and, where there is one, the identity the request was about, so a
message read on its own says which CA and which enrolment failed.
"""

from __future__ import annotations

from dataclasses import dataclass


class CaError(Exception):
    """Base of the errors this package raises."""


class CaInputError(CaError, ValueError):
    """An argument or a file given to the client is unusable (named in the message)."""


class CaUnreachableError(CaError):
    """No answer from the CA: nothing listens at the address, or the connection broke."""


class CaTlsError(CaError):
    """The TLS handshake failed: the CA's certificate is not signed by the given CA
    certificate, or does not name the host in the URL."""


class CaResponseError(CaError):
    """The CA answered something that is not Fabric CA's JSON envelope (another server at that
    address, or a proxy's error page)."""


@dataclass(frozen=True)
class CaMessage:
    """One entry of the `errors` list of Fabric CA's answer."""

    code: int
    message: str


class CaRefusedError(CaError):
    """The CA refused the request with its own error codes and messages.

    `codes` are Fabric CA's numeric codes (lib/caerrors), what callers branch on; `messages`
    the CA's texts verbatim.
    """

    def __init__(
        self, url: str, operation: str, identity: str, status: int, errors: list[CaMessage]
    ) -> None:
        self.url = url
        self.operation = operation
        self.identity = identity
        self.status = status
        self.errors = errors
        described = "; ".join(f"{e.message} (code {e.code})" for e in errors) or "no message"
        super().__init__(
            f"the Fabric CA at {url} refused to {operation} {identity!r} "
            f"(HTTP {status}): {described}"
        )

    @property
    def codes(self) -> list[int]:
        return [error.code for error in self.errors]


class CaAuthenticationError(CaRefusedError):
    """The CA did not accept the enrolment secret (or does not know the identity: Fabric CA
    gives both the same answer, so as not to tell a stranger which identities exist)."""

    def __str__(self) -> str:
        return (
            f"{super().__str__()}: the secret is wrong, the identity {self.identity!r} is not "
            f"registered at this CA, or it has used up its enrolments; check --id and --secret"
        )
