"""The embedded ledger: one process that speaks Fabric's Gateway protocol, runs the real
chaincode through Fabric's chaincode shim, and keeps a hash-chained SQLite ledger.

For one machine (development, CI, demos); multi-party deployments run Fabric. See
docs/embedded-ledger.md. What it raises to its callers derives from `errors.EmbeddedLedgerError`.
"""

from fedledger.embedded.errors import EmbeddedLedgerError
from fedledger.embedded.ledger import EmbeddedLedger
from fedledger.embedded.verify import VerifyReport, verify_ledger

__all__ = ["EmbeddedLedger", "EmbeddedLedgerError", "VerifyReport", "verify_ledger"]
