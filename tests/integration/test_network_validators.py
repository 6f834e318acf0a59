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

from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
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

        down = fedledger(run_dir, "down")
        assert down.returncode == 0, down.stderr
        assert "stopped 5 processes" in down.stderr  # 3 validators, the ledger, its chaincode
        again = fedledger(run_dir, "up")
        assert again.returncode == 0, again.stderr
        assert "started validator.org1.fedledger.local" in again.stderr
    finally:
        fedledger(run_dir, "down", "--purge")
    assert not run_dir.exists()
