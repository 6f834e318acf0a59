"""The validator's gRPC server (mutual TLS, health, reflection) and its metrics endpoint,
bound where the configuration says; a failure to listen names the field to change."""

from __future__ import annotations

import datetime as dt
import errno
import socket
from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from fedledger.fabric.gateway import accepted_pings
from fedledger.validator.api import SERVICE_NAME, add_validator_servicer
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.errors import StartError
from fedledger.validator.metrics import MetricsServer, ValidatorMetrics
from fedledger.validator.servicer import ValidatorServicer
from fedledger.validator.tls import server_tls

# Room above the largest inline model for the rest of the request.
_MESSAGE_OVERHEAD = 64 * 1024


@dataclass
class RunningServer:
    server: grpc.Server
    health: health.HealthServicer
    address: str


def start_server(config: ValidatorConfig, servicer: ValidatorServicer) -> RunningServer:
    """Serve `servicer` on listen.address with mutual TLS, health checking and reflection."""
    limits = config.limits
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
            # Clients pinging as they may ping a Fabric peer are not cut off.
            *accepted_pings(),
        ],
    )
    add_validator_servicer(servicer, server)
    checks = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    tls = server_tls(
        config.listen, f"validator.{config.organization.lower()}", dt.datetime.now(dt.UTC)
    )
    host, _, _ = config.listen.address.rpartition(":")
    port = listen_on(server, config.listen.address, tls.credentials())
    server.start()
    for name in ("", SERVICE_NAME):
        checks.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, checks, f"{host}:{port}")


def listen_on(server: grpc.Server, address: str, credentials: grpc.ServerCredentials) -> int:
    """Bind `server` to `address` (listen.address); the port bound. grpcio says only that the
    bind failed, so the reason is found by binding a plain socket there.

    Raises StartError with that reason.
    """
    try:
        port: int = server.add_secure_port(address, credentials)
    except RuntimeError as error:
        raise StartError(_cannot_listen(address, "listen.address", _bind_error(address))) from error
    if port == 0:
        raise StartError(_cannot_listen(address, "listen.address", _bind_error(address)))
    return port


def serve_metrics(metrics: ValidatorMetrics, address: str) -> MetricsServer:
    """Serve `metrics` on `address` (metrics.address).

    Raises StartError when the address cannot be bound.
    """
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
