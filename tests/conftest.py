"""Shared test configuration: the closing line about tests that need a Fabric installation, and
what running under pytest-xdist needs (docs/testing.md)."""

from __future__ import annotations

import os

import pytest

from fedledger.installation import InstallationError, find_installation
from fedledger.installation.discover import how_to_install

# The modules that wait longest start first, so that with `--dist loadfile` they overlap the
# many short ones instead of ending the run alone (durations in docs/testing.md).
LONGEST_FIRST = (
    "test_event_keepalive.py",
    "test_validator.py",
    "test_examples.py",
    "test_fresh_clone.py",
    "test_network_validators.py",
    "test_chaincode_upgrade.py",
    "test_serving.py",
    "test_hostile_proposals.py",
)


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if worker.startswith("gw") and count:
        # Each worker picks its networks' port blocks from its own slice of the range.
        from fedledger.runtime.ports import SHARE_VARIABLE

        os.environ[SHARE_VARIABLE] = f"{worker[2:]}/{count}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


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
