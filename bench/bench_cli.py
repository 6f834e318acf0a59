"""Wall time of the `fedledger` command line from the keypress, against the bare interpreter.

    .venv/bin/python bench/bench_cli.py [--repeats 3] [--batch-timeout 250ms] [--no-fabric]
                                        [--json FILE]

Each row is the time around `subprocess.run` of the real console script `<venv>/bin/fedledger`
(process start, imports, the work, exit), as a person typing the command waits for it:

- `fedledger --help`;
- `fedledger network up --ledger embedded` to ready, each time in a fresh run folder; the first of
  these networks then serves the rows that need a running network:
  `fedledger network status`, `fedledger task list` (after one `fedledger task create`) and
  `fedledger propose model.onnx --task T --org Org2MSP` until the proposal is registered (the
  command returns after the commit; each run proposes a different model, and every proposal is
  read back from the ledger afterwards);
- a validator from its start to its first vote: with a task created and a model proposed (in
  this process, on the same network), `fedledger validator serve --config FILE` for Org1MSP is
  started and this process polls the ledger until Org1MSP's vote is on it;
- `fedledger network up --ledger embedded --validators FILE` to ready (ledger and one validator
  per organisation, each with a holdout generated here, for a task not created yet);
- `fedledger network up --ledger fabric` to ready, when a Fabric installation is found
  (otherwise the row says fabric was skipped, and why).

The baseline, measured in the same run: the bare interpreter, `<venv>/bin/python -c pass`; the
ratio column ("times bare python") is each median over the baseline's. The propose goal adds
the ledger's commit, measured in this run as the median of this process's own SubmitProposal
calls over an open connection (the same transaction `propose` ends with). "met" compares the
median with the goal. An untimed run of the baseline and of `fedledger --help` comes first
(bytecode compiled, files in the page cache). Every network runs in a temporary folder on a free
block of ports and is stopped with `fedledger network down --purge` whatever happens. Logs on
stderr, the table alone on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sklearn.linear_model import LogisticRegression

from fedledger.cli.logs import configure_logging
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.profile import ConnectionProfile
from fedledger.registry.client import Registry, open_registry, proposal_id_for
from fedledger.registry.records import Policy
from fedledger.runtime.ports import free_port_base
from fedledger.store.factory import open_store
from fedledger.validator.endpoint import ENDPOINT_FILE
from fedledger.validator.profile_config import config_document, write_config

ORGS = ["Org1MSP", "Org2MSP", "Org3MSP"]
SCHEMA = synthetic_schema()
TASK = "bench-cli"
VOTER = "Org1MSP"
PROPOSER = "Org2MSP"
COMMAND_TIMEOUT = 600.0  # a `network up` on Fabric included
VOTE_TIMEOUT = 60.0
POLL_SECONDS = 0.02
STARTED = time.monotonic()
RATIO = "\N{MULTIPLICATION SIGN} bare python"


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


@dataclass
class Row:
    label: str
    seconds: list[float] = field(default_factory=list)
    goal: float | None = None
    goal_text: str = "-"
    skipped: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def max(self) -> float:
        return max(self.seconds)

    def met(self) -> str:
        if self.skipped:
            return "skipped"
        if self.goal is None:
            return "-"
        return "yes" if self.median <= self.goal else "no"


class Bench:
    def __init__(self, venv_bin: Path, work: Path, repeats: int, batch_timeout: str) -> None:
        self.python = venv_bin / "python"
        self.fedledger = venv_bin / "fedledger"
        self.work = work
        self.repeats = repeats
        self.batch_timeout = batch_timeout
        self.networks = 0
        # The user's own FEDLEDGER_* settings (run folder, profile, organisation) stay out.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLEDGER_")}

    def timed(self, argv: Sequence[str | Path]) -> tuple[float, subprocess.CompletedProcess[str]]:
        """Seconds from starting the command to its exit; fails on a non-zero exit."""
        command = [str(part) for part in argv]
        started = time.perf_counter()
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=self.work,
            env=self.env,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(command)}` exited with {done.returncode}:\n{done.stderr}{done.stdout}"
            )
        return seconds, done

    def cli(self, *args: str | Path) -> tuple[float, subprocess.CompletedProcess[str]]:
        return self.timed([self.fedledger, *args])

    def measure(self, row: Row, *args: str | Path) -> Row:
        for _ in range(self.repeats):
            seconds, _ = self.cli(*args)
            row.seconds.append(seconds)
        log(f"{row.label}: median {row.median:.2f} s")
        return row

    @contextmanager
    def network(self, *options: str | Path) -> Iterator[tuple[Path, float]]:
        """`network up` (timed) in a fresh run folder on a free port block; always `down`."""
        self.networks += 1
        run_dir = self.work / f"network-{self.networks}"
        try:
            seconds, _ = self.cli(
                "network",
                "up",
                *options,
                "--port-base",
                str(free_port_base()),
                "--batch-timeout",
                self.batch_timeout,
                "--run-dir",
                run_dir,
            )
            log(f"network up {' '.join(map(str, options))}: {seconds:.2f} s")
            yield run_dir, seconds
        finally:
            self.down(run_dir)

    def down(self, run_dir: Path, attempts: int = 3) -> None:
        """`network down --purge`, tried again a few seconds later should it fail."""
        for attempt in range(1, attempts + 1):
            down = subprocess.run(
                [str(self.fedledger), "network", "down", "--purge", "--run-dir", str(run_dir)],
                capture_output=True,
                text=True,
                cwd=self.work,
                env=self.env,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
            if down.returncode == 0 or not run_dir.exists():
                return
            log(f"network down --purge --run-dir {run_dir} failed ({attempt}):\n{down.stderr}")
            time.sleep(5)


def make_model(task_id: str, seed: int) -> bytes:
    """A logistic regression for `task_id`; each seed gives another model (another hash)."""
    trained = train(
        SCHEMA, synthetic_frame(SCHEMA, 400, seed=seed), LogisticRegression(max_iter=300)
    )
    return convert(trained, task_id=task_id)


def write_holdouts(folder: Path, task_id: str) -> dict[str, Path]:
    """A disjoint holdout per organisation, as the demo gives each its own."""
    frame = synthetic_frame(SCHEMA, 400 * (len(ORGS) + 1), seed=3)
    folder.mkdir(parents=True, exist_ok=True)
    holdouts = {}
    for i, org in enumerate(ORGS):
        path = folder / f"{org}-{task_id}.parquet"
        frame.iloc[400 * (i + 1) : 400 * (i + 2)].to_parquet(path, index=False)
        holdouts[org] = path
    return holdouts


def bench_running_network(bench: Bench, run_dir: Path, rows: dict[str, Row]) -> None:
    """status, task list and propose on one running network."""
    rows["status"] = bench.measure(
        Row("fedledger network status", goal=1.0, goal_text="≤ 1.0 s"),
        "network",
        "status",
        "--run-dir",
        run_dir,
    )
    spec = bench.work / "task.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "id": TASK,
                "description": "bench/bench_cli.py",
                "schema": SCHEMA.to_dict(),
                "metric": "roc_auc",
                "policy": {"maxOpenProposalsPerOrg": 100},
            }
        )
    )
    bench.cli("task", "create", spec, "--org", "Org1MSP", "--run-dir", run_dir)
    rows["task list"] = bench.measure(
        Row("fedledger task list", goal=1.0, goal_text="≤ 1.0 s"),
        "task",
        "list",
        "--run-dir",
        run_dir,
    )
    row = rows["propose"] = Row("fedledger propose model.onnx (to registered)")
    proposed = []
    for i in range(bench.repeats):
        model = bench.work / f"model-{i}.onnx"
        model.write_bytes(make_model(TASK, seed=100 + i))
        seconds, _ = bench.cli(
            "propose", model, "--task", TASK, "--org", PROPOSER, "--run-dir", run_dir
        )
        row.seconds.append(seconds)
        proposed.append(proposal_id_for(TASK, hashlib.sha256(model.read_bytes()).hexdigest()))
    profile = ConnectionProfile.load(run_dir / "connection-profile.yaml")
    with open_registry(profile, PROPOSER) as registry:
        for proposal_id in proposed:
            registry.get_proposal(proposal_id)  # raises unless it is on the ledger
    log(f"{row.label}: median {row.median:.2f} s; {len(proposed)} proposals on the ledger")


def submit(registry: Registry, store_dir: Path, task_id: str, model: bytes) -> tuple[str, float]:
    """Propose in this process; the id and the seconds SubmitProposal took (the commit)."""
    uri = open_store(store_dir).put(model)
    started = time.perf_counter()
    proposal = registry.submit_proposal(
        task_id, model_sha256=hashlib.sha256(model).hexdigest(), uri=uri, size_bytes=len(model)
    )
    return proposal.id, time.perf_counter() - started


def bench_first_vote(bench: Bench, run_dir: Path, rows: dict[str, Row]) -> None:
    """From `validator serve` starting to its vote on the ledger, one fresh task per run."""
    profile = ConnectionProfile.load(run_dir / "connection-profile.yaml")
    row = rows["vote"] = Row(
        f"fedledger validator serve (start to first vote, {VOTER})", goal=3.0, goal_text="≤ 3 s"
    )
    commit = rows["commit"] = Row("ledger commit (SubmitProposal in this process)")
    with open_registry(profile, PROPOSER) as registry:
        for i in range(bench.repeats):
            task_id = f"bench-cli-vote-{i}"
            registry.create_task(
                task_id,
                schema=SCHEMA.to_dict(),
                metric="roc_auc",
                members=ORGS,  # quorum 3: the proposal stays open after the one vote measured
                policy=Policy(
                    quorum=len(ORGS),
                    approval_threshold=0.5,
                    min_score=None,
                    max_regression=None,
                    voting_period_seconds=3600,
                    max_model_bytes=64 * 1024 * 1024,
                    max_open_proposals_per_org=100,
                ),
            )
            proposal_id, seconds = submit(
                registry, run_dir / "store", task_id, make_model(task_id, seed=200 + i)
            )
            commit.seconds.append(seconds)
            folder = bench.work / f"validator-{i}"
            holdout = write_holdouts(folder, task_id)[VOTER]
            config = write_config(
                folder / "validator.yaml",
                config_document(
                    profile,
                    VOTER,
                    tasks={task_id: holdout},
                    store=str(run_dir / "store"),
                    state_dir=folder / "state",
                ),
            )
            row.seconds.append(time_first_vote(bench, registry, config, proposal_id, folder))
            log(f"{VOTER} voted on {proposal_id} {row.seconds[-1]:.2f} s after its start")
    log(f"{commit.label}: median {commit.median:.3f} s")


def time_first_vote(
    bench: Bench, registry: Registry, config: Path, proposal_id: str, folder: Path
) -> float:
    log_path = folder / "validator.log"
    with log_path.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(bench.fedledger), "validator", "serve", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=bench.work,
            env=bench.env,
        )
        endpoint = folder / "state" / ENDPOINT_FILE
        try:
            while True:
                # The ledger is asked only once the validator serves (it votes after that), so
                # the polling does not compete with its start for the CPU.
                if endpoint.exists() and any(
                    vote.voter == VOTER for vote in registry.get_votes(proposal_id)
                ):
                    return time.perf_counter() - started
                if process.poll() is not None:
                    raise RuntimeError(f"the validator exited before voting:\n{tail(log_path)}")
                if time.perf_counter() - started > VOTE_TIMEOUT:
                    raise RuntimeError(
                        f"no vote {VOTE_TIMEOUT:.0f} s after the start:\n{tail(log_path)}"
                    )
                time.sleep(POLL_SECONDS)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def bench_validators_up(bench: Bench, rows: dict[str, Row]) -> None:
    holdouts = write_holdouts(bench.work / "holdouts", "bench-cli-validators")
    spec = bench.work / "validators.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "organizations": {
                    org: {"tasks": {"bench-cli-validators": str(path)}}
                    for org, path in holdouts.items()
                }
            }
        )
    )
    row = rows["up validators"] = Row(
        "fedledger network up --validators (embedded)", goal=8.0, goal_text="≤ 8 s"
    )
    for _ in range(bench.repeats):
        with bench.network("--ledger", "embedded", "--validators", spec) as (_, seconds):
            row.seconds.append(seconds)


def fabric_missing() -> str | None:
    """Why the fabric backend cannot run here, or None when an installation is found."""
    from fedledger.installation import InstallationError, find_installation

    try:
        find_installation()
    except InstallationError as error:
        return str(error)
    return None


def print_table(rows: list[Row], baseline: Row) -> None:
    width = max(len(row.label) for row in rows) + 2
    goal_width = max(len(row.goal_text) for row in rows) + 3
    lines = [
        f"{'command':<{width}}{'runs':>5}{'median s':>10}{'max s':>9}{RATIO:>15}   "
        f"{'goal':<{goal_width}}met"
    ]
    for row in rows:
        if row.skipped:
            figures = f"{0:>5}{'-':>10}{'-':>9}{'-':>15}"
        else:
            figures = (
                f"{len(row.seconds):>5}{row.median:>10.3f}{row.max:>9.3f}"
                f"{row.median / baseline.median:>15.1f}"
            )
        lines.append(f"{row.label:<{width}}{figures}   {row.goal_text:<{goal_width}}{row.met()}")
    print("\n".join(lines))


def main() -> int:
    configure_logging()  # logs on stderr, the table alone on stdout
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command")
    parser.add_argument("--batch-timeout", default="250ms", help="the networks' BatchTimeout")
    parser.add_argument("--no-fabric", action="store_true", help="skip the fabric backend")
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args()
    if arguments.repeats < 1:
        parser.error("--repeats must be at least 1")
    venv_bin = Path(sys.prefix) / "bin"
    if not (venv_bin / "fedledger").exists():
        parser.error(f"no fedledger console script in {venv_bin}: run `make setup` first")
    begun = time.monotonic()
    rows: dict[str, Row] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        bench = Bench(venv_bin, Path(folder), arguments.repeats, arguments.batch_timeout)
        baseline = rows["python"] = Row("python -c pass (baseline)")
        bench.timed([bench.python, "-c", "pass"])  # untimed, as for `--help` below
        for _ in range(bench.repeats):
            baseline.seconds.append(bench.timed([bench.python, "-c", "pass"])[0])
        log(f"{baseline.label}: median {baseline.median * 1000:.1f} ms")
        bench.cli("--help")  # once untimed: bytecode compiled, files in the page cache
        rows["help"] = bench.measure(
            Row("fedledger --help", goal=0.5, goal_text="≤ 0.5 s"), "--help"
        )
        up = rows["up"] = Row("fedledger network up (embedded)", goal=3.0, goal_text="≤ 3 s")
        for i in range(bench.repeats):
            with bench.network("--ledger", "embedded") as (run_dir, seconds):
                up.seconds.append(seconds)
                if i == 0:
                    bench_running_network(bench, run_dir, rows)
                    bench_first_vote(bench, run_dir, rows)
        bench_validators_up(bench, rows)
        fabric = rows["fabric"] = Row("fedledger network up (fabric)", goal=8.0, goal_text="≤ 8 s")
        why = "asked for with --no-fabric" if arguments.no_fabric else fabric_missing()
        if why is None:
            for _ in range(bench.repeats):
                with bench.network("--ledger", "fabric") as (_, seconds):
                    fabric.seconds.append(seconds)
        else:
            fabric.skipped = why
            log(f"fabric skipped: {why}")
    commit = rows["commit"].median
    rows["propose"].goal = 2.0 + commit
    rows["propose"].goal_text = f"≤ 2 s + commit = {2.0 + commit:.2f} s"
    order = ["python", "help", "status", "task list", "propose", "commit", "up"]
    order += ["up validators", "fabric", "vote"]
    table = [rows[key] for key in order]
    print_table(table, baseline)
    if fabric.skipped:
        print(f"fabric skipped: {fabric.skipped}")
    total = time.monotonic() - begun
    print(f"whole run: {total:.0f} s; runs of each command: {arguments.repeats}")
    if arguments.json:
        report: dict[str, Any] = {
            "repeats": arguments.repeats,
            "batch_timeout": arguments.batch_timeout,
            "seconds": round(total, 1),
            "rows": [
                {
                    "command": row.label,
                    "seconds": [round(s, 4) for s in row.seconds],
                    "median": None if row.skipped else round(row.median, 4),
                    "max": None if row.skipped else round(row.max, 4),
                    "x_bare_python": None
                    if row.skipped
                    else round(row.median / baseline.median, 2),
                    "goal_s": row.goal,
                    "met": row.met(),
                    "skipped": row.skipped or None,
                }
                for row in table
            ],
        }
        arguments.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
