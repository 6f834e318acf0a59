"""The worked example, run as its README says: examples/credit-risk/run.sh, every backend.

The example's folder is copied (its run folder, data and models are made inside it), and the
script runs with only the project's environment on PATH, as `source .venv/bin/activate` gives.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from fedledger.runtime.ports import free_port_base

from .conftest import skip_without_fabric

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credit-risk"
pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize("backend", ["embedded", "fabric"])
def test_the_credit_risk_example_runs_from_task_init_to_audit(backend: str, tmp_path: Path) -> None:
    if backend == "fabric":
        skip_without_fabric()
    folder = tmp_path / "credit-risk"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("data", ".fedledger", "*.onnx"))
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FEDLEDGER_", "VIRTUAL_ENV"))
    }
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    try:
        returncode, output = _run_example(folder, environment, backend)
        assert returncode == 0, _story(output, folder)
        assert "set aside 2 row(s) that cannot be normalised" in output
        assert "a validator with these rows would vote approve" in output
        assert "status ACCEPTED" in output
        assert output.count("│ approve  │") == 3
        assert "match the ledger" in output

        with (folder / "scores.csv").open() as scores:
            rows = list(csv.DictReader(scores))
        assert len(rows) == 300
        assert list(rows[0]) == [
            "application_id",
            "prediction",
            "probability_no",
            "probability_yes",
        ]
        assert all(
            abs(float(r["probability_no"]) + float(r["probability_yes"]) - 1) < 1e-4 for r in rows
        )

        again = subprocess.run(
            ["./run.sh"], cwd=folder, env=environment, capture_output=True, text=True, check=False
        )
        assert again.returncode == 1
        assert "this example's network exists already (.fedledger)" in again.stderr
    finally:
        subprocess.run(
            ["fedledger", "network", "down", "--purge"],
            cwd=folder,
            env=environment,
            capture_output=True,
            check=False,
        )
    assert not (folder / ".fedledger").exists()


def _run_example(folder: Path, environment: dict[str, str], backend: str) -> tuple[int, str]:
    """run.sh's exit status and output (both streams); a run that takes over 240 s is stopped,
    every command it started with it, and the test fails showing where it stood."""
    command = ["./run.sh", "--ledger", backend, "--port-base", str(free_port_base())]
    with (folder / "run.log").open("w+") as log:
        run = subprocess.Popen(
            command,
            cwd=folder,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode = run.wait(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
            pytest.fail(f"run.sh did not finish in 240 s:\n{_story(_read(log), folder)}")
        return returncode, _read(log)


def _read(log: IO[str]) -> str:
    log.seek(0)
    return log.read()


def _story(output: str, folder: Path) -> str:
    """What run.sh printed, and the end of each validator's log: where a stuck run stopped."""
    text = output
    logs = sorted((folder / ".fedledger" / "logs").glob("validator.*"))
    tails = [f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-15:]) for log in logs]
    return "\n".join([text[-4000:], *tails])
