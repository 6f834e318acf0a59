"""The embedded ledger's errors for its callers, under one root, `EmbeddedLedgerError`.

The server's own errors while it answers a request (a proposal it refuses, a message it cannot
parse) become gRPC status codes at its boundary and never reach a caller as these.
"""

from __future__ import annotations


class EmbeddedLedgerError(RuntimeError):
    """The embedded ledger cannot be started, or is already running."""


class EmbeddedAlreadyRunningError(EmbeddedLedgerError):
    """A server of this run folder is already running; nothing was started."""


class ChaincodeNotBuiltError(EmbeddedLedgerError):
    """The chaincode folder has no build output or no installed dependencies."""
