"""A fourth organisation from `org init` to its first counted vote, step by step.

    uv run python bench/bench_join.py [--backends embedded,fabric] [--runs 1]

For each backend (the embedded ledger; Fabric when installed), a fresh three-organisation
network (BatchTimeout 250 ms), whose members each act from a folder holding only their own
keys, and a fourth organisation in a folder of its own. The steps are docs/multi-host.md's
walk-through, each a `fedledger` command run in this process (tests/integration/multi_host.py,
which test_multi_host.py runs too):

- init, export: `org init`, `org export`;
- add-org: `channel add-org`, two admins' `sign-update`, `submit-update` (until the peer shows
  the new configuration);
- org start: its peer started, joined from the orderer's genesis block and caught up, its
  profile written (embedded: the profile only);
- deploy (Fabric): `deploy --as Org4MSP` joins the committed chaincode definition;
- governance add-member: `change propose add-member` and two approvals;
- validator start: `org start --validator-config` (its chaincode service too, on Fabric), until
  the validator serves;
- first vote counted: from a fresh proposal (two members vote on it at once) to its decision,
  which needs Org4's validator's vote (its evaluation included).

"total" is the sum from init on (network start-up excluded). Runs are sequential; the median of
each step is printed when --runs > 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
STEPS = (
    "init",
    "export",
    "add-org",
    "org start",
    "deploy",
    "governance add-member",
    "validator start",
    "first vote counted",
)


def walkthrough() -> ModuleType:
    path = ROOT / "tests" / "integration" / "multi_host.py"
    spec = importlib.util.spec_from_file_location("multi_host", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["multi_host"] = module
    spec.loader.exec_module(module)
    return module


def one_run(flow: ModuleType, backend: str) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    from fedledger.models.conversion import convert
    from fedledger.models.synthetic import synthetic_frame, synthetic_schema
    from fedledger.models.train import train

    schema = synthetic_schema()
    model = convert(train(schema, synthetic_frame(schema, 300, seed=1), LogisticRegression()), "t")
    with tempfile.TemporaryDirectory(prefix="bench-join-") as folder:
        root = Path(folder)
        with flow.consortium_of(backend, root) as consortium:
            flow.join_org4(consortium, root / "holdout.parquet")
            _, decided = flow.first_counted_vote(consortium, model)
            if "Org4MSP" not in decided.tally.votes:
                raise SystemExit(f"{backend}: Org4MSP's vote was not counted: {decided.tally}")
            return dict(consortium.times)


def backends_available(asked: list[str]) -> list[str]:
    from fedledger.installation import InstallationError, find_installation

    found = []
    for backend in asked:
        if backend == "fabric":
            try:
                find_installation()
            except InstallationError as error:
                print(f"fabric: skipped ({error})")
                continue
        found.append(backend)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="embedded,fabric")
    parser.add_argument("--runs", type=int, default=1)
    options = parser.parse_args()
    flow = walkthrough()
    results: dict[str, list[dict[str, float]]] = {}
    for backend in backends_available(options.backends.split(",")):
        results[backend] = [one_run(flow, backend) for _ in range(options.runs)]
    print(f"{'step (seconds, median of runs)':32}" + "".join(f"{b:>12}" for b in results))
    for step in ("network up", *STEPS, "total"):
        cells = []
        for runs in results.values():
            values = [
                sum(run.get(s, 0.0) for s in STEPS) if step == "total" else run.get(step)
                for run in runs
            ]
            present = [v for v in values if v is not None]
            cells.append(f"{statistics.median(present):12.2f}" if present else f"{'-':>12}")
        print(f"{step:32}" + "".join(cells))


if __name__ == "__main__":
    main()
