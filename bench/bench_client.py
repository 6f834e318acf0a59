"""Submit throughput and latency: fedledger's Python client over the Gateway and over the older
peer protocol, and the official Node client.

    uv run python bench/bench_client.py [--profile PATH] [--batch-timeout 0.1]
                                        [--concurrency 1 8 32] [--seconds 10]
                                        [--clients node python peer]

Both clients submit `health:Beat` through the same gateway peer (Org1), as the same identity,
to the same network in the same run. At each concurrency level N, N workers each submit one
transaction after another (endorse, submit, wait for commit) on their own heartbeat name, so no
two transactions conflict; each client runs twice, ordered Node, Python, Python, Node, so that
neither always goes first. After a warm-up, only transactions started and committed inside the
measured window count. The Node client is @hyperledger/fabric-gateway (bench/node-client, from
the npm registry); the Python client runs its workers as threads over one Gateway. `peer` is the
same Python client with `protocol: peer`: Endorser/ProcessProposal to the endorsing peers (chosen
by the peer's discovery service), Broadcast to an orderer, commit status from a DeliverFiltered
stream; it runs between the two Gateway runs, so the three share the network's state.

Without --profile the benchmark starts a native Fabric network (Fabric's own binaries, three
organisations, Raft) in a temporary folder with the given BatchTimeout and stops it at the end.
With --profile it uses a running network and reads the BatchTimeout from the channel
configuration. Submit latency is about BatchTimeout + endorsement, so throughput at N workers is
bounded by N / latency; what differs between clients is the time and CPU they add.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fabric_protos.common import common_pb2, configtx_pb2
from fabric_protos.orderer import configuration_pb2

from fedledger.fabric import Contract, FabricError, connect
from fedledger.profile import ConnectionProfile
from fedledger.runtime.ports import free_port_base

NODE_CLIENT = Path(__file__).parent / "node-client"
TRANSACTION = "health:Beat"
ORG = "Org1MSP"


@dataclass
class Run:
    client: str
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    failed: int = 0
    cpu_seconds: float | None = None
    errors: list[str] = field(default_factory=list)

    def merged(self, other: Run) -> Run:
        cpu = None
        if self.cpu_seconds is not None and other.cpu_seconds is not None:
            cpu = self.cpu_seconds + other.cpu_seconds
        return Run(
            self.client,
            self.concurrency,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            self.failed + other.failed,
            cpu,
            sorted(set(self.errors + other.errors))[:3],
        )

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, fraction: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    @property
    def cpu_ms_per_tx(self) -> float | None:
        if self.cpu_seconds is None or not self.latencies_ms:
            return None
        return 1000 * self.cpu_seconds / len(self.latencies_ms)


def python_run(
    contract: Contract, concurrency: int, warmup: float, seconds: float, client: str = "python"
) -> Run:
    prefix = f"bench-{client}-{concurrency}-{random.getrandbits(32):08x}"
    start = time.monotonic() + warmup
    end = start + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cpu: dict[str, float] = {}

    def worker(index: int) -> None:
        name = f"{prefix}-{index}"
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                contract.submit(TRANSACTION, [name])
            except FabricError as error:
                if started >= start:
                    with lock:
                        errors.append(str(error).splitlines()[0])
                continue
            finished = time.monotonic()
            if started >= start and finished <= end:
                with lock:
                    latencies.append(1000 * (finished - started))

    def mark_cpu(key: str, at: float) -> None:
        time.sleep(max(0.0, at - time.monotonic()))
        cpu[key] = time.process_time()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    threads += [
        threading.Thread(target=mark_cpu, args=("start", start)),
        threading.Thread(target=mark_cpu, args=("end", end)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(
        client,
        concurrency,
        seconds,
        latencies,
        failed=len(errors),
        cpu_seconds=cpu["end"] - cpu["start"],
        errors=sorted(set(errors))[:3],
    )


def node_run(
    profile: ConnectionProfile, concurrency: int, warmup: float, seconds: float, work: Path
) -> Run:
    org = profile.org(ORG)
    msp = org.identity("user")
    config = {
        "endpoint": org.gateway.endpoint,
        "serverName": org.gateway.server_name,
        "tlsCaCert": str(org.gateway.tls_ca_cert),
        "mspId": org.msp_id,
        "certPath": str(next((msp / "signcerts").iterdir())),
        "keyPath": str(next((msp / "keystore").iterdir())),
        "channel": profile.channel,
        "chaincode": profile.chaincode,
        "transaction": TRANSACTION,
        "namePrefix": f"bench-node-{concurrency}-{random.getrandbits(32):08x}",
        "concurrency": concurrency,
        "warmupSeconds": warmup,
        "seconds": seconds,
    }
    config_path = work / f"node-{concurrency}.json"
    config_path.write_text(json.dumps(config))
    completed = subprocess.run(
        ["node", str(NODE_CLIENT / "submit.js"), str(config_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=warmup + seconds + 120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the Node client failed:\n{completed.stderr}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return Run(
        "node",
        concurrency,
        seconds,
        [float(v) for v in result["latenciesMs"]],
        failed=result["failed"],
        cpu_seconds=result.get("cpuSeconds"),
        errors=result["errors"][:3],
    )


def ensure_node_client() -> None:
    if shutil.which("node") is None:
        sys.exit("the Node client needs node (>= 20) on PATH")
    if not (NODE_CLIENT / "node_modules" / "@hyperledger" / "fabric-gateway").is_dir():
        print("installing the Node client (npm ci) …", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_CLIENT, check=True)


def batch_timeout(cscc: Contract, channel: str) -> str:
    """The orderer's BatchTimeout, read from the channel's latest configuration block."""
    block = common_pb2.Block.FromString(cscc.evaluate("GetConfigBlock", [channel]))
    envelope = common_pb2.Envelope.FromString(block.data.data[0])
    payload = common_pb2.Payload.FromString(envelope.payload)
    config = configtx_pb2.ConfigEnvelope.FromString(payload.data).config
    value = config.channel_group.groups["Orderer"].values["BatchTimeout"].value
    return str(configuration_pb2.BatchTimeout.FromString(value).timeout)


@contextmanager
def own_network(batch_timeout_seconds: float) -> Iterator[ConnectionProfile]:
    from fedledger.installation import find_installation
    from fedledger.network.native import NativeNetwork
    from fedledger.runtime.definition import NetworkDefinition

    with tempfile.TemporaryDirectory(prefix="fedledger-bench-") as run_dir:
        definition = NetworkDefinition.load().with_overrides(
            port_base=free_port_base(), batch_timeout=batch_timeout_seconds
        )
        network = NativeNetwork(definition, Path(run_dir), find_installation())
        print(f"starting a native Fabric network in {run_dir} …", flush=True)
        try:
            yield network.up()
        finally:
            network.down()


def report(runs: list[dict[str, Run]], timeout: str) -> None:
    print(f"\nSubmit ({TRANSACTION}: endorse + submit + commit status), BatchTimeout {timeout}")
    print(
        f"{'conc':>4} {'client':>7} {'tx/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'cpu ms/tx':>9} {'failed':>6}   throughput ratio"
    )
    for level in runs:
        for run in level.values():
            cpu = f"{run.cpu_ms_per_tx:.2f}" if run.cpu_ms_per_tx is not None else "-"
            print(
                f"{run.concurrency:>4} {run.client:>7} {run.throughput:>8.1f} "
                f"{run.percentile(0.5):>8.1f} {run.percentile(0.95):>8.1f} {cpu:>9} "
                f"{run.failed:>6}{_ratio(run, level)}"
            )
            for error in run.errors:
                print(f"{'':>13}error: {error}")


def _ratio(run: Run, level: dict[str, Run]) -> str:
    """python against node; peer (older protocol) against python (Gateway)."""
    base = {"python": "node", "peer": "python"}.get(run.client)
    if base is None or base not in level or not level[base].throughput:
        return ""
    return f"   {run.client}/{base} {run.throughput / level[base].throughput:.2f}x"


def measure(
    clients: list[str],
    concurrency: int,
    args: argparse.Namespace,
    contracts: dict[str, Contract],
    node: Any,
) -> dict[str, Run]:
    """Each client twice at one concurrency, in the order node, python, peer, peer, python, node,
    so that no client always runs first or last."""
    order = [c for c in ("node", "python", "peer") if c in clients]
    runs: dict[str, Run] = {}
    for client in order + order[::-1]:
        if client == "node":
            run = node(concurrency)
        else:
            run = python_run(contracts[client], concurrency, args.warmup, args.seconds, client)
        runs[client] = runs[client].merged(run) if client in runs else run
    print(
        f"concurrency {concurrency}: "
        + ", ".join(f"{c} {runs[c].throughput:.1f} tx/s" for c in order),
        flush=True,
    )
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, help="a running network's connection profile")
    parser.add_argument("--batch-timeout", type=float, default=0.1, help="seconds (own network)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--seconds", type=float, default=8.0, help="measured window of each of a client's 2 runs"
    )
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--clients",
        nargs="+",
        choices=["node", "python", "peer"],
        default=["node", "python", "peer"],
        help="node: the official Node client; python: ours over the Gateway; peer: ours over "
        "Endorser, Broadcast and Deliver",
    )
    args = parser.parse_args(argv)
    if "node" in args.clients:
        ensure_node_client()

    network: Any
    if args.profile:
        network = _given(ConnectionProfile.load(args.profile))
    else:
        network = own_network(args.batch_timeout)
    with (
        network as profile,
        connect(profile, ORG) as gateway,
        connect(profile, ORG, protocol="peer") as peer,
        tempfile.TemporaryDirectory() as tmp,
    ):
        contracts = {
            "python": gateway.network(profile.channel).contract(profile.chaincode),
            "peer": peer.network(profile.channel).contract(profile.chaincode),
        }
        timeout = batch_timeout(gateway.network(profile.channel).contract("cscc"), profile.channel)

        def node(concurrency: int) -> Run:
            return node_run(profile, concurrency, args.warmup, args.seconds, Path(tmp))

        runs = [measure(args.clients, c, args, contracts, node) for c in args.concurrency]
        report(runs, timeout)


@contextmanager
def _given(profile: ConnectionProfile) -> Iterator[ConnectionProfile]:
    yield profile


if __name__ == "__main__":
    main()
