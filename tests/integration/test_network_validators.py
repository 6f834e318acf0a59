"""`fedledger network up --validators`: one validator per organisation beside the nodes, in
`status`, stopped by `down`, started again by the next `up` (on the embedded ledger, which
every machine has)."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from fedledger.backends import resolve_record
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.network.validators import NetworkValidators, ValidatorsSpec
from fedledger.profile import ConnectionProfile
from fedledger.registry import Policy, open_registry
from fedledger.store.factory import open_store

from .conftest import free_port_base

pytestmark = [pytest.mark.slow]
ORGS = ["Org1MSP", "Org2MSP", "Org3MSP"]


def fedledger(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["uv", "run", "--frozen", "fedledger", "network", *args, "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_validators_run_with_the_network_and_vote(tmp_path: Path) -> None:
    run_dir = tmp_path / "net"
    schema = synthetic_schema()
    frame = synthetic_frame(schema, 1600, seed=3)
    spec: dict[str, dict[str, dict[str, str]]] = {}
    for i, org in enumerate(ORGS):
        holdout = tmp_path / f"{org}.parquet"
        frame.iloc[400 * (i + 1) : 400 * (i + 2)].to_parquet(holdout)
        spec[org] = {"tasks": {"net-validators": str(holdout)}}
    spec_file = tmp_path / "validators.yaml"
    spec_file.write_text(yaml.safe_dump({"organizations": spec}))

    up = fedledger(run_dir, "up", "--ledger", "embedded", "--port-base", str(free_port_base()))
    try:
        assert up.returncode == 0, up.stderr
        profile = ConnectionProfile.load(run_dir / "connection-profile.yaml")
        with open_registry(profile, "Org1MSP") as registry:
            registry.create_task(
                "net-validators",
                schema=schema.to_dict(),
                metric="roc_auc",
                members=ORGS,
                policy=Policy(3, 0.6, 0.55, None, 600, 1_000_000, 2),
            )
        with_validators = fedledger(run_dir, "up", "--validators", str(spec_file))
        assert with_validators.returncode == 0, with_validators.stderr
        assert "started validator.org1.fedledger.local" in with_validators.stderr

        status = fedledger(run_dir, "status")
        assert status.returncode == 0, status.stderr
        validator_rows = [line for line in status.stdout.splitlines() if "validator." in line]
        assert len(validator_rows) == 3
        assert all("healthy" in line and "unhealthy" not in line for line in validator_rows)
        serving = validator_health(run_dir, "Org1MSP")  # the validator image's HEALTHCHECK
        assert (serving.returncode, serving.stdout) == (0, "Org1MSP: SERVING\n"), serving.stderr

        trained = train(schema, frame.iloc[:400], LogisticRegression(max_iter=300))
        model = convert(trained, task_id="net-validators")
        uri = open_store(run_dir / "store").put(model)
        with open_registry(profile, "Org2MSP") as registry:
            proposal = registry.submit_proposal(
                "net-validators",
                model_sha256=hashlib.sha256(model).hexdigest(),
                uri=uri,
                size_bytes=len(model),
            )
            deadline = time.monotonic() + 120
            while registry.get_proposal(proposal.id).pending and time.monotonic() < deadline:
                time.sleep(0.3)
            decided = registry.get_proposal(proposal.id)
            voters = sorted(v.voter for v in registry.get_votes(proposal.id))
        assert decided.status == "ACCEPTED"
        assert voters == ORGS

        pids = validator_pids(run_dir)
        other = tmp_path / "Org3MSP-other.parquet"
        frame.iloc[:400].to_parquet(other)
        spec["Org3MSP"] = {"tasks": {"net-validators": str(other)}}
        spec_file.write_text(yaml.safe_dump({"organizations": spec}))
        changed = fedledger(run_dir, "up", "--validators", str(spec_file))
        assert changed.returncode == 0, changed.stderr
        assert "the network was already running" in changed.stderr
        assert "restarted (configuration changed) validator.org3.fedledger.local" in changed.stderr
        assert "unchanged validator.org1.fedledger.local, validator.org2" in changed.stderr
        now = validator_pids(run_dir)
        assert now["validator.org1.fedledger.local"] == pids["validator.org1.fedledger.local"]
        assert now["validator.org3.fedledger.local"] != pids["validator.org3.fedledger.local"]

        del spec["Org3MSP"]
        spec_file.write_text(yaml.safe_dump({"organizations": spec}))
        fewer = fedledger(run_dir, "up", "--validators", str(spec_file))
        assert fewer.returncode == 0, fewer.stderr
        assert "stopped (no longer listed) validator.org3.fedledger.local" in fewer.stderr
        assert set(validator_pids(run_dir)) == {
            "validator.org1.fedledger.local",
            "validator.org2.fedledger.local",
        }
        stopped = validator_health(run_dir, "Org3MSP")
        assert stopped.returncode == 1
        config = run_dir / "validators" / "Org3MSP" / "validator.yaml"
        assert " ".join(stopped.stderr.split()) == (
            f"error: the validator of Org3MSP is not serving (configuration {config})"
        )

        down = fedledger(run_dir, "down")
        assert down.returncode == 0, down.stderr
        assert "stopped 4 processes" in down.stderr  # 2 validators, the ledger, its chaincode
        again = fedledger(run_dir, "up")
        assert again.returncode == 0, again.stderr
        assert "started validator.org1.fedledger.local" in again.stderr

        # The demo's way: a task added to what the validators serve, nothing else changed.
        record, _ = resolve_record(run_dir, "auto")
        validators = NetworkValidators(record.definition(), run_dir)
        added = validators.add_tasks(profile, {"Org3MSP": {"another-task": other}})
        assert added.started == ["validator.org3.fedledger.local"]
        assert sorted(added.unchanged) == [
            "validator.org1.fedledger.local",
            "validator.org2.fedledger.local",
        ]
        kept = ValidatorsSpec.load(validators.spec_copy)
        assert kept.tasks["Org1MSP"] == {"net-validators": tmp_path / "Org1MSP.parquet"}
        assert kept.tasks["Org3MSP"] == {"another-task": other}
    finally:
        fedledger(run_dir, "down", "--purge")
    assert not run_dir.exists()


def validator_health(run_dir: Path, msp_id: str) -> subprocess.CompletedProcess[str]:
    config = run_dir / "validators" / msp_id / "validator.yaml"
    return subprocess.run(
        ["uv", "run", "--frozen", "fedledger", "validator", "health", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def validator_pids(run_dir: Path) -> dict[str, int]:
    """Running validators by name, with their PIDs, from `network status`."""
    status = fedledger(run_dir, "status")
    pids = {}
    for line in status.stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│") if cell.strip()]
        if cells and cells[0].startswith("validator.") and "healthy" in cells:
            pids[cells[0]] = int(cells[4])
    return pids


def test_up_refuses_options_that_differ_from_the_running_network(tmp_path: Path) -> None:
    run_dir = tmp_path / "net"
    base = free_port_base()
    up = fedledger(run_dir, "up", "--ledger", "embedded", "--port-base", str(base))
    try:
        assert up.returncode == 0, up.stderr
        same = fedledger(run_dir, "up", "--port-base", str(base))
        assert same.returncode == 0, same.stderr
        assert "the network was already running; nothing of it changed" in same.stderr
        other = fedledger(run_dir, "up", "--port-base", str(base + 500), "--orgs", "3")
        assert other.returncode == 1
        message = " ".join(other.stderr.split())
        assert f"--port-base {base + 500} (this network has {base})" in message
        assert "--orgs" not in message  # 3 is what it has
        assert "fedledger network down --purge" in message
    finally:
        fedledger(run_dir, "down", "--purge")
