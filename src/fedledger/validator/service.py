"""The validator process: configuration in, gRPC server + watcher + metrics running.

`ValidatorService(config).start()` connects to the organisation's gateway peer, loads the
holdouts, serves gRPC (mutual TLS, health, reflection) and starts the watcher; `stop()` shuts
down in the reverse order, letting calls in flight finish within a grace period. The bound
addresses are written to `<stateDir>/endpoint.json` for `fedledger validator status` and tests.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import socket
from concurrent import futures
from dataclasses import dataclass

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from fedledger import __version__
from fedledger.evaluate.engine import Evaluator
from fedledger.fabric import (
    Backoff,
    FabricError,
    FileCheckpointer,
    Gateway,
    SigningIdentity,
    TlsConfig,
)
from fedledger.orgs.msp import MspFolderError
from fedledger.registry import ChaincodeRefusalError, Registry
from fedledger.registry import Task as LedgerTask
from fedledger.store.factory import open_store
from fedledger.validator.api import SERVICE_NAME, add_validator_servicer, validator_pb2
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.endpoint import remove_endpoint, write_endpoint
from fedledger.validator.errors import (
    InvalidRequestError,
    LimitExceededError,
    ModelRejectedError,
    NotFoundError,
    UnavailableError,
)
from fedledger.validator.evaluation import Assessment, EvaluationService
from fedledger.validator.holdouts import Holdouts, HoldoutState
from fedledger.validator.metrics import MetricsServer, ValidatorMetrics
from fedledger.validator.reports import ReportBook, VoteRecord, check_proposal_id
from fedledger.validator.servicer import ValidatorServicer
from fedledger.validator.tls import server_tls
from fedledger.validator.voting import Voter
from fedledger.validator.watcher import Watcher

log = structlog.get_logger("fedledger.validator")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Room above the largest inline model for the rest of the request.
_MESSAGE_OVERHEAD = 64 * 1024


class StartError(Exception):
    """The validator cannot start with its configuration; names the field to change."""


@dataclass
class Status:
    organization: str
    tasks: list[HoldoutState]
    last_block: int
    votes_cast: int
    pending: int
    evaluations_running: int
    version: str


class ValidatorService:
    def __init__(self, config: ValidatorConfig) -> None:
        self.config = config
        self.metrics = ValidatorMetrics()
        self.address = ""
        self._gateway: Gateway | None = None
        self._server: grpc.Server | None = None
        self._health: health.HealthServicer | None = None
        self._metrics_server: MetricsServer | None = None
        self._watcher: Watcher | None = None
        self._evaluation: EvaluationService | None = None
        self._evaluator: Evaluator | None = None
        self._reports = _report_book(config)

    # Domain calls behind the servicer

    @property
    def evaluation(self) -> EvaluationService:
        if self._evaluation is None:
            raise RuntimeError("the validator is not started")
        return self._evaluation

    def evaluate(
        self, task_id: str, *, reference: tuple[str, str] | None, inline: bytes | None
    ) -> Assessment:
        if (reference is None) == (inline is None):
            raise InvalidRequestError("give the model either by reference (uri, sha256) or inline")
        limits = self.config.limits
        if inline is not None and len(inline) > limits.max_inline_model_bytes:
            raise LimitExceededError(
                f"the inline model is {len(inline)} bytes, over this validator's limit of "
                f"{limits.max_inline_model_bytes}; put it in the store and pass its uri and sha256"
            )
        if reference is not None and not _SHA256.fullmatch(reference[1]):
            raise InvalidRequestError(
                f"reference.sha256 must be 64 lowercase hex characters, got {reference[1]!r}"
            )
        service = self.evaluation
        task = self._ledger_task(task_id)
        try:
            champion_score = service.champion_score(task.id)
        except FabricError as error:
            raise UnavailableError(f"the ledger is unavailable: {error}") from error
        if reference is not None:
            fetched = service.fetch(task, task.policy, reference[0], reference[1])
            if not isinstance(fetched, bytes):
                raise ModelRejectedError(fetched)
            model = fetched
        else:
            model = inline or b""
        report = service.score(
            task, task.policy, model, champion_score, wait=limits.slot_wait_seconds
        )
        if report.error_code is not None:
            raise ModelRejectedError(report)
        return Assessment(report, champion_score)

    def _ledger_task(self, task_id: str) -> LedgerTask:
        try:
            return self.evaluation.ledger_task(task_id)
        except ChaincodeRefusalError as refusal:
            raise NotFoundError(refusal.message) from refusal
        except FabricError as error:
            raise UnavailableError(f"the ledger is unavailable: {error}") from error

    def report(self, proposal_id: str) -> VoteRecord:
        return self._reports.get(check_proposal_id(proposal_id))

    def status(self) -> Status:
        watcher = self._watcher
        return Status(
            organization=self.config.organization,
            tasks=self.evaluation.holdouts.states(),
            last_block=watcher.last_block if watcher else 0,
            votes_cast=self._reports.count(),
            pending=watcher.pending if watcher else 0,
            evaluations_running=self.evaluation.slots.running,
            version=__version__,
        )

    # Life cycle

    def start(self) -> None:
        config = self.config
        log.info("validator starting", **config.summary())
        try:
            signer = SigningIdentity.from_msp_folder(config.identity, config.organization)
        except (MspFolderError, OSError) as error:
            raise StartError(f"identity: {error}") from error
        gateway_tls = TlsConfig.from_files(
            config.gateway.tls_ca_cert,
            server_name=config.gateway.server_name,
            client_certificate=config.gateway.tls_client.cert
            if config.gateway.tls_client
            else None,
            client_key=config.gateway.tls_client.key if config.gateway.tls_client else None,
        )
        self._gateway = Gateway.connect(config.gateway.endpoint, signer, gateway_tls)
        network = self._gateway.network(config.channel)
        registry = Registry(network.contract(config.chaincode))
        store = open_store(
            config.store.location,
            endpoint_url=config.store.endpoint_url,
            region=config.store.region,
            max_bytes=config.limits.max_model_bytes,
        )
        holdouts = Holdouts(config.tasks, registry.get_task)
        self._evaluator = Evaluator(config.limits.sandbox)
        self._evaluation = EvaluationService(
            config.organization,
            registry,
            store,
            holdouts,
            self._evaluator,
            config.limits,
            self.metrics,
        )
        try:
            holdouts.preload()
        except FabricError as error:
            log.warning("holdouts not loaded yet: the ledger is unavailable", error=str(error))
        for state in holdouts.states():
            log.info("holdout", task_id=state.task_id, rows=state.rows, error=state.error)
        self._start_server()
        if config.metrics_address is not None:
            self._metrics_server = serve_metrics(self.metrics, config.metrics_address)
        checkpointer = FileCheckpointer(config.state_dir / "checkpoint.json")
        voter = Voter(self._evaluation, self._reports, self.metrics, config.retry)
        backoff = Backoff(config.retry.initial_seconds, config.retry.max_seconds)
        self._watcher = Watcher(
            voter,
            registry,
            holdouts.task_ids,
            lambda: network.chaincode_events(
                config.chaincode, checkpointer=checkpointer, backoff=backoff
            ),
            checkpointer,
            self.metrics,
            workers=config.limits.max_concurrent_evaluations + 2,
            backoff=backoff,
        )
        self._watcher.start()
        self._write_endpoint()
        log.info(
            "validator started",
            address=self.address,
            metrics=self._metrics_server.address if self._metrics_server else None,
        )

    def _start_server(self) -> None:
        limits = self.config.limits
        message_limit = limits.max_inline_model_bytes + _MESSAGE_OVERHEAD
        server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=limits.max_concurrent_evaluations + 8,
                thread_name_prefix="fedledger-grpc",
            ),
            options=[
                ("grpc.max_receive_message_length", message_limit),
                ("grpc.max_send_message_length", 4 * 1024 * 1024),
                # Another server on the same port is an error, not a silent share of its calls.
                ("grpc.so_reuseport", 0),
            ],
        )
        add_validator_servicer(ValidatorServicer(self), server)
        self._health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        tls = server_tls(
            self.config.listen,
            f"validator.{self.config.organization.lower()}",
            dt.datetime.now(dt.UTC),
        )
        host, _, _ = self.config.listen.address.rpartition(":")
        port = listen_on(server, self.config.listen.address, tls.credentials())
        self.address = f"{host}:{port}"
        server.start()
        for name in ("", SERVICE_NAME):
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._server = server

    def _write_endpoint(self) -> None:
        write_endpoint(
            self.config.state_dir,
            {
                "address": self.address,
                "metrics": self._metrics_server.address if self._metrics_server else None,
                "pid": os.getpid(),
            },
        )

    def stop(self, grace: float = 10.0) -> None:
        """Stop taking calls, let calls and votes in flight finish within `grace`, release all."""
        log.info("validator stopping", grace_seconds=grace)
        if self._health is not None:
            self._health.enter_graceful_shutdown()
        if self._watcher is not None:
            self._watcher.stop(timeout=grace)
        if self._server is not None:
            self._server.stop(grace).wait()
        if self._metrics_server is not None:
            self._metrics_server.stop()
        if self._evaluation is not None:
            self._evaluation.holdouts.close()
        if self._evaluator is not None:
            self._evaluator.close()
        if self._gateway is not None:
            self._gateway.close()
        remove_endpoint(self.config.state_dir)
        log.info("validator stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server terminates (after stop()); True if it did within timeout."""
        if self._server is None:
            return True
        return bool(self._server.wait_for_termination(timeout))


def _report_book(config: ValidatorConfig) -> ReportBook:
    try:
        return ReportBook(config.state_dir / "reports")
    except OSError as error:
        raise StartError(
            f"stateDir: cannot create {config.state_dir / 'reports'}: {error.strerror}; "
            "name a folder the validator may write"
        ) from error


def listen_on(server: grpc.Server, address: str, credentials: grpc.ServerCredentials) -> int:
    """Bind `server` to `address` (listen.address); the port bound. grpcio says only that the
    bind failed, so the reason is found by binding a plain socket there."""
    try:
        port: int = server.add_secure_port(address, credentials)
    except RuntimeError as error:
        raise StartError(_cannot_listen(address, "listen.address", _bind_error(address))) from error
    if port == 0:
        raise StartError(_cannot_listen(address, "listen.address", _bind_error(address)))
    return port


def serve_metrics(metrics: ValidatorMetrics, address: str) -> MetricsServer:
    """Serve `metrics` on `address` (metrics.address)."""
    try:
        return metrics.serve(address)
    except OSError as error:
        raise StartError(_cannot_listen(address, "metrics.address", error)) from error


def _bind_error(address: str) -> OSError | None:
    host, _, port = address.rpartition(":")
    try:
        family, kind, _, _, where = socket.getaddrinfo(
            host.strip("[]"), int(port), type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind) as probe:
            probe.bind(where)
    except OSError as error:
        return error
    return None


def _cannot_listen(address: str, field: str, error: OSError | None) -> str:
    if error is not None and error.errno == errno.EADDRINUSE:
        return f"cannot listen on {address} ({field}): in use; pick another port"
    reason = error.strerror or str(error) if error is not None else "the bind failed"
    return f"cannot listen on {address} ({field}): {reason}"


__all__ = ["StartError", "Status", "ValidatorService", "listen_on", "validator_pb2"]
