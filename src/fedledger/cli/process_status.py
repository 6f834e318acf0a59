"""The table `org status` and `orderer status` print of the processes their `start` recorded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fedledger.cli.common import out
from fedledger.runtime.status import NodeStatus


def print_process_status(msp_id: str, folder: Path, rows: Sequence[NodeStatus]) -> None:
    """One line per recorded process with its health, or that nothing was started."""
    from rich.table import Table

    if not rows:
        out.print(f"nothing started for {msp_id} in {folder}")
        return
    table = Table(title=f"{msp_id} in {folder}")
    for column in ("process", "kind", "ports", "pid", "health"):
        table.add_column(column)
    for row in rows:
        health = "healthy" if row.healthy else ("unhealthy" if row.running else "stopped")
        table.add_row(row.name, row.kind, row.ports, str(row.pid or "-"), health)
    out.print(table)
