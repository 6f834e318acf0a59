"""What happened in a task, for people: a timeline of proposals, each organisation's score of
each accepted model, the cross-site matrix and the audit trail (docs/dashboard.md).

    with open_audit_ledger(profile, "Org1MSP") as ledger:
        html = report_page(read_view(ledger, "churn"))

Served live at `/dashboard` by `fedledger serve` (`dashboard_router`), written as one file by
`fedledger report`.
"""

from fedledger.dashboard.render import report_page
from fedledger.dashboard.views import TaskView, build_view, read_view

__all__ = ["TaskView", "build_view", "read_view", "report_page"]
