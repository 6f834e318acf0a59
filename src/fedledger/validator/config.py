"""The validator's configuration: one YAML file per organisation, validated once at start-up.

Every error names the field (`limits.maxConcurrentEvaluations must be an integer >= 1, got 0`).
Relative paths are taken from the file's folder. `summary()` is what start-up logs: paths and
settings, never key material (none is read here) nor credentials in URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from fedledger.evaluate.limits import SandboxLimits
from fedledger.paths import read_path

MIB = 1024 * 1024


class ConfigError(ValueError):
    """The configuration file is missing, unreadable, or a field is wrong; names the field."""


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


@dataclass(frozen=True)
class StoreConfig:
    location: str
    endpoint_url: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Limits:
    max_concurrent_evaluations: int = 1
    max_inline_model_bytes: int = 16 * MIB
    max_model_bytes: int = 256 * MIB
    # How long an Evaluate call waits for a free evaluation slot before RESOURCE_EXHAUSTED.
    slot_wait_seconds: float = 5.0
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)


@dataclass(frozen=True)
class RetryConfig:
    """Backoff between attempts when the fault is ours (store unreachable, peer down)."""

    initial_seconds: float = 0.5
    max_seconds: float = 10.0


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
    metrics_address: str | None = None
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> ValidatorConfig:
        try:
            document = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"no validator configuration at {path}") from None
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"cannot read the validator configuration {path}: {error}") from None
        return cls.from_dict(document, base=path.resolve().parent, path=path)

    @classmethod
    def from_dict(cls, document: Any, base: Path, path: Path | None = None) -> ValidatorConfig:
        top = _Reader(
            document,
            "",
            base,
            (
                "organization",
                "identity",
                "channel",
                "chaincode",
                "gateway",
                "tasks",
                "store",
                "listen",
                "stateDir",
                "limits",
                "retry",
                "metrics",
            ),
        )
        metrics = top.optional_child("metrics", ("address",))
        return cls(
            organization=top.text("organization"),
            identity=top.path("identity"),
            channel=top.text("channel", "fedledger"),
            chaincode=top.text("chaincode", "fedledger"),
            gateway=_gateway(
                top.child("gateway", ("endpoint", "serverName", "tlsCaCert", "tlsClient"))
            ),
            tasks=_tasks(top),
            store=_store(top.child("store", ("location", "endpointUrl", "region"))),
            listen=_listen(top.child("listen", ("address", "tls"))),
            state_dir=top.path("stateDir"),
            limits=_limits(top.optional_child("limits", LIMIT_FIELDS)),
            retry=_retry(top.optional_child("retry", ("initialSeconds", "maxSeconds"))),
            metrics_address=metrics.address("address") if metrics else None,
            path=path,
        )

    def summary(self) -> dict[str, Any]:
        """The settings as start-up logs them: no secrets."""
        listen = self.listen
        return {
            "organization": self.organization,
            "identity": str(self.identity),
            "channel": self.channel,
            "chaincode": self.chaincode,
            "gateway": self.gateway.endpoint,
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
            "max_inline_model_bytes": self.limits.max_inline_model_bytes,
            "max_model_bytes": self.limits.max_model_bytes,
        }


LIMIT_FIELDS = (
    "maxConcurrentEvaluations",
    "maxInlineModelBytes",
    "maxModelBytes",
    "slotWaitSeconds",
    "memoryBytes",
    "cpuSeconds",
    "wallSeconds",
    "threads",
)


def _gateway(reader: _Reader) -> GatewayConfig:
    client = reader.optional_child("tlsClient", ("cert", "key"))
    return GatewayConfig(
        endpoint=reader.address("endpoint"),
        server_name=reader.text("serverName"),
        tls_ca_cert=reader.existing_file("tlsCaCert"),
        tls_client=TlsFiles(client.existing_file("cert"), client.existing_file("key"))
        if client
        else None,
    )


def _tasks(top: _Reader) -> dict[str, Path]:
    tasks = top.mapping("tasks")
    if not tasks:
        raise ConfigError("tasks is empty: list at least one task and its holdout file")
    found = {}
    for task_id in tasks:
        entry = top.child("tasks", (), nested=(str(task_id), ("holdout",)))
        found[str(task_id)] = entry.existing_file("holdout")
    return found


def _store(reader: _Reader) -> StoreConfig:
    location = reader.text("location")
    scheme = urlparse(location).scheme
    if scheme not in ("", "file", "s3"):
        raise ConfigError(
            "store.location must be a folder, file:///folder or s3://bucket/prefix, "
            f"got {location!r}"
        )
    return StoreConfig(
        location=str(read_path(location, reader.base)) if scheme == "" else location,
        endpoint_url=reader.optional_text("endpointUrl"),
        region=reader.optional_text("region"),
    )


def _listen(reader: _Reader) -> ListenConfig:
    tls = reader.child("tls", ("cert", "key", "issueFrom", "clientCaCerts"))
    issue = tls.optional_child("issueFrom", ("caCert", "caKey", "hostnames"))
    has_files = tls.has("cert") or tls.has("key")
    if has_files == (issue is not None):
        raise ConfigError(
            "listen.tls needs either cert and key (the server certificate) or issueFrom "
            "(the organisation's TLS CA certificate and key, to issue one at start-up), not both"
        )
    cas = tls.path_list("clientCaCerts")
    if not cas:
        raise ConfigError(
            "listen.tls.clientCaCerts is empty: list the CA certificates whose clients may call"
        )
    return ListenConfig(
        address=reader.address("address"),
        client_ca_certs=cas,
        server=TlsFiles(tls.existing_file("cert"), tls.existing_file("key")) if has_files else None,
        issue_from=IssueFrom(
            issue.existing_file("caCert"),
            issue.existing_file("caKey"),
            tuple(issue.strings("hostnames")) or IssueFrom.hostnames,
        )
        if issue
        else None,
    )


def _limits(reader: _Reader | None) -> Limits:
    if reader is None:
        return Limits()
    defaults, sandbox = Limits(), SandboxLimits()
    return Limits(
        max_concurrent_evaluations=reader.integer(
            "maxConcurrentEvaluations", defaults.max_concurrent_evaluations
        ),
        max_inline_model_bytes=reader.integer(
            "maxInlineModelBytes", defaults.max_inline_model_bytes
        ),
        max_model_bytes=reader.integer("maxModelBytes", defaults.max_model_bytes),
        slot_wait_seconds=reader.seconds("slotWaitSeconds", defaults.slot_wait_seconds),
        sandbox=SandboxLimits(
            memory_bytes=reader.integer("memoryBytes", sandbox.memory_bytes),
            cpu_seconds=reader.integer("cpuSeconds", sandbox.cpu_seconds),
            wall_seconds=reader.seconds("wallSeconds", sandbox.wall_seconds),
            threads=reader.integer("threads", sandbox.threads),
        ),
    )


def _retry(reader: _Reader | None) -> RetryConfig:
    if reader is None:
        return RetryConfig()
    defaults = RetryConfig()
    retry = RetryConfig(
        initial_seconds=reader.seconds("initialSeconds", defaults.initial_seconds),
        max_seconds=reader.seconds("maxSeconds", defaults.max_seconds),
    )
    if retry.max_seconds < retry.initial_seconds:
        raise ConfigError("retry.maxSeconds must be at least retry.initialSeconds")
    return retry


def _without_credentials(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password is None and parsed.username is None:
        return url
    return parsed._replace(netloc=f"***@{parsed.hostname}:{parsed.port}").geturl()


_MISSING = object()


class _Reader:
    """Field access naming the full path of a wrong field; unknown fields are refused."""

    def __init__(self, document: Any, where: str, base: Path, allowed: tuple[str, ...]) -> None:
        if not isinstance(document, Mapping):
            raise ConfigError(f"{where or 'the configuration'} must be a mapping")
        unknown = sorted(str(k) for k in document if k not in allowed)
        if unknown and allowed:
            raise ConfigError(
                f"{self._name(where, unknown[0])} is not a known field "
                f"(known: {', '.join(allowed)})"
            )
        self.document: Mapping[str, Any] = document
        self.where = where
        self.base = base

    @staticmethod
    def _name(where: str, key: str) -> str:
        return f"{where}.{key}" if where else key

    def name(self, key: str) -> str:
        return self._name(self.where, key)

    def has(self, key: str) -> bool:
        return self.document.get(key) is not None

    def _get(self, key: str, default: Any = _MISSING) -> Any:
        if not self.has(key):
            if default is _MISSING:
                raise ConfigError(f"{self.name(key)} is missing")
            return default
        return self.document[key]

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.name(key)} must be a non-empty string, got {value!r}")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def address(self, key: str) -> str:
        value = self.text(key)
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise ConfigError(f"{self.name(key)} must be host:port, got {value!r}")
        return value

    def path(self, key: str) -> Path:
        return read_path(self.text(key), self.base)

    def existing_file(self, key: str) -> Path:
        value = self.path(key)
        if not value.is_file():
            raise ConfigError(f"{self.name(key)}: no file at {value}")
        return value

    def path_list(self, key: str) -> tuple[Path, ...]:
        items = self.strings(key)
        paths = []
        for index, item in enumerate(items):
            value = read_path(item, self.base)
            if not value.is_file():
                raise ConfigError(f"{self.name(key)}[{index}]: no file at {value}")
            paths.append(value)
        return tuple(paths)

    def strings(self, key: str) -> list[str]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{self.name(key)} must be a list of non-empty strings")
        return value

    def integer(self, key: str, default: int) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{self.name(key)} must be an integer >= 1, got {value!r}")
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{self.name(key)} must be a number of seconds > 0, got {value!r}")
        return float(value)

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self._get(key)
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.name(key)} must be a mapping")
        return value

    def child(
        self,
        key: str,
        allowed: tuple[str, ...],
        nested: tuple[str, tuple[str, ...]] | None = None,
    ) -> _Reader:
        value = self.mapping(key)
        if nested is None:
            return _Reader(value, self.name(key), self.base, allowed)
        inner, inner_allowed = nested
        where = f"{self.name(key)}.{inner}"
        entry = value.get(inner)
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a mapping (holdout: <file>)")
        return _Reader(entry, where, self.base, inner_allowed)

    def optional_child(self, key: str, allowed: tuple[str, ...]) -> _Reader | None:
        return self.child(key, allowed) if self.has(key) else None
