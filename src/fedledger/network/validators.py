"""Validators as part of a local network: one `fedledger validator serve` per organisation.

`fedledger network up --validators validators.yaml` starts them after the ledger, each with its
own holdouts, as recorded processes beside the nodes; `status` shows their gRPC health and
`down` stops them first. The validators file is documented in docs/validators-file.md;
relative paths in it are taken from its folder. A copy is kept in the run folder, so a later
`up` (after `down`, or a crash) starts the same validators again.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from fedledger.configfile import (
    File,
    Key,
    Section,
    StoreLocation,
    mapping_of,
    not_empty,
    read_document,
    validate,
)
from fedledger.network.errors import NetworkError
from fedledger.network.nodeconfig import LOCALHOST
from fedledger.profile import ConnectionProfile
from fedledger.runtime import health, processes
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout
from fedledger.runtime.processes import ProcessRecord, ProcessSpec, ProcessTable
from fedledger.runtime.status import NodeStatus
from fedledger.validator.client import channel_for
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.endpoint import read_endpoint
from fedledger.validator.profile_config import config_document, render_config

START_TIMEOUT = 90.0


class ValidatorExitedError(health.NotReadyError):
    """A validator process exited before it served; the message carries its log's tail."""


def validator_process(name: str, config: Path, log: Path, cwd: Path) -> ProcessSpec:
    """`fedledger validator serve` with the configuration file `config`."""
    command = [sys.executable, "-m", "fedledger", "validator", "serve", "--config", str(config)]
    return ProcessSpec(name, command, log, cwd)


def wait_serving(
    record: ProcessRecord, config: ValidatorConfig, log: Path, timeout: float = START_TIMEOUT
) -> None:
    """Return once the validator `record` started has written its endpoint and answers gRPC
    health checks as SERVING; ValidatorExitedError if it dies first, NotReadyError on time."""

    def ready() -> bool:
        if not processes.is_running(record):
            raise ValidatorExitedError(
                f"{record.name} exited while starting; its log {log}:\n{processes.log_tail(log)}"
            )
        try:
            read_endpoint(config.state_dir)
        except FileNotFoundError:
            return False
        return serving(config)

    health.wait_for(ready, f"{record.name} to serve", timeout)


def serving(config: ValidatorConfig) -> bool:
    """The validator `config` describes answers a gRPC health check with SERVING."""
    try:
        with channel_for(config) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=2.0
            )
    except (grpc.RpcError, FileNotFoundError, OSError):
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


class ValidatorsSpecError(NetworkError, ValueError):
    """The validators file is missing a field or names something the network lacks."""


@dataclass(frozen=True)
class ValidatorsSpec:
    """The validators file (docs/validators-file.md), checked whole when it is read: every
    holdout must exist and the store must be one the validators can open."""

    store: str | None
    tasks: dict[str, dict[str, Path]]  # organisation → task → holdout file

    @classmethod
    def load(cls, path: Path) -> ValidatorsSpec:
        """Raises ValidatorsSpecError, naming the field, when the file cannot be read or breaks
        a rule of docs/validators-file.md."""
        try:
            document = read_document(path)
        except FileNotFoundError as error:
            raise ValidatorsSpecError(f"cannot read {path}: {error}") from None
        except ValueError as error:
            raise ValidatorsSpecError(str(error)) from None
        try:
            file = validate(_File, document, path.parent, "the file")
        except ValueError as error:
            raise ValidatorsSpecError(f"{path}: {error}") from None
        tasks = {msp_id: dict(org.tasks) for msp_id, org in file.organizations.items()}
        return cls(file.store, tasks)


class _Org(Section):
    shape = " ({tasks: {task id: holdout file}})"
    tasks: Annotated[
        dict[Key, File],
        mapping_of("task ids to holdout files"),
        not_empty("is empty: list at least one task and its holdout file"),
    ]


class _File(Section):
    store: StoreLocation | None = None
    organizations: Annotated[
        dict[Key, _Org], mapping_of("MSP IDs to {tasks: {task id: holdout file}}")
    ]


@dataclass
class ValidatorChanges:
    """What `NetworkValidators.start` did, by validator name."""

    started: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{what} {', '.join(names)}"
            for what, names in (
                ("started", self.started),
                ("restarted (configuration changed)", self.restarted),
                ("stopped (no longer listed)", self.stopped),
                ("unchanged", self.unchanged),
            )
            if names
        ]
        return "validators: " + "; ".join(parts) if parts else "no validators"


class NetworkValidators:
    """The validators of the network in `run_dir`, kept in `folder` (`run_dir/validators`
    unless given). With `any_port` each listens on a port the system picks instead of the port
    plan's: the demo's validators beside a compose network, whose own validator containers
    publish the plan's ports (docs/docker-compose.md)."""

    def __init__(
        self,
        definition: NetworkDefinition,
        run_dir: Path,
        folder: Path | None = None,
        any_port: bool = False,
    ) -> None:
        self.definition = definition
        self.run_dir = run_dir
        self.folder = folder or run_dir / "validators"
        self.any_port = any_port
        self.table = ProcessTable(self.folder / "processes.json")

    @property
    def spec_copy(self) -> Path:
        return self.folder / "spec.yaml"

    def start(self, profile: ConnectionProfile, spec_file: Path | None = None) -> ValidatorChanges:
        """Bring the validators in line with `spec_file` (or the kept copy of the last one):
        start those not running, restart those whose configuration changed, stop those the
        file no longer lists, leave the rest alone; and wait until every one started serves.

        Raises ValidatorsSpecError when the file is wrong, ConfigError when a kept configuration
        does not load, and NotReadyError (ValidatorExitedError if it died) when a validator does
        not serve in time."""
        if spec_file is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            spec = ValidatorsSpec.load(spec_file)
            self._keep(spec, profile)
        elif self.spec_copy.exists():
            spec = ValidatorsSpec.load(self.spec_copy)
        else:
            return ValidatorChanges()
        return self._reconcile(profile, spec)

    def add_tasks(
        self, profile: ConnectionProfile, holdouts: Mapping[str, Mapping[str, Path]]
    ) -> ValidatorChanges:
        """Have the validators also serve `holdouts` (organisation → task → holdout file),
        keeping every task they serve already: the kept validators file gains them, and the
        validators are brought in line with it as by `start`. Raises as `start` does."""
        kept = ValidatorsSpec.load(self.spec_copy) if self.spec_copy.exists() else None
        tasks = {msp_id: dict(served) for msp_id, served in (kept.tasks if kept else {}).items()}
        for msp_id, added in holdouts.items():
            tasks.setdefault(msp_id, {}).update(added)
        spec = ValidatorsSpec(kept.store if kept else None, tasks)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._keep(spec, profile)
        return self._reconcile(profile, spec)

    def _reconcile(self, profile: ConnectionProfile, spec: ValidatorsSpec) -> ValidatorChanges:
        running = self.table.running()
        changes = ValidatorChanges()
        for msp_id, tasks in spec.tasks.items():
            name, process, config, text = self._plan(profile, msp_id, tasks, spec.store)
            unchanged = config.exists() and config.read_text() == text
            if name in running and unchanged:
                changes.unchanged.append(name)
                continue
            if name in running:
                processes.stop(running[name])
                changes.restarted.append(name)
            else:
                changes.started.append(name)
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(text)
            self.table.add(processes.start(process))
        listed = {self._name(msp_id) for msp_id in spec.tasks}
        for name, record in running.items():
            if name not in listed:
                processes.stop(record)
                self.table.remove([name])
                changes.stopped.append(name)
        for name in changes.started + changes.restarted:
            self._wait_ready(name)
        return changes

    def _keep(self, spec: ValidatorsSpec, profile: ConnectionProfile) -> None:
        """A copy with absolute paths, for later `up`s."""
        unknown = sorted(set(spec.tasks) - set(profile.msp_ids))
        if unknown:
            raise ValidatorsSpecError(
                f"no organisation {', '.join(unknown)} in this network "
                f"(it has {', '.join(profile.msp_ids)})"
            )
        document: dict[str, Any] = {
            "organizations": {
                msp: {"tasks": {task: str(file) for task, file in tasks.items()}}
                for msp, tasks in spec.tasks.items()
            }
        }
        if spec.store is not None:
            document["store"] = spec.store
        self.spec_copy.write_text(yaml.safe_dump(document, sort_keys=False))

    def _name(self, msp_id: str) -> str:
        return f"validator.{self.definition.member(msp_id)[1].domain}"

    def _plan(
        self, profile: ConnectionProfile, msp_id: str, tasks: dict[str, Path], store: str | None
    ) -> tuple[str, ProcessSpec, Path, str]:
        """The validator of `msp_id`: its name, process, configuration file and that file's
        text as it should be now."""
        index, _ = self.definition.member(msp_id)
        name = self._name(msp_id)
        org_folder = self.folder / msp_id
        config = org_folder / "validator.yaml"
        port = 0 if self.any_port else self.definition.peer_ports(index).validator
        document = config_document(
            profile,
            msp_id,
            tasks=tasks,
            store=store or str(RunLayout(self.run_dir).store),
            state_dir=org_folder / "state",
            listen=f"{LOCALHOST}:{port}",
        )
        log = RunLayout(self.run_dir).log(name)
        return (
            name,
            validator_process(name, config, log, org_folder),
            config,
            render_config(config, document),
        )

    def _config(self, name: str) -> ValidatorConfig:
        msp_id = next(m.msp_id for m in self.definition.members if name.endswith(m.domain))
        return ValidatorConfig.load(self.folder / msp_id / "validator.yaml")

    def _wait_ready(self, name: str) -> None:
        record = self.table.records[name]
        wait_serving(record, self._config(name), RunLayout(self.run_dir).log(name))

    def status(self) -> list[NodeStatus]:
        """One row per validator; raises ConfigError when its configuration does not load."""
        rows = []
        for name, record in sorted(self.table.records.items()):
            running = processes.is_running(record)
            config = self._config(name)
            rows.append(
                NodeStatus(
                    name=name,
                    kind="validator",
                    organization=config.organization,
                    ports=f"grpc {config.listen.address.rpartition(':')[2]}",
                    pid=record.pid,
                    running=running,
                    healthy=running and serving(config),
                    height=None,
                )
            )
        return rows

    def stop(self, purge: bool = False) -> list[str]:
        """Stop every validator started here (and, with `purge`, delete their folder); the
        names of those stopped. Raises nothing of its own."""
        stopped = [name for name, record in self.table.records.items() if processes.stop(record)]
        self.table.remove(list(self.table.records))
        if purge and self.folder.exists():
            shutil.rmtree(self.folder)
        return stopped
