"""The CPU a Python Gateway cannot go below on this machine, and the ceiling it puts on throughput.

    uv run python bench/floor.py [--in-flight 32] [--duration 3]

A Submit through the Gateway is three TLS unary calls (Endorse, Submit, CommitStatus), three
client signatures verified and two endorsements signed at the ledger, two signatures made by the
client, and the chaincode exchange. This measures the parts no ledger design that keeps
grpcio and the Gateway protocol can avoid, each on its own, with handlers that do nothing:

- one unary TLS call (2 KB request, 3 KB answer, as an Endorse) on a `grpc.aio` server, on a
  synchronous server (thread pool), and on a synchronous server whose handler awaits the event
  loop that owns the chaincode stream (what a threaded Gateway would need): server and client
  CPU per call, the client being `grpc.aio` with --in-flight calls outstanding;
- an ECDSA P-256 low-S signature and its verification, as the ledger makes and checks them.

bench_embedded.py adds the chaincode exchange (its bare path) and turns these into the ceiling
on the embedded ledger's throughput. Servers run in child processes; CPU is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path

import grpc
from cryptography.hazmat.primitives.asymmetric import ec

from cpu import own_cpu, process_cpu
from fedledger.embedded.identity import check_signature
from fedledger.fabric.crypto import sign_low_s
from fedledger.orgs import OrgLayout, generate_material
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

REQUEST = b"r" * 2048
ANSWER = b"a" * 3072
METHOD = "/fedledger.bench.Floor/Call"
CALLS_PER_SUBMIT = 3  # Endorse, Submit, CommitStatus
LEDGER_VERIFICATIONS = 3  # the proposal, the envelope, the commit-status request
LEDGER_SIGNATURES = 2  # one endorsement per organisation of a majority of three
CLIENT_SIGNATURES = 3  # the proposal, the envelope, the commit-status request


@dataclass
class CallCost:
    server: str
    calls_per_s: float
    server_cpu_us: float
    client_cpu_us: float


@dataclass
class Floor:
    calls: list[CallCost]
    sign_us: float
    verify_us: float

    def ledger_ms(self) -> float:
        """Ledger CPU per Submit without the chaincode exchange: calls and ECDSA only, each
        call at the cheapest server measured (the ceiling errs on the generous side)."""
        call = min(c.server_cpu_us for c in self.calls)
        return (
            CALLS_PER_SUBMIT * call
            + LEDGER_VERIFICATIONS * self.verify_us
            + LEDGER_SIGNATURES * self.sign_us
        ) / 1000

    def client_ms(self) -> float:
        call = min(c.client_cpu_us for c in self.calls)
        return (CALLS_PER_SUBMIT * call + CLIENT_SIGNATURES * self.sign_us) / 1000


# Servers (child processes).


def _answer(request: bytes, context: object) -> bytes:
    return ANSWER


async def _answer_async(request: bytes, context: object) -> bytes:
    return ANSWER


def _handlers(behaviour: Callable[..., object]) -> grpc.GenericRpcHandler:
    service, method = METHOD.strip("/").split("/")
    return grpc.method_handlers_generic_handler(
        service, {method: grpc.unary_unary_rpc_method_handler(behaviour)}
    )


def _serve(kind: str, port: int, tls: tuple[bytes, bytes], ready: Event) -> None:
    credentials = grpc.ssl_server_credentials([tls])
    address = f"127.0.0.1:{port}"
    if kind == "grpc.aio":

        async def main() -> None:
            server = grpc.aio.server()
            server.add_generic_rpc_handlers([_handlers(_answer_async)])
            server.add_secure_port(address, credentials)
            await server.start()
            ready.set()
            await server.wait_for_termination()

        asyncio.run(main())
        return
    behaviour: Callable[..., object] = _answer
    if kind == "sync, handler awaits a loop":
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()

        def behaviour(request: bytes, context: object) -> object:
            return asyncio.run_coroutine_threadsafe(_answer_async(request, context), loop).result()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    server.add_generic_rpc_handlers([_handlers(behaviour)])
    server.add_secure_port(address, credentials)
    server.start()
    ready.set()
    server.wait_for_termination()


# Client (this process).


async def _drive(port: int, ca: bytes, in_flight: int, duration: float) -> int:
    channel = grpc.aio.secure_channel(
        f"127.0.0.1:{port}",
        grpc.ssl_channel_credentials(ca),
        options=[("grpc.ssl_target_name_override", "localhost")],
    )
    call = channel.unary_unary(METHOD)
    await call(REQUEST)
    count = 0
    deadline = time.monotonic() + duration

    async def worker() -> None:
        nonlocal count
        while time.monotonic() < deadline:
            await call(REQUEST, timeout=10)
            count += 1

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    await channel.close()
    return count


def measure_call(
    kind: str, tls: tuple[bytes, bytes], ca: bytes, in_flight: int, duration: float
) -> CallCost:
    port = free_port_base()
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    server = spawn.Process(target=_serve, args=(kind, port, tls, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            raise RuntimeError(f"the {kind} server did not start on port {port}")
        assert server.pid is not None
        server_before, client_before, started = process_cpu(server.pid), own_cpu(), time.monotonic()
        count = asyncio.run(_drive(port, ca, in_flight, duration))
        elapsed = time.monotonic() - started
        server_cpu, client_cpu = process_cpu(server.pid) - server_before, own_cpu() - client_before
    finally:
        server.kill()
        server.join()
    return CallCost(
        kind,
        round(count / elapsed),
        round(server_cpu / count * 1e6),
        round(client_cpu / count * 1e6),
    )


def measure_ecdsa(rounds: int = 2000) -> tuple[float, float]:
    """Microseconds per low-S signature and per verification."""
    key = ec.generate_private_key(ec.SECP256R1())
    data = os.urandom(1500)
    started = time.perf_counter()
    signatures = [sign_low_s(key, data) for _ in range(rounds)]
    signed = time.perf_counter()
    public = key.public_key()
    for signature in signatures:
        check_signature(public, data, signature)
    verified = time.perf_counter()
    return (
        round((signed - started) / rounds * 1e6, 1),
        round((verified - signed) / rounds * 1e6, 1),
    )


def _tls_material(folder: Path) -> tuple[tuple[bytes, bytes], bytes]:
    """A peer's TLS key pair and its CA, from organisation material as the ledger uses it."""
    definition = NetworkDefinition.load()
    generate_material(folder, definition.members, definition.ordering)
    tls = OrgLayout.under(folder, definition.members[0].domain).peer(0)
    key, certificate = tls.tls_key("server").read_bytes(), tls.tls_cert("server").read_bytes()
    return (key, certificate), tls.tls_ca.read_bytes()


def measure_floor(in_flight: int = 32, duration: float = 3.0) -> Floor:
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
        tls, ca = _tls_material(Path(folder))
        calls = [
            measure_call(kind, tls, ca, in_flight, duration)
            for kind in ("grpc.aio", "sync", "sync, handler awaits a loop")
        ]
    sign_us, verify_us = measure_ecdsa()
    return Floor(calls, sign_us, verify_us)


def print_floor(floor: Floor) -> None:
    print(f"{'one unary TLS call, server':<32}{'calls/s':>9}{'server CPU µs':>15}{'client':>8}")
    for call in floor.calls:
        print(
            f"{call.server:<32}{call.calls_per_s:>9}{call.server_cpu_us:>15}{call.client_cpu_us:>8}"
        )
    print(f"ECDSA P-256: sign (low-S) {floor.sign_us} µs, verify {floor.verify_us} µs")
    print(
        f"floor per Submit, chaincode exchange aside: ledger {floor.ledger_ms():.2f} ms "
        f"({CALLS_PER_SUBMIT} calls at the cheapest server, {LEDGER_VERIFICATIONS} verifications, "
        f"{LEDGER_SIGNATURES} signatures), client {floor.client_ms():.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--duration", type=float, default=3.0)
    arguments = parser.parse_args()
    floor = measure_floor(arguments.in_flight, arguments.duration)
    print_floor(floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
