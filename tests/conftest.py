"""Shared test configuration: the closing line about tests that need a Fabric installation."""

from __future__ import annotations

import pytest

from fedledger.installation import InstallationError, find_installation
from fedledger.installation.discover import how_to_install


def fabric_installation_note() -> tuple[bool, str]:
    try:
        installation = find_installation()
    except InstallationError as error:
        return False, f"no Fabric installation: {error}"
    return True, f"Fabric {installation.version} at {installation.root}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found, where = fabric_installation_note()
    needing = [
        report
        for kind in ("passed", "failed", "skipped", "error")
        for report in terminalreporter.stats.get(kind, [])
        if getattr(report, "when", "call") in ("call", "setup")
        and "fabric" in getattr(report, "keywords", {})
    ]
    ran = [r for r in needing if r.outcome != "skipped"]
    skipped = [r for r in needing if r.outcome == "skipped"]
    terminalreporter.section("Fabric installation")
    terminalreporter.write_line(where)
    terminalreporter.write_line(
        f"tests that need Fabric: {len(ran)} ran, {len(skipped)} skipped"
        + ("" if found else f" (to run them: {how_to_install()})")
    )
