"""The validator's configuration: one YAML file per organisation, validated once at start-up.

The file is declared by the pydantic models at the end of this module (`_File` and its parts,
with the rules of `fedledger.configfile`) and turned into the frozen settings above them, which
the rest of the validator uses. Every error names the field
(`limits.maxConcurrentEvaluations must be a whole number >= 1, e.g. 2, got 0`). `summary()` is
what start-up logs: paths and settings, never key material (none is read here) nor credentials
in URLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlparse

from pydantic import Field, model_validator

from fedledger.configfile import (
    Address,
    AnyPath,
    Bytes,
    Count,
    File,
    Files,
    Folder,
    Key,
    Seconds,
    Section,
    StoreLocation,
    Text,
    Texts,
    mapping_of,
    not_empty,
    read_document,
    validate,
    wrong,
)
from fedledger.evaluate.limits import SandboxLimits
from fedledger.validator.errors import ValidatorError
from fedledger.validator.slots import default_slots

MIB = 1024 * 1024


class ConfigError(ValidatorError, ValueError):
    """The configuration file is missing, unreadable, or a field is wrong; names the field.
    `file` is the configuration file, when the error came from one."""

    def __init__(self, message: str, file: Path | None = None) -> None:
        super().__init__(message)
        self.file = file


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


@dataclass(frozen=True)
class IssueFrom:
    """Issue the server certificate at start-up from this CA (the organisation's TLS CA)."""

    ca_cert: Path
    ca_key: Path
    hostnames: tuple[str, ...] = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class ListenConfig:
    address: str
    client_ca_certs: tuple[Path, ...]
    server: TlsFiles | None = None
    issue_from: IssueFrom | None = None


@dataclass(frozen=True)
class GatewayConfig:
    endpoint: str
    server_name: str
    tls_ca_cert: Path
    tls_client: TlsFiles | None = None
    # `peer`: Fabric's older Endorser/Broadcast/Deliver protocol, with the peers and orderers
    # of the connection profile at `profile` (Fabric 2.2 peers have no Gateway service).
    protocol: str = "gateway"
    profile: Path | None = None


@dataclass(frozen=True)
class StoreConfig:
    location: str
    endpoint_url: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Limits:
    max_concurrent_evaluations: int = field(default_factory=default_slots)
    # At most this many of them for one proposer's models (None: slots.default_share).
    max_evaluations_per_proposer: int | None = None
    max_inline_model_bytes: int = 16 * MIB
    max_model_bytes: int = 256 * MIB
    # How long an Evaluate call waits for a free evaluation slot before RESOURCE_EXHAUSTED.
    slot_wait_seconds: float = 5.0
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)


@dataclass(frozen=True)
class RetryConfig:
    """Backoff between attempts when the fault is ours (store unreachable, peer down).

    `model_bytes_attempts`: after that many attempts in a row that found the model's bytes
    unavailable, the validator reports it on the ledger (an `unavailable` report, which counts
    for nothing) and goes on retrying until the deadline (docs/bounded-evaluation.md)."""

    initial_seconds: float = 0.5
    max_seconds: float = 10.0
    model_bytes_attempts: int = 5


@dataclass(frozen=True)
class DecideConfig:
    """When this validator submits Decide once the votes decide a proposal.

    Every validator that sees the votes decide would otherwise submit Decide at the same moment:
    one wins and the others are invalidated. The first voter in MSP-id order submits at once;
    the k-th waits k times stagger_seconds and submits only if the proposal is still undecided.
    """

    stagger_seconds: float = 1.0


@dataclass(frozen=True)
class ValidatorConfig:
    organization: str
    identity: Path
    channel: str
    chaincode: str
    gateway: GatewayConfig
    tasks: dict[str, Path]
    store: StoreConfig
    listen: ListenConfig
    state_dir: Path
    limits: Limits = field(default_factory=Limits)
    retry: RetryConfig = field(default_factory=RetryConfig)
    decide: DecideConfig = field(default_factory=DecideConfig)
    metrics_address: str | None = None
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> ValidatorConfig:
        """Raises ConfigError, naming the field, when the file is missing, unreadable or wrong."""
        try:
            document = read_document(path)
        except FileNotFoundError:
            raise ConfigError(f"no validator configuration at {path}", path) from None
        except ValueError as error:
            raise ConfigError(str(error), path) from None
        return cls.from_dict(document, base=path.resolve().parent, path=path)

    @classmethod
    def from_dict(cls, document: Any, base: Path, path: Path | None = None) -> ValidatorConfig:
        """A configuration from its parsed document; raises ConfigError naming the field that is
        wrong.
        """
        try:
            file = validate(_File, document, base, "the configuration")
        except ValueError as error:
            raise ConfigError(str(error), path) from None
        gateway, listen, tls = file.gateway, file.listen, file.listen.tls
        issue = tls.issue_from
        return cls(
            organization=file.organization,
            identity=file.identity,
            channel=file.channel,
            chaincode=file.chaincode,
            gateway=GatewayConfig(
                endpoint=gateway.endpoint,
                server_name=gateway.server_name,
                tls_ca_cert=gateway.tls_ca_cert,
                tls_client=TlsFiles(gateway.tls_client.cert, gateway.tls_client.key)
                if gateway.tls_client
                else None,
                protocol=gateway.protocol,
                profile=gateway.profile,
            ),
            tasks={task_id: task.holdout for task_id, task in file.tasks.items()},
            store=StoreConfig(file.store.location, file.store.endpoint_url, file.store.region),
            listen=ListenConfig(
                address=listen.address,
                client_ca_certs=tuple(tls.client_ca_certs),
                server=TlsFiles(tls.cert, tls.key) if tls.cert and tls.key else None,
                issue_from=IssueFrom(
                    issue.ca_cert, issue.ca_key, tuple(issue.hostnames) or IssueFrom.hostnames
                )
                if issue
                else None,
            ),
            state_dir=file.state_dir,
            limits=file.limits.settings(),
            retry=RetryConfig(
                file.retry.initial_seconds,
                file.retry.max_seconds,
                file.retry.model_bytes_attempts,
            ),
            decide=DecideConfig(file.decide.stagger_seconds),
            metrics_address=file.metrics.address if file.metrics else None,
            path=path,
        )

    def summary(self) -> dict[str, Any]:
        """The settings as start-up logs them: no secrets."""
        listen, sandbox = self.listen, self.limits.sandbox
        return {
            "organization": self.organization,
            "identity": str(self.identity),
            "channel": self.channel,
            "chaincode": self.chaincode,
            "gateway": self.gateway.endpoint,
            "protocol": self.gateway.protocol,
            "gateway_tls_client": self.gateway.tls_client is not None,
            "tasks": {task: str(p) for task, p in self.tasks.items()},
            "store": _without_credentials(self.store.location),
            "store_endpoint": _without_credentials(self.store.endpoint_url or ""),
            "listen": listen.address,
            "server_certificate": "issued at start-up"
            if listen.issue_from
            else str(listen.server.cert if listen.server else ""),
            "client_cas": [str(p) for p in listen.client_ca_certs],
            "state_dir": str(self.state_dir),
            "metrics": self.metrics_address,
            "max_concurrent_evaluations": self.limits.max_concurrent_evaluations,
            "max_evaluations_per_proposer": self.limits.max_evaluations_per_proposer,
            "cpu_budget": (
                f"{sandbox.cpu_base_seconds:g} s + {sandbox.cpu_seconds_per_million_cells:g} s "
                f"per million holdout cells + {sandbox.cpu_seconds_per_model_mib:g} s per MiB "
                f"of model, at most {sandbox.cpu_seconds} s"
            ),
            "max_inline_model_bytes": self.limits.max_inline_model_bytes,
            "max_model_bytes": self.limits.max_model_bytes,
        }


def _without_credentials(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password is None and parsed.username is None:
        return url
    return parsed._replace(netloc=f"***@{parsed.hostname}:{parsed.port}").geturl()


# The file, as written (docs/validator-config.md#fields).


class _TlsFiles(Section):
    cert: File
    key: File


class _Gateway(Section):
    endpoint: Address
    server_name: Text
    tls_ca_cert: File
    tls_client: _TlsFiles | None = None
    protocol: Text = "gateway"
    profile: File | None = None

    @model_validator(mode="after")
    def _peer_protocol_needs_a_profile(self) -> _Gateway:
        if self.protocol not in ("gateway", "peer"):
            raise wrong("must be gateway or peer, got {got}", field="protocol", got=self.protocol)
        if self.protocol == "peer" and self.profile is None:
            raise wrong(
                "is missing: the peer protocol takes the peers and orderers from a connection "
                "profile (docs/connection-profile.md#the-older-peer-protocol)",
                field="profile",
            )
        return self


class _Task(Section):
    shape = " (holdout: <file>)"
    holdout: File


class _Store(Section):
    location: StoreLocation
    endpoint_url: Text | None = None
    region: Text | None = None


class _IssueFrom(Section):
    ca_cert: File
    ca_key: File
    hostnames: Texts = Field(default_factory=list)


class _Tls(Section):
    cert: File | None = None
    key: File | None = None
    issue_from: _IssueFrom | None = None
    client_ca_certs: Files

    @model_validator(mode="after")
    def _one_server_certificate(self) -> Self:
        has_files = self.cert is not None or self.key is not None
        if has_files and self.issue_from is not None:
            raise wrong(
                "has both cert and key and issueFrom: keep cert and key (the server certificate) "
                "or issueFrom (the organisation's TLS CA, to issue one at start-up), not both"
            )
        if not has_files and self.issue_from is None:
            raise wrong(
                "needs either cert and key (the server certificate) or issueFrom (the "
                "organisation's TLS CA certificate and key, to issue one at start-up)"
            )
        if has_files and (self.cert is None or self.key is None):
            raise wrong("is missing", field="key" if self.key is None else "cert")
        if not self.client_ca_certs:
            raise wrong(
                "is empty: list the CA certificates whose clients may call",
                field="clientCaCerts",
            )
        return self


class _Listen(Section):
    address: Address
    tls: _Tls


_DEFAULT_LIMITS, _DEFAULT_SANDBOX = Limits(), SandboxLimits()


class _Limits(Section):
    max_concurrent_evaluations: Count | None = None
    max_evaluations_per_proposer: Count | None = None
    max_inline_model_bytes: Bytes = _DEFAULT_LIMITS.max_inline_model_bytes
    max_model_bytes: Bytes = _DEFAULT_LIMITS.max_model_bytes
    slot_wait_seconds: Seconds = _DEFAULT_LIMITS.slot_wait_seconds
    memory_bytes: Bytes = _DEFAULT_SANDBOX.memory_bytes
    cpu_seconds: Count = _DEFAULT_SANDBOX.cpu_seconds
    cpu_base_seconds: Seconds = _DEFAULT_SANDBOX.cpu_base_seconds
    cpu_seconds_per_million_cells: Seconds = _DEFAULT_SANDBOX.cpu_seconds_per_million_cells
    cpu_seconds_per_model_mib: Seconds = _DEFAULT_SANDBOX.cpu_seconds_per_model_mib
    wall_seconds: Seconds = _DEFAULT_SANDBOX.wall_seconds
    threads: Count = _DEFAULT_SANDBOX.threads
    max_loop_iterations: Count = _DEFAULT_SANDBOX.max_loop_iterations

    def settings(self) -> Limits:
        return Limits(
            max_concurrent_evaluations=self.max_concurrent_evaluations or default_slots(),
            max_evaluations_per_proposer=self.max_evaluations_per_proposer,
            max_inline_model_bytes=self.max_inline_model_bytes,
            max_model_bytes=self.max_model_bytes,
            slot_wait_seconds=self.slot_wait_seconds,
            sandbox=SandboxLimits(
                memory_bytes=self.memory_bytes,
                cpu_seconds=self.cpu_seconds,
                cpu_base_seconds=self.cpu_base_seconds,
                cpu_seconds_per_million_cells=self.cpu_seconds_per_million_cells,
                cpu_seconds_per_model_mib=self.cpu_seconds_per_model_mib,
                wall_seconds=self.wall_seconds,
                threads=self.threads,
                max_loop_iterations=self.max_loop_iterations,
            ),
        )


class _Retry(Section):
    initial_seconds: Seconds = RetryConfig.initial_seconds
    max_seconds: Seconds = RetryConfig.max_seconds
    model_bytes_attempts: Count = RetryConfig.model_bytes_attempts

    @model_validator(mode="after")
    def _max_at_least_initial(self) -> Self:
        if self.max_seconds < self.initial_seconds:
            raise wrong(
                "must be at least retry.initialSeconds ({initial}), got {got}",
                field="maxSeconds",
                initial=self.initial_seconds,
                got=self.max_seconds,
            )
        return self


class _Decide(Section):
    stagger_seconds: Seconds = DecideConfig.stagger_seconds


class _Metrics(Section):
    address: Address


class _File(Section):
    organization: Text
    identity: AnyPath
    channel: Text = "fedledger"
    chaincode: Text = "fedledger"
    gateway: _Gateway
    tasks: Annotated[
        dict[Key, _Task],
        mapping_of("task ids to {holdout: <file>}"),
        not_empty("is empty: list at least one task and its holdout file"),
    ]
    store: _Store
    listen: _Listen
    state_dir: Folder
    limits: _Limits = _Limits()
    retry: _Retry = _Retry()
    decide: _Decide = _Decide()
    metrics: _Metrics | None = None
