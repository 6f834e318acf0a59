"""Submit throughput and latency: the embedded ledger, the native network, the bare chaincode path.

    uv run python bench/bench_embedded.py [--levels 1,8,32] [--duration 4] [--batch-timeout 0.1]

For each level of transactions in flight, clients submit `health:Beat` (endorse, sign, submit,
wait for the commit) for `--duration` seconds, each client on its own key so that no
transaction fails on an MVCC conflict. Runs:

- embedded: the embedded ledger with the network definition's block size and the given
  BatchTimeout;
- embedded, cut by count: the same with MaxMessageCount = in-flight / 2, so blocks are cut by
  count rather than by waiting on the timeout;
- fabric: the native network (same chaincode function, same BatchTimeout), when a Fabric
  installation is found (--no-fabric skips it);
- bare: the chaincode process driven directly over the chaincode protocol, with no signing,
  ordering or storage: the limit on this machine.

Also reports how long `EmbeddedLedger.up()` takes to ready, the CPU each process spent per
transaction (the ledger, the chaincode, this client process; read from /proc and getrusage),
and each embedded result's ratio to the bare path and to the native network at the same level.
Last, the floors bench/floor.py measures (gRPC calls, ECDSA; --no-floor skips them) with the bare
path's CPU give the ceiling any Python Gateway has on this machine at the highest level.
Prints a table; --json writes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import grpc
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import chaincode_pb2, transaction_pb2

from cpu import children, own_cpu, process_cpu
from fedledger.cli.logs import configure_logging
from fedledger.embedded import EmbeddedLedger
from fedledger.embedded.chaincode_process import NODE_SERVER
from fedledger.embedded.chaincode_protocol import ChaincodeStream, Invocation
from fedledger.embedded.probe import build_proposal
from fedledger.embedded.simulator import TxSimulator
from fedledger.embedded.store import HistoryEntry, StateEntry
from fedledger.fabric import SigningIdentity
from fedledger.profile import ConnectionProfile
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base
from floor import Floor, measure_floor, print_floor

FUNCTION = "health:Beat"


@dataclass
class Result:
    backend: str
    in_flight: int
    transactions: int
    seconds: float
    tx_per_s: float
    p50_ms: float
    p95_ms: float
    failures: int
    server_cpu_ms: float | None = None  # per transaction: the ledger process (None: not ours)
    chaincode_cpu_ms: float | None = None
    client_cpu_ms: float | None = None


def summarise(
    backend: str, level: int, latencies: list[float], failures: int, seconds: float
) -> Result:
    ordered = sorted(latencies) or [float("nan")]
    return Result(
        backend,
        level,
        len(latencies),
        round(seconds, 2),
        round(len(latencies) / seconds, 1),
        round(statistics.median(ordered) * 1000, 2),
        round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2),
        failures,
    )


async def measured_level(
    backend: str,
    level: int,
    duration: float,
    transaction: Callable[[str], Awaitable[bool]],
    server: int | None,
    chaincode: list[int],
) -> Result:
    """One level, with the CPU each process spent per committed transaction."""
    pids = ([server] if server else []) + chaincode
    before = [process_cpu(p) for p in pids], own_cpu()
    latencies, failures, seconds = await run_level(level, duration, transaction)
    after = [process_cpu(p) for p in pids], own_cpu()
    spent = [b - a for a, b in zip(before[0], after[0], strict=True)]
    count = max(1, len(latencies))

    def per_tx(cpu: float) -> float:
        return round(cpu / count * 1000, 3)

    result = summarise(backend, level, latencies, failures, seconds)
    result.server_cpu_ms = per_tx(spent[0]) if server else None
    result.chaincode_cpu_ms = per_tx(sum(spent[1:] if server else spent)) if chaincode else None
    result.client_cpu_ms = per_tx(after[1] - before[1])
    return result


async def run_level(
    level: int, duration: float, transaction: Callable[[str], Awaitable[bool]]
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + duration

    async def worker() -> None:
        nonlocal failures
        name = f"bench{uuid.uuid4().hex[:12]}"
        while time.monotonic() < deadline:
            started = time.perf_counter()
            if await transaction(name):
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(level)))
    return latencies, failures, time.monotonic() - started


class GatewaySubmitter:
    """Endorse, sign, submit and wait for the commit, over one gRPC channel (asyncio)."""

    def __init__(self, profile: ConnectionProfile, msp_id: str = "Org1MSP") -> None:
        org = profile.org(msp_id)
        self.client = SigningIdentity.from_msp_folder(org.identity("user"), msp_id)
        self.channel_name = profile.channel
        self.chaincode = profile.chaincode
        self.channel = grpc.aio.secure_channel(
            org.gateway.endpoint,
            grpc.ssl_channel_credentials(org.gateway.tls_ca_cert.read_bytes()),
            options=[("grpc.ssl_target_name_override", org.gateway.server_name)],
        )
        self.stub = gateway_pb2_grpc.GatewayStub(self.channel)

    async def submit(self, name: str) -> bool:
        proposed = build_proposal(self.client, self.channel_name, self.chaincode, [FUNCTION, name])
        try:
            endorsed = await self.stub.Endorse(
                gateway_pb2.EndorseRequest(
                    transaction_id=proposed.txid,
                    channel_id=self.channel_name,
                    proposed_transaction=proposed.signed,
                ),
                timeout=30,
            )
            envelope = endorsed.prepared_transaction
            envelope.signature = self.client.sign(envelope.payload)
            await self.stub.Submit(
                gateway_pb2.SubmitRequest(
                    transaction_id=proposed.txid,
                    channel_id=self.channel_name,
                    prepared_transaction=envelope,
                ),
                timeout=30,
            )
            request = gateway_pb2.CommitStatusRequest(
                transaction_id=proposed.txid,
                channel_id=self.channel_name,
                identity=self.client.creator,
            ).SerializeToString()
            status = await self.stub.CommitStatus(
                gateway_pb2.SignedCommitStatusRequest(
                    request=request, signature=self.client.sign(request)
                ),
                timeout=60,
            )
        except grpc.RpcError:
            return False
        return status.result == transaction_pb2.VALID  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.channel.close()


async def bench_gateway(
    backend: str,
    profile: ConnectionProfile,
    levels: list[int],
    duration: float,
    server: int | None = None,
) -> list[Result]:
    submitter = GatewaySubmitter(profile)
    results = []
    chaincode = children(server) if server else []
    try:
        await run_level(2, 1.0, submitter.submit)  # warm up connections and the chaincode
        for level in levels:
            results.append(
                await measured_level(backend, level, duration, submitter.submit, server, chaincode)
            )
            print(results[-1], file=sys.stderr)
    finally:
        await submitter.close()
    return results


class MemoryState:
    def __init__(self) -> None:
        self.entries: dict[str, StateEntry] = {}

    def get_state(self, namespace: str, key: str) -> StateEntry | None:
        return self.entries.get(key)

    def state_range(
        self, namespace: str, start: str, end: str, limit: int | None = None
    ) -> list[StateEntry]:
        return []

    def history(self, namespace: str, key: str) -> list[HistoryEntry]:
        return []


async def bench_bare(
    definition: NetworkDefinition, client: SigningIdentity, levels: list[int], duration: float
) -> list[Result]:
    """The chaincode alone: the peer's side of the protocol with an in-memory state."""
    port = free_port()
    source = definition.chaincode_source
    # The same logging as the embedded ledger gives its chaincode (chaincode_process.py).
    environment = dict(
        os.environ, CORE_CHAINCODE_LOGGING_LEVEL="warning", CORE_CHAINCODE_LOGGING_SHIM="warning"
    )
    process = await asyncio.create_subprocess_exec(
        str(source / NODE_SERVER),
        "server",
        "--chaincode-address",
        f"127.0.0.1:{port}",
        "--chaincode-id",
        "bench:bare",
        cwd=source,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
    )
    stream = ChaincodeStream(f"127.0.0.1:{port}")
    state = MemoryState()
    results = []
    try:
        await stream.open(20)

        # The bare path has no signing: one signed proposal per client, reused (the shim
        # needs a parseable one to build the client identity; it checks no signature).
        proposal_cache: dict[str, Any] = {}

        async def unsigned(name: str) -> bool:
            if name not in proposal_cache:
                proposal_cache[name] = build_proposal(
                    client, definition.channel, definition.chaincode_name, [FUNCTION, name]
                )
            proposed = proposal_cache[name]
            arguments = chaincode_pb2.ChaincodeInput(args=[FUNCTION.encode(), name.encode()])
            simulator = TxSimulator(state, definition.chaincode_name)
            outcome = await stream.execute(
                Invocation(
                    uuid.uuid4().hex,
                    definition.channel,
                    arguments.SerializeToString(),
                    proposed.signed,
                ),
                simulator,
                30,
            )
            for key, value in simulator.writes.items():
                if value is not None:
                    state.entries[key] = StateEntry(key, value, (1, 0))
            return outcome.response.status == 200  # type: ignore[no-any-return]

        await run_level(2, 1.0, unsigned)
        for level in levels:
            results.append(
                await measured_level(
                    "bare chaincode", level, duration, unsigned, None, [process.pid]
                )
            )
            print(results[-1], file=sys.stderr)
    finally:
        await stream.close()
        process.terminate()
        await process.wait()
    return results


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def embedded_run(
    definition: NetworkDefinition, label: str, levels: list[int], duration: float, work: Path
) -> tuple[list[Result], float]:
    ledger = EmbeddedLedger(definition, work / label.replace(" ", "-"))
    started = time.monotonic()
    profile = ledger.up()
    ready = time.monotonic() - started
    try:
        server = int(json.loads(ledger.paths.pid.read_text())["pid"])
        results = asyncio.run(bench_gateway(label, profile, levels, duration, server))
    finally:
        ledger.down()
    return results, ready


def native_run(
    definition: NetworkDefinition, levels: list[int], duration: float, work: Path
) -> list[Result] | str:
    from fedledger.installation import InstallationError, find_installation
    from fedledger.network.native import NativeNetwork

    try:
        installation = find_installation()
    except InstallationError as error:
        return f"skipped: {error}"
    network = NativeNetwork(definition, work / "fabric", installation)
    try:
        profile = network.up()
        return asyncio.run(bench_gateway("fabric", profile, levels, duration))
    finally:
        network.down()


def ratios(rows: list[dict[str, Any]]) -> list[str]:
    """Each embedded result against the baselines of this run at the same level."""
    by = {(r["backend"], r["in_flight"]): r["tx_per_s"] for r in rows}
    lines = []
    for (backend, level), value in by.items():
        if not backend.startswith("embedded"):
            continue
        for baseline in ("bare chaincode", "fabric"):
            base = by.get((baseline, level))
            if base:
                lines.append(
                    f"{backend} / {baseline} at {level} in flight: {value / base:.0%} "
                    f"({value} / {base} tx/s)"
                )
    return lines


def ceiling(floor: Floor, bare: dict[str, Any]) -> str:
    """The most tx/s a Python Gateway can reach here: the cores over the CPU per Submit that
    no design avoids (the floors, the bare path's chaincode exchange and chaincode)."""
    cores = len(os.sched_getaffinity(0))
    parts = {
        "ledger calls and ECDSA": floor.ledger_ms(),
        "chaincode exchange": bare["client_cpu_ms"],
        "client": floor.client_ms(),
        "chaincode": bare["chaincode_cpu_ms"],
    }
    total = sum(parts.values())
    most = cores * 1000 / total
    spelled = " + ".join(f"{name} {value:.2f}" for name, value in parts.items())
    return (
        f"ceiling at {bare['in_flight']} in flight: {spelled} = {total:.2f} ms CPU per Submit "
        f"on {cores} cores = {most:.0f} tx/s, {most / bare['tx_per_s']:.0%} of the bare path "
        f"({bare['tx_per_s']} tx/s)"
    )


def main() -> int:
    configure_logging()  # logs on stderr, the table alone on stdout
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--batch-timeout", type=float, default=0.1)
    parser.add_argument("--no-fabric", action="store_true")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--chaincode", type=Path, help="a built chaincode folder (default: the definition's)"
    )
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.levels.split(",")]
    base = NetworkDefinition.load().with_overrides(batch_timeout=arguments.batch_timeout)
    if arguments.chaincode:
        base = replace(base, chaincode_source=arguments.chaincode.resolve())
    report: dict[str, Any] = {"batch_timeout_s": arguments.batch_timeout, "results": []}
    with tempfile.TemporaryDirectory(prefix="bench-embedded-") as folder:
        work = Path(folder)
        definition = base.with_overrides(port_base=free_port_base())
        results, ready = embedded_run(definition, "embedded", levels, arguments.duration, work)
        report["embedded_up_s"] = round(ready, 2)
        report["results"] += results
        for level in levels:
            by_count = replace(
                base.with_overrides(port_base=free_port_base()),
                max_message_count=max(1, level // 2),
            )
            counted, _ = embedded_run(
                by_count, "embedded cut by count", [level], arguments.duration, work
            )
            report["results"] += counted
        if not arguments.no_fabric:
            native = native_run(
                base.with_overrides(port_base=free_port_base()), levels, arguments.duration, work
            )
            if isinstance(native, str):
                report["fabric"] = native
            else:
                report["results"] += native
        client_dir = work / "embedded" / "crypto"
        from fedledger.orgs import OrgLayout

        client = SigningIdentity.from_msp_folder(
            OrgLayout.under(client_dir, base.members[0].domain).client.msp, base.members[0].msp_id
        )
        report["results"] += asyncio.run(bench_bare(base, client, levels, arguments.duration))
    rows = [asdict(r) for r in report["results"]]
    report["results"] = rows
    print(
        f"{'backend':<24}{'in flight':>10}{'tx/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'fail':>6}"
        f"{'CPU ms/tx: server':>19}{'chaincode':>10}{'client':>8}"
    )

    def cpu(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for row in rows:
        print(
            f"{row['backend']:<24}{row['in_flight']:>10}{row['tx_per_s']:>10}"
            f"{row['p50_ms']:>10}{row['p95_ms']:>10}{row['failures']:>6}"
            f"{cpu(row['server_cpu_ms']):>19}{cpu(row['chaincode_cpu_ms']):>10}"
            f"{cpu(row['client_cpu_ms']):>8}"
        )
    report["ratios"] = ratios(rows)
    for line in report["ratios"]:
        print(line)
    print(f"embedded ledger up to ready: {report['embedded_up_s']} s")
    if not arguments.no_floor:
        floor = measure_floor(max(levels))
        print_floor(floor)
        bare = max(
            (r for r in rows if r["backend"] == "bare chaincode"), key=lambda r: r["in_flight"]
        )
        report["floor"] = asdict(floor)
        report["ceiling"] = ceiling(floor, bare)
        print(report["ceiling"])
    if "fabric" in report:
        print(f"fabric: {report['fabric']}")
    if arguments.json:
        arguments.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
