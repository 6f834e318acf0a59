"""Serving the champion: `fedledger serve` against onnxruntime in process and a bare FastAPI
endpoint, in the same run; and the time from a champion's acceptance to its first prediction.

    uv run python bench/bench_serve.py [--clients 1,8,32] [--rows 1,1000] [--seconds 5]
                                       [--swaps 3]

An embedded ledger (three organisations, BatchTimeout 250 ms) runs in a temporary folder; a task
of 20 features gets a HistGradientBoosting champion (ONNX) through real votes and a Decide.
Three targets score the same rows at each concurrency level N (N clients, each sending one
request after another for --seconds after a warm-up):

- **in-process**: `Scorer.score` (onnxruntime on the same model bytes), N threads;
- **bare**: a FastAPI endpoint on uvicorn (its own process) that reads the JSON body and answers
  a constant: what HTTP, the server and the client cost without any scoring;
- **serve**: `fedledger serve` (its own process), rows sent as JSON;
- **serve-arrow**: the same, rows sent as an Arrow IPC stream (no text to parse).

HTTP clients are threads of this process, each with its own keep-alive connection (httpx), so
the client's own CPU is in every HTTP figure: the bare endpoint measures it too. Reported per
target, rows per request and N: p50 and p99 latency, requests/s and rows/s. Goals (issue 23):
one row's p50 through serve within 1 ms of in-process + bare; 1,000-row batches at ≥ 0.8x the
in-process rows/s. Then --swaps times: a new model is accepted (Decide committed) while a client
sends one-row requests; the time from the Decide's commit to the first answer naming the new
model, against 1 s + the model's load time (from GET /model).

On a shared or 2-core machine the three targets and the clients compete for the same cores;
the ratios are meaningful only on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pyarrow as pa
from sklearn.ensemble import HistGradientBoostingClassifier

from fedledger.embedded import EmbeddedLedger
from fedledger.models.conversion import convert
from fedledger.models.scoring import Scorer
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.profile import ConnectionProfile
from fedledger.proposing import propose_model
from fedledger.registry import Policy, open_registry
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.health import wait_for
from fedledger.runtime.ports import free_port_base
from fedledger.store.factory import open_store

SCHEMA = synthetic_schema(20)
FEATURES = list(SCHEMA.feature_names)
MEMBERS = ["Org1MSP", "Org2MSP", "Org3MSP"]
JSON = "application/json"
ARROW = "application/vnd.apache.arrow.stream"
BARE_APP = """
from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@app.post("/predict")
async def predict(request: Request) -> Response:
    await request.body()
    return Response(b'{"ok": true}', media_type="application/json")
"""


@dataclass
class Result:
    target: str
    rows: int
    clients: int
    seconds: float
    latencies: list[float]
    failed: int

    def p(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self) -> str:
        return (
            f"{self.target:11s} {self.rows:5d} rows {self.clients:3d} clients: p50 "
            f"{self.p(0.5):8.3f} ms  p99 {self.p(0.99):8.3f} ms  {self.per_second:9.1f} req/s  "
            f"{self.per_second * self.rows:11.0f} rows/s  failed {self.failed}"
        )


def load(target: str, rows: int, clients: int, seconds: float, call: Callable[[], bool]) -> Result:
    """`clients` threads calling `call` back to back; only calls inside the window count."""
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    warm_until = time.perf_counter() + min(1.0, seconds / 2)
    end = warm_until + seconds

    def worker() -> None:
        while (started := time.perf_counter()) < end:
            ok = call()
            done = time.perf_counter()
            if started >= warm_until and done <= end:
                with lock:
                    if ok:
                        latencies.append(done - started)
                    else:
                        failed[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(target, rows, clients, seconds, latencies, failed[0])


def scoring(scorer: Scorer, frame: pd.DataFrame) -> Callable[[], bool]:
    def call() -> bool:
        scorer.score(frame)
        return True

    return call


def http_call(url: str, body: bytes, media: str = JSON) -> Callable[[], bool]:
    local = threading.local()

    def call() -> bool:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
        answer = local.client.post(url, content=body, headers={"content-type": media})
        return bool(answer.status_code == 200)

    return call


def accept(
    profile: ConnectionProfile, store: Path, task_id: str, model: bytes
) -> tuple[str, float]:
    """Propose, approve by two members, Decide; returns the proposal id and when the Decide's
    commit returned (perf_counter)."""
    with open_registry(profile, "Org1MSP") as registry:
        proposal = propose_model(registry, open_store(store), task_id, model)
    for org in ("Org2MSP", "Org3MSP"):
        with open_registry(profile, org) as registry:
            registry.cast_vote(
                proposal.id,
                decision="approve",
                metrics={"roc_auc": 0.9},
                holdout_rows=100,
                evaluator_version="bench",
                reason="bench",
            )
            if org == "Org3MSP":
                registry.decide(proposal.id)
                return proposal.id, time.perf_counter()
    raise AssertionError("unreachable")


def start(command: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)

    def live() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {log.read_text()}")
        try:
            return httpx.get(url, timeout=2).status_code in (200, 404, 405)
        except httpx.HTTPError:
            return False

    wait_for(live, url, 60)
    return process


def models(task_id: str, count: int) -> list[bytes]:
    frame = synthetic_frame(SCHEMA, 5000, seed=1)
    return [
        convert(
            train(SCHEMA, frame, HistGradientBoostingClassifier(max_iter=50, random_state=i)),
            task_id,
        )
        for i in range(count)
    ]


def arrow_stream(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def compare(args: argparse.Namespace, scorer: Scorer, urls: dict[str, str]) -> list[Result]:
    results = []
    for rows in args.rows:
        frame = synthetic_frame(SCHEMA, rows, seed=2)[FEATURES].reset_index(drop=True)
        body = json.dumps(json.loads(frame.to_json(orient="records"))).encode()
        arrow = arrow_stream(frame)
        for clients in args.clients:
            calls = {
                "in-process": scoring(scorer, frame),
                "bare": http_call(urls["bare"], body),
                "serve": http_call(urls["serve"], body),
                "serve-arrow": http_call(urls["serve"], arrow, ARROW),
            }
            for target, call in calls.items():
                result = load(target, rows, clients, args.seconds, call)
                results.append(result)
                print(result.line(), flush=True)
    return results


def goals(results: list[Result]) -> None:
    found = {(r.target, r.rows, r.clients): r for r in results}
    print("\ngoals (issue 23):")
    for clients in sorted({r.clients for r in results}):
        one = [found.get((t, 1, clients)) for t in ("in-process", "bare", "serve")]
        if all(one):
            inproc, bare, serve = (r.p(0.5) for r in one if r is not None)
            budget = inproc + bare + 1.0
            verdict = "met" if serve <= budget else "missed"
            print(
                f"  1 row, {clients:2d} clients: serve p50 {serve:.3f} ms vs in-process "
                f"{inproc:.3f} + bare {bare:.3f} + 1 ms = {budget:.3f} ms: {verdict}"
            )
        for target in ("serve", "serve-arrow"):
            batch = [found.get((t, 1000, clients)) for t in ("in-process", target)]
            if all(batch):
                inproc_rps, serve_rps = (r.per_second * r.rows for r in batch if r is not None)
                ratio = serve_rps / inproc_rps
                verdict = "met" if ratio >= 0.8 else "missed"
                print(
                    f"  1000 rows, {clients:2d} clients: {target} {ratio:.2f}x in-process "
                    f"rows/s (goal >= 0.8x): {verdict}"
                )


def swaps(
    profile: ConnectionProfile, store: Path, task_id: str, url: str, blobs: list[bytes]
) -> None:
    body = json.dumps(
        json.loads(synthetic_frame(SCHEMA, 1, seed=3)[FEATURES].to_json(orient="records"))
    ).encode()
    print("\nacceptance -> first prediction by the new champion (goal: <= 1 s + load time):")
    with httpx.Client(timeout=30) as client:
        for model in blobs:
            proposal_id, committed = accept(profile, store, task_id, model)
            while True:
                answer = client.post(
                    url + "/predict", content=body, headers={"content-type": "application/json"}
                )
                if answer.headers.get("x-fedledger-proposal") == proposal_id:
                    break
                if time.perf_counter() - committed > 60:
                    raise RuntimeError(f"{proposal_id} not served 60 s after its acceptance")
            elapsed = time.perf_counter() - committed
            load_seconds = client.get(url + "/model").json()["load_seconds"]
            verdict = "met" if elapsed <= 1 + load_seconds else "missed"
            shown = f"{elapsed * 1000:.0f} ms (load {load_seconds * 1000:.0f} ms)"
            print(f"  {proposal_id[:14]}…: {shown}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--rows", default="1,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--swaps", type=int, default=3)
    args = parser.parse_args()
    args.clients = [int(n) for n in args.clients.split(",")]
    args.rows = [int(n) for n in args.rows.split(",")]
    root = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    definition = NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), batch_timeout=0.25
    )
    ledger = EmbeddedLedger(definition, root / "ledger")
    profile = ledger.up()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        run(args, profile, root, processes)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        ledger.down(purge=True)


def run(
    args: argparse.Namespace,
    profile: ConnectionProfile,
    root: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    task_id = f"bench-{uuid.uuid4().hex[:8]}"
    with open_registry(profile, "Org1MSP") as registry:
        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=MEMBERS,
            policy=Policy(2, 0.5, None, None, 3600, 100_000_000, 5),
        )
    store = root / "store"
    blobs = models(task_id, 1 + args.swaps)
    accept(profile, store, task_id, blobs[0])
    fedledger = str(Path(sys.executable).parent / "fedledger")
    serve_port, bare_port = free_port(), free_port()
    serve_url = f"http://127.0.0.1:{serve_port}"
    processes.append(
        start(
            [
                fedledger,
                "--log-level",
                "warning",
                "serve",
                "--task",
                task_id,
                "--port",
                str(serve_port),
                "--store",
                str(store),
                "--profile",
                str(profile.path),
            ],
            serve_url + "/healthz",
            root / "serve.log",
        )
    )
    wait_for(lambda: httpx.get(serve_url + "/readyz").status_code == 200, "serve ready", 60)
    (root / "bare_app.py").write_text(BARE_APP)
    bare_url = f"http://127.0.0.1:{bare_port}"
    processes.append(
        start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            bare_url + "/docs",
            root / "bare.log",
        )
    )
    print(f"cpus: {os.cpu_count()}, model {len(blobs[0]):,} bytes, {args.seconds} s per point")
    scorer = Scorer(blobs[0], SCHEMA)
    results = compare(
        args, scorer, {"bare": bare_url + "/predict", "serve": serve_url + "/predict"}
    )
    goals(results)
    swaps(profile, store, task_id, serve_url, blobs[1:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
