"""A task's complete history for an auditor: collected, exported and verified against the ledger.

    with open_audit_ledger(profile, "Org1MSP") as ledger:
        text = to_json(task_id, ledger.channel, ledger.chaincode, ledger.rows(task_id))
        verification = verify(read_export(path), ledger)

docs/governance.md describes the events and both export formats.
"""

from fedledger.audit.errors import AuditError, ExportFileError
from fedledger.audit.export import COLUMNS, FORMAT, VERSION, Row, read_export, to_csv, to_json
from fedledger.audit.ledger import AuditLedger, Verification, open_audit_ledger, verify
from fedledger.audit.trail import Event, change_subject, iso, task_events

__all__ = [
    "COLUMNS",
    "FORMAT",
    "VERSION",
    "AuditError",
    "AuditLedger",
    "Event",
    "ExportFileError",
    "Row",
    "Verification",
    "change_subject",
    "iso",
    "open_audit_ledger",
    "read_export",
    "task_events",
    "to_csv",
    "to_json",
    "verify",
]
