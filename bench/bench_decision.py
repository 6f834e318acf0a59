"""Propose → decided at 3, 5 and 10 organisations, against main's earlier design in the same run.

    uv run python bench/bench_decision.py [--orgs 3,5,10] [--proposals 10] [--backends ...]

For each backend (the embedded ledger; Fabric when installed) and each number of organisations,
two networks run the same consortium, BatchTimeout 250 ms, one validator per organisation (in
this process, each with its own sandbox), a task every member must vote on (quorum = members):

- **decide**: this checkout's chaincode, where a vote writes only its own key and the
  validators submit Decide once the votes decide;
- **baseline**: chaincode 0.1 (the commit tests/integration/chaincode_builds.py names), where
  each vote rewrote the proposal's tally and decided in its own transaction, so the votes of one
  block conflicted and were resubmitted. The validators are this checkout's (they resubmit a
  conflicting vote without evaluating again, which main's did not), so the baseline is, if
  anything, faster than main was.

Each proposal is a new logistic regression (ONNX, a few KB); its time runs from the
SubmitProposal call to the arrival of its ProposalDecided event at a listener. Reported per
configuration: median and p95 of the proposals (after one warm-up); the median time to the last
vote that did not decide (the evaluations and their votes: what the decision waits for); blocks
from the proposal's to the decision's and from that last vote's to the decision's; and per
decision the votes Fabric invalidated for a read conflict (each one resubmitted: the
validators' read_conflicts{path="vote"}) and the losing Decides (read_conflicts{path="decide"}).
Goals (issue 19): the decision in the block after the last vote's (propose block + evaluation +
2 blocks), median ≤ 1.5 s at 3 organisations and ≤ 2.0 s at 10 on both backends, no vote
conflicts, and at least twice as fast as the baseline at 10.

This is the consortium's decision; bench_validator.py times one validator's Evaluate.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.linear_model import LogisticRegression

from fedledger.cli.logs import configure_logging
from fedledger.fabric import connect
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.profile import ConnectionProfile
from fedledger.registry import (
    Policy,
    ProposalDecided,
    ProposalSubmitted,
    Registry,
    VoteCast,
    parse_event,
)
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.health import wait_for
from fedledger.runtime.ports import free_port_base
from fedledger.store.local import LocalStore
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.factory import build_validator
from fedledger.validator.profile_config import config_document, write_config
from fedledger.validator.service import ValidatorService

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from chaincode_builds import CHAINCODE, VOTES_IN_THE_PROPOSAL, build_chaincode

BATCH_TIMEOUT = 0.25
SCHEMA = synthetic_schema()
HOLDOUT_ROWS = 2000
GOALS = {3: 1.5, 10: 2.0}


@dataclass(frozen=True)
class Sample:
    """One proposal: seconds from SubmitProposal to its decision, and to its last vote that
    did not decide; blocks from the proposal's to the decision's, and from that last vote's."""

    seconds: float
    to_last_vote: float
    blocks: int
    blocks_after_votes: int


@dataclass
class Run:
    backend: str
    orgs: int
    design: str
    samples: list[Sample]
    vote_conflicts: float = 0.0
    decide_conflicts: float = 0.0

    def median(self, field: str = "seconds") -> float:
        return statistics.median(getattr(s, field) for s in self.samples)

    def p95(self) -> float:
        ordered = sorted(s.seconds for s in self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Seen:
    """What the listener saw of one proposal: (arrival time, block) of each event."""

    submitted: int = 0
    votes: list[tuple[float, int]] = dataclasses.field(default_factory=list)
    decided: tuple[float, int] | None = None


class DecisionListener:
    """The registry's events as they arrive, by proposal."""

    def __init__(self, profile: ConnectionProfile, start_block: int) -> None:
        self._gateway = connect(profile, profile.msp_ids[0])
        network = self._gateway.network(profile.channel)
        self._stream = network.chaincode_events(profile.chaincode, start_block=start_block)
        self.seen: dict[str, Seen] = {}
        self._arrived = threading.Condition()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        for raw in self._stream:
            now = time.perf_counter()
            event = parse_event(raw)
            if not isinstance(event, ProposalSubmitted | VoteCast | ProposalDecided):
                continue
            with self._arrived:
                seen = self.seen.setdefault(event.proposal_id, Seen())
                if isinstance(event, ProposalSubmitted):
                    seen.submitted = raw.block_number
                elif isinstance(event, VoteCast):
                    seen.votes.append((now, raw.block_number))
                else:
                    seen.decided = (now, raw.block_number)
                self._arrived.notify_all()

    def wait(self, proposal_id: str, started: float, timeout: float) -> Sample:
        with self._arrived:
            if not self._arrived.wait_for(
                lambda: getattr(self.seen.get(proposal_id), "decided", None) is not None, timeout
            ):
                raise TimeoutError(f"{proposal_id} not decided within {timeout} s")
            seen = self.seen[proposal_id]
        assert seen.decided is not None
        decided_at, decided_block = seen.decided
        last_at, last_block = max(seen.votes, default=seen.decided)
        return Sample(
            decided_at - started,
            last_at - started,
            decided_block - seen.submitted,
            decided_block - last_block,
        )

    def close(self) -> None:
        self._stream.close()
        self._gateway.close()


@contextmanager
def network(backend: str, orgs: int, source: Path, root: Path) -> Iterator[ConnectionProfile]:
    definition = dataclasses.replace(
        NetworkDefinition.load().with_overrides(
            orgs=orgs, port_base=free_port_base(), batch_timeout=BATCH_TIMEOUT
        ),
        chaincode_source=source,
    )
    running: Any
    if backend == "fabric":
        from fedledger.installation import find_installation
        from fedledger.network.native import NativeNetwork

        running = NativeNetwork(definition, root / "network", find_installation())
    else:
        from fedledger.embedded import EmbeddedLedger

        running = EmbeddedLedger(definition, root / "network")
    try:
        yield running.up(timeout=300)
    finally:
        running.down(purge=True)


def start_validators(
    profile: ConnectionProfile, task_id: str, root: Path, stack: ExitStack
) -> list[ValidatorService]:
    services = []
    for index, msp in enumerate(profile.msp_ids):
        holdout = root / f"holdout-{msp}.csv"
        synthetic_frame(SCHEMA, HOLDOUT_ROWS, seed=index).to_csv(holdout, index=False)
        document = config_document(
            profile,
            msp,
            tasks={task_id: holdout},
            store=str(root / "store"),
            state_dir=root / f"state-{msp}",
            retry={"initialSeconds": 0.2, "maxSeconds": 2.0},
        )
        service = build_validator(
            ValidatorConfig.load(write_config(root / f"{msp}.yaml", document))
        )
        service.start()
        stack.callback(service.stop, 1)
        services.append(service)
    return services


def everywhere(peers: list[Any], seen: Seen) -> None:
    assert seen.decided is not None
    block = seen.decided[1]
    for peer in peers:
        wait_for(lambda peer=peer: peer.block_height() > block, f"block {block} everywhere", 60)


def conflicts(services: list[ValidatorService], path: str) -> float:
    return sum(
        service.metrics.registry.get_sample_value(
            "fedledger_validator_read_conflicts_total", {"path": path}
        )
        or 0.0
        for service in services
    )


def models(task_id: str, count: int) -> list[bytes]:
    made = []
    for seed in range(count):
        training = synthetic_frame(SCHEMA, 1500, seed=100 + seed)
        made.append(convert(train(SCHEMA, training, LogisticRegression(max_iter=300)), task_id))
    return made


def measure(backend: str, orgs: int, design: str, source: Path, proposals: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-decision-") as scratch, ExitStack() as stack:
        root = Path(scratch)
        profile = stack.enter_context(network(backend, orgs, source, root))
        task_id = f"bench-{uuid.uuid4().hex[:8]}"
        peers = [
            stack.enter_context(connect(profile, msp)).network(profile.channel)
            for msp in profile.msp_ids
        ]
        chain = peers[0]
        registry = Registry(chain.contract(profile.chaincode))
        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=list(profile.msp_ids),
            policy=Policy(orgs, 0.5, None, None, 600, 10_000_000, proposals + 1),
        )
        services = start_validators(profile, task_id, root, stack)
        listener = DecisionListener(profile, chain.block_height())
        stack.callback(listener.close)
        store = LocalStore(root / "store")
        run = Run(backend, orgs, design, [])
        before = (0.0, 0.0)
        for index, model in enumerate(models(task_id, proposals + 1)):
            uri = store.put(model)
            started = time.perf_counter()
            proposal = registry.submit_proposal(
                task_id,
                model_sha256=hashlib.sha256(model).hexdigest(),
                uri=uri,
                size_bytes=len(model),
            )
            sample = listener.wait(proposal.id, started, 120)
            # As a careful client does before its next transaction: every organisation's peer
            # has the decision (peers that lag endorse on older state, and the endorsements
            # of the next proposal would not match).
            everywhere(peers, listener.seen[proposal.id])
            if index == 0:  # warm-up: sandboxes, connections, the first chaincode calls
                before = (conflicts(services, "vote"), conflicts(services, "decide"))
                continue
            run.samples.append(sample)
        run.vote_conflicts = (conflicts(services, "vote") - before[0]) / proposals
        run.decide_conflicts = (conflicts(services, "decide") - before[1]) / proposals
        return run


def report(runs: list[Run]) -> bool:
    print(
        "median and p95: SubmitProposal to ProposalDecided; last vote: to the last vote that did "
        "not decide;\nblocks: the proposal's to the decision's, and after that last vote; "
        "conflicts and lost decides: per decision"
    )
    print(
        f"{'backend':8s} {'orgs':>4s} {'design':9s} {'median s':>9s} {'p95 s':>6s} "
        f"{'last vote s':>11s} {'blocks':>6s} {'after':>5s} {'conflicts':>9s} {'lost':>5s}"
    )
    for run in runs:
        print(
            f"{run.backend:8s} {run.orgs:4d} {run.design:9s} {run.median():9.2f} "
            f"{run.p95():6.2f} {run.median('to_last_vote'):11.2f} {run.median('blocks'):6.1f} "
            f"{run.median('blocks_after_votes'):5.1f} {run.vote_conflicts:9.2f} "
            f"{run.decide_conflicts:5.2f}"
        )
    met = True
    for run in (r for r in runs if r.design == "decide"):
        baseline = next(
            (
                r
                for r in runs
                if (r.backend, r.orgs, r.design) == (run.backend, run.orgs, "baseline")
            ),
            run,
        )
        ratio = baseline.median() / run.median()
        goal = GOALS.get(run.orgs)
        checks = [
            ("no vote conflicts", run.vote_conflicts == 0),
            ("decided in the block after the last vote's", run.median("blocks_after_votes") <= 1),
        ]
        if goal is not None:
            checks.append((f"median ≤ {goal} s", run.median() <= goal))
        if run.orgs == 10:
            checks.append(("at least twice as fast as the baseline", ratio >= 2))
        failed = [name for name, ok in checks if not ok]
        met = met and not failed
        verdict = "all goals met" if not failed else "MISSED: " + ", ".join(failed)
        print(f"{run.backend} at {run.orgs}: {ratio:.2f} times as fast as the baseline; {verdict}")
    return met


def backends(requested: str | None) -> list[str]:
    if requested:
        return requested.split(",")
    from fedledger.installation import InstallationError, find_installation

    try:
        find_installation()
    except InstallationError as error:
        print(f"fabric: skipped ({error})")
        return ["embedded"]
    return ["embedded", "fabric"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", default="3,5,10")
    parser.add_argument("--proposals", type=int, default=10)
    parser.add_argument("--backends", default=None, help="embedded,fabric (default: available)")
    parser.add_argument("--designs", default="decide,baseline")
    parser.add_argument("--log-level", default="warning", help="the validators' logs, on stderr")
    arguments = parser.parse_args()
    configure_logging(arguments.log_level)  # the table alone on stdout
    with tempfile.TemporaryDirectory(prefix="bench-chaincode-") as builds:
        designs = arguments.designs.split(",")
        sources = {"decide": CHAINCODE} if "decide" in designs else {}
        if "baseline" in designs:
            sources["baseline"] = build_chaincode(VOTES_IN_THE_PROPOSAL, Path(builds))
        runs = []
        for backend in backends(arguments.backends):
            for orgs in (int(n) for n in arguments.orgs.split(",")):
                for design, source in sources.items():
                    run = measure(backend, orgs, design, source, arguments.proposals)
                    print(
                        f"  {backend} {orgs} orgs {design}: median {run.median():.2f} s",
                        flush=True,
                    )
                    runs.append(run)
    sys.exit(0 if report(runs) else 1)


if __name__ == "__main__":
    main()
