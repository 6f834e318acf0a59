"""Choosing a ledger backend and remembering which one (and which settings) a network runs.

`--ledger auto` picks `fabric` when an installation is found and `embedded` otherwise, and the
caller always says which. The choice and the effective definition are written to the run folder
so that `down`, `status` and the tests find the same network again.

Layering: `fedledger.runtime` (definition, ports, run folder, recorded processes, readiness,
status rows) is the floor; `fedledger.network` (native Fabric) and `fedledger.embedded` (the
embedded ledger) each stand on it and never import each other; this module, one floor up, is
the only place that knows both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from fedledger.installation import FABRIC_VERSION, InstallationError, find_installation
from fedledger.runtime.definition import DEFAULT_DEFINITION, NetworkDefinition
from fedledger.runtime.status import NodeStatus

LedgerKind = Literal["fabric", "embedded"]
RECORD = "network.json"


class BackendError(RuntimeError):
    """No network in the run folder, or the asked-for backend cannot run here; the root of what
    this module raises. The backends' own errors (`network.errors.NetworkError`,
    `embedded.errors.EmbeddedLedgerError`) pass through it unchanged."""


class LedgerBackend(Protocol):
    """What `fedledger network` needs of a backend; NativeNetwork and EmbeddedLedger are two."""

    def up(self, step: Callable[[str], None] | None = ..., timeout: float = ...) -> Any: ...

    def down(self, purge: bool = False) -> list[str]: ...

    def status(self) -> list[NodeStatus]: ...

    def running(self) -> bool: ...


@dataclass(frozen=True)
class Choice:
    ledger: LedgerKind
    reason: str


def choose_ledger(requested: str, fabric_version: str = FABRIC_VERSION) -> Choice:
    """Raises BackendError when `requested` is not auto, fabric or embedded, or is fabric and
    no usable installation of `fabric_version` is found."""
    if requested == "embedded":
        return Choice("embedded", "asked for with --ledger embedded")
    try:
        installation = find_installation(fabric_version)
    except InstallationError as error:
        if requested == "fabric":
            raise BackendError(str(error)) from error
        return Choice("embedded", f"no Fabric installation found ({error})")
    if requested not in ("auto", "fabric"):
        raise BackendError(f"--ledger must be auto, fabric or embedded, not {requested!r}")
    return Choice("fabric", f"Fabric {installation.version} found at {installation.root}")


@dataclass(frozen=True)
class NetworkRecord:
    ledger: LedgerKind
    definition_path: Path
    overrides: dict[str, Any]

    def definition(self) -> NetworkDefinition:
        """Raises DefinitionError when the definition file or the overrides are unusable."""
        return NetworkDefinition.load(self.definition_path).with_overrides(**self.overrides)

    def save(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        document = {
            "ledger": self.ledger,
            "definition": str(self.definition_path),
            "overrides": self.overrides,
        }
        (run_dir / RECORD).write_text(json.dumps(document, indent=2))

    @classmethod
    def load(cls, run_dir: Path) -> NetworkRecord:
        """Raises BackendError when `run_dir` holds no network."""
        path = run_dir / RECORD
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            raise BackendError(
                f"no network in {run_dir}: start one with `fedledger network up`"
            ) from None
        return cls(document["ledger"], Path(document["definition"]), document["overrides"])


def open_backend(record: NetworkRecord, run_dir: Path) -> LedgerBackend:
    """The backend of `record`, not started.

    Raises DefinitionError when its definition is unusable, InstallationError when it is a
    fabric network and no usable installation is found.
    """
    definition = record.definition()
    if record.ledger == "fabric":
        from fedledger.network.native import NativeNetwork

        return NativeNetwork(definition, run_dir, find_installation(definition.fabric_version))
    from fedledger.embedded import EmbeddedLedger

    backend: LedgerBackend = EmbeddedLedger(definition, run_dir)
    return backend


def resolve_record(
    run_dir: Path,
    requested: str,
    definition: Path | None = None,
    **overrides: Any,
) -> tuple[NetworkRecord, str]:
    """The network already in `run_dir`, or a new record for the requested ledger (validated
    and saved); and a line saying which ledger it is and why. Options given (not None) must
    match an existing network.

    Raises BackendError naming each option that differs, or when the ledger asked for differs
    from the network's or cannot run here; DefinitionError when the definition is unusable.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    if (run_dir / RECORD).exists():
        existing = NetworkRecord.load(run_dir)
        if requested != "auto" and existing.ledger != requested:
            raise BackendError(
                f"{run_dir} holds a {existing.ledger} network; stop and purge it "
                "(`fedledger network down --purge`) before starting a different ledger"
            )
        _refuse_changes(existing, run_dir, definition, given)
        return existing, f"ledger: {existing.ledger} (the network in {run_dir})"
    record = NetworkRecord("embedded", definition or DEFAULT_DEFINITION, given)
    choice = choose_ledger(requested, record.definition().fabric_version)  # validates it too
    record = NetworkRecord(choice.ledger, record.definition_path, given)
    record.save(run_dir)
    return record, f"ledger: {choice.ledger} ({choice.reason})"


def _refuse_changes(
    existing: NetworkRecord, run_dir: Path, definition: Path | None, given: dict[str, Any]
) -> None:
    """An `up` on an existing network may not quietly ignore options that differ from it."""
    recorded = existing.definition()
    has: dict[str, Any] = {
        "definition": existing.definition_path,
        "orgs": len(recorded.members),
        "orderers": recorded.ordering.orderers,
        "port_base": recorded.port_base,
        "batch_timeout": recorded.batch_timeout,
        "fabric_version": recorded.fabric_version,
    }
    asked = given | ({"definition": definition} if definition is not None else {})
    differences = [
        f"--{key.replace('_', '-')} {value} (this network has {has[key]})"
        for key, value in asked.items()
        if value != has[key]
    ]
    if differences:
        raise BackendError(
            f"{run_dir} holds a network started with other options: {'; '.join(differences)}. "
            "Run `fedledger network up` without them to use it, or `fedledger network down "
            "--purge` first to start afresh (that deletes its ledger), or pass another --run-dir"
        )
