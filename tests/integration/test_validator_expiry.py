"""Validators close expired proposals on their own (every backend): an organisation at its
open-proposal limit proposes again once its expired proposal is closed, with no human command,
and when two validators race to close it one does and the other stays quiet."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.registry import ChaincodeRefusalError, Policy, Registry, open_registry
from fedledger.store.local import LocalStore
from fedledger.validator.profile_config import config_document, write_config

from .everywhere import profile_caught_up

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
SCHEMA = synthetic_schema()
VALIDATED = ("Org1MSP", "Org3MSP")  # Org2MSP proposes and runs no validator: no quorum
VOTING_SECONDS = 4


def start_validator(config: Path, log: Path) -> subprocess.Popen[bytes]:
    state = config.parent / f"state-{config.stem}"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "fedledger", "validator", "serve", "--config", str(config)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90
    while not (state / "endpoint.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"validator {config.stem} did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return process


@pytest.fixture
def validated_task(ledger: Any, tmp_path: Path) -> Iterator[tuple[str, dict[str, Path]]]:
    task_id = f"expiry-{uuid.uuid4().hex[:8]}"
    with open_registry(ledger.profile, "Org1MSP") as registry:
        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=["Org1MSP", "Org2MSP", "Org3MSP"],
            # Two rejections leave acceptance possible (1/3 >= 0.3): only expiry ends it.
            policy=Policy(3, 0.3, None, None, VOTING_SECONDS, 1_000_000, 1),
        )
    # Org2 proposes, and each validator announces, on its own peer.
    profile_caught_up(ledger.profile)
    holdout = tmp_path / "holdout.csv"
    synthetic_frame(SCHEMA, 200, seed=3).to_csv(holdout, index=False)
    processes, logs = [], {}
    try:
        for msp in VALIDATED:
            document = config_document(
                ledger.profile,
                msp,
                tasks={task_id: holdout},
                store=str(tmp_path / "store"),
                state_dir=tmp_path / f"state-{msp}",
                retry={"initialSeconds": 0.2, "maxSeconds": 1.0},
            )
            config = write_config(tmp_path / f"{msp}.yaml", document)
            logs[msp] = tmp_path / f"{msp}.log"
            processes.append(start_validator(config, logs[msp]))
        yield task_id, logs
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)


def propose(registry: Registry, store: LocalStore, task_id: str) -> str:
    data = uuid.uuid4().bytes  # not a model: the validators reject it, which decides nothing here
    return registry.submit_proposal(
        task_id,
        model_sha256=hashlib.sha256(data).hexdigest(),
        uri=store.put(data),
        size_bytes=len(data),
    ).id


def test_validators_close_expired_proposals_and_free_the_limit(
    ledger: Any, validated_task: tuple[str, dict[str, Path]], tmp_path: Path
) -> None:
    task_id, logs = validated_task
    store = LocalStore(tmp_path / "store")
    with open_registry(ledger.profile, "Org2MSP") as registry:
        first = propose(registry, store, task_id)
        with pytest.raises(ChaincodeRefusalError) as limit:
            propose(registry, store, task_id)
        assert "already has 1 open proposals" in limit.value.message
        deadline = time.monotonic() + VOTING_SECONDS + 60
        while registry.get_proposal(first).pending:
            assert time.monotonic() < deadline, "no validator closed the expired proposal"
            time.sleep(0.2)
        closed = registry.get_proposal(first)
        assert closed.status == "EXPIRED"
        assert closed.status_reason.startswith("the voting period ended at ")
        second = propose(registry, store, task_id)  # no human closed anything
        assert registry.get_proposal(second).pending

    time.sleep(1)  # the losing validator's answer arrives after the winner's commit
    texts = {msp: path.read_text() for msp, path in logs.items()}
    closers = [
        msp
        for msp, text in texts.items()
        if any("closed expired proposal" in line and first in line for line in text.splitlines())
    ]
    assert len(closers) == 1, texts
    for text in texts.values():
        assert "close refused" not in text
        assert "expired proposals not closed yet" not in text
