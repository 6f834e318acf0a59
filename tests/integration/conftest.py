"""Running ledgers for integration tests: every backend available, one network per session.

`ledger` is parametrised over the backends: `embedded` always, `fabric` when a Fabric
installation is found (otherwise that parameter skips, saying how to get one), and `fabric-2.2`
(a native Fabric 2.2.15 network over the older peer protocol, as AWS Managed Blockchain runs)
for the modules marked `fabric22` only, where a 2.2.15 installation is found
(docs/fabric-2.2.md). Each network
runs in its own temporary folder on a free block of ports.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fedledger.installation import InstallationError, find_installation
from fedledger.installation.discover import how_to_install
from fedledger.network.native import NativeNetwork
from fedledger.profile import ConnectionProfile
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base


def fabric_installed() -> bool:
    try:
        find_installation()
    except InstallationError:
        return False
    return True


FABRIC_22 = "2.2.15"
NODE_12 = Path(
    os.environ.get("FEDLEDGER_NODE12", "~/.cache/fedledger/node/12.22.12/bin/node")
).expanduser()


def fabric22_installed() -> bool:
    try:
        find_installation(FABRIC_22)
    except InstallationError:
        return False
    return True


def skip_without_fabric() -> None:
    if not fabric_installed():
        pytest.skip(f"needs a Fabric installation: {how_to_install()}")


@dataclass
class Ledger:
    """A running ledger: its connection profile, and what a test may do to its nodes."""

    backend: str
    profile: ConnectionProfile
    network: Any
    definition: NetworkDefinition

    def peer_cli(
        self, msp_id: str, *args: str, log_level: str = "WARNING"
    ) -> subprocess.CompletedProcess[str]:
        """Fabric's `peer` command as that organisation's admin (fabric backend only)."""
        if not isinstance(self.network, NativeNetwork):
            pytest.skip("the peer CLI needs the fabric backend")
        index, _ = self.definition.member(msp_id)
        return self.network.commands.peer(index, *args, check=False, log_level=log_level)

    def restart_peer(self, msp_id: str, kill: bool = True) -> None:
        """Kill (SIGKILL) or stop an organisation's peer and start it again.

        The embedded ledger is every organisation's peer at once: the whole process restarts.
        """
        if not isinstance(self.network, NativeNetwork):
            if kill:
                self.network.kill()
            self.network.down()
            self.network.up()
            return
        from fedledger.runtime import processes

        index, _ = self.definition.member(msp_id)
        name = self.network.commands.peer_name(index)
        record = self.network.node_record(name)
        if kill:
            processes.kill(record)
        else:
            processes.stop(record)
        self.network.restart_node(name)


def start_ledger(backend: str, run_dir: Path) -> Ledger:
    definition = NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), batch_timeout=0.25
    )
    network: Any
    if backend == "fabric":
        network = NativeNetwork(definition, run_dir, find_installation())
    elif backend == "fabric-2.2":
        if NODE_12.exists():  # fabric-nodeenv 2.2's runtime, for the chaincode's 2.2 build
            os.environ["FEDLEDGER_CHAINCODE_NODE"] = str(NODE_12)
        network = NativeNetwork(definition, run_dir, find_installation(FABRIC_22))
    else:
        from fedledger.embedded import EmbeddedLedger

        network = EmbeddedLedger(definition, run_dir)
    try:
        profile = network.up()
    except BaseException:
        network.down()
        raise
    return Ledger(backend, profile, network, definition)


def _backends() -> list[Any]:
    fabric_marks = [pytest.mark.fabric]
    if not fabric_installed():
        fabric_marks.append(pytest.mark.skip(reason=f"needs Fabric: {how_to_install()}"))
    fabric22_marks = [pytest.mark.fabric, pytest.mark.fabric22]
    if not fabric22_installed():
        fabric22_marks.append(
            pytest.mark.skip(reason=f"needs Fabric {FABRIC_22}: {how_to_install(FABRIC_22)}")
        )
    return [
        pytest.param("embedded", id="embedded"),
        pytest.param("fabric", id="fabric", marks=fabric_marks),
        pytest.param("fabric-2.2", id="fabric-2.2", marks=fabric22_marks),
    ]


def module_mark_names(item: pytest.Item) -> set[str]:
    """The marks of the item's module itself (its `pytestmark`: one mark or a list), not those
    its parameters carry: the fabric-2.2 parameter carries `fabric22` wherever it runs."""
    marks = getattr(getattr(item, "module", None), "pytestmark", [])
    return {mark.name for mark in (marks if isinstance(marks, list) else [marks])}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fabric-2.2 backend (of `ledger` or of a test's own backend parameter) runs only in the
    modules marked `fabric22` (the client and registry suites); elsewhere it is deselected
    (reported in the summary), since those tests use what 2.2 lacks (the Gateway, channel
    participation)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_22 = callspec is not None and any(
            value == "fabric-2.2" for value in callspec.params.values()
        )
        opted_in = "fabric22" in module_mark_names(item)
        (dropped if on_22 and not opted_in else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


class LedgerPool:
    """One running ledger per backend for the whole session, started when first asked for."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.running: dict[str, Ledger] = {}

    def get(self, backend: str) -> Ledger:
        if backend not in self.running:
            run_dir = self.tmp_path_factory.mktemp(f"ledger-{backend}")
            self.running[backend] = start_ledger(backend, run_dir)
        return self.running[backend]

    def stop_all(self) -> None:
        for running in self.running.values():
            running.network.down(purge=False)


@pytest.fixture(scope="session")
def ledger_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerPool]:
    pool = LedgerPool(tmp_path_factory)
    yield pool
    pool.stop_all()


@pytest.fixture(scope="session", params=_backends())
def ledger(request: pytest.FixtureRequest, ledger_pool: LedgerPool) -> Ledger:
    """Each backend available in turn: embedded always, fabric when installed."""
    return ledger_pool.get(request.param)


@pytest.fixture(scope="session")
def fabric_ledger(ledger_pool: LedgerPool) -> Ledger:
    """The fabric backend alone (the same network `ledger` gives for fabric), for tests of
    Fabric itself: its peer CLI, its nodes."""
    skip_without_fabric()
    return ledger_pool.get("fabric")
