"""The official Node client (@hyperledger/fabric-gateway) against the embedded ledger.

tests/node-client/check.js evaluates, submits twice, submits a call the chaincode refuses, and
reads the submitted transactions' chaincode events; this test checks what it saw. Its npm
dependencies are installed with `npm ci` on first use (from the lock file).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedledger.embedded import EmbeddedLedger
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
CLIENT = Path(__file__).resolve().parents[1] / "node-client"


@pytest.fixture(scope="module")
def node_client() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("needs Node.js and npm")
    if not (CLIENT / "node_modules" / "@hyperledger" / "fabric-gateway").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENT, check=True, timeout=600
        )
    return CLIENT / "check.js"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedLedger]:

    definition = NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), batch_timeout=0.05
    )
    ledger = EmbeddedLedger(definition, tmp_path_factory.mktemp("embedded-node"))
    ledger.up()
    yield ledger
    ledger.down()


def test_the_official_node_client_submits_evaluates_and_reads_events(
    embedded: EmbeddedLedger, node_client: Path, tmp_path: Path
) -> None:
    from fedledger.profile import ConnectionProfile

    profile = ConnectionProfile.load(embedded.run_dir / "connection-profile.yaml")
    profile_json = tmp_path / "profile.json"
    profile_json.write_text(json.dumps(profile.to_dict(tmp_path)))
    name = f"node{uuid.uuid4().hex[:10]}"
    completed = subprocess.run(
        ["node", str(node_client), str(profile_json), name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.strip().splitlines()[-1])
    assert seen["version"]["chaincode"] == "fedledger"
    assert seen["results"] == ["1", "2"]
    assert [s["code"] for s in seen["statuses"]] == [0, 0]
    assert all(s["successful"] for s in seen["statuses"])
    assert "EndorseError" in seen["chaincodeError"]
    assert "chaincode response 500" in seen["chaincodeError"]
    assert seen["events"] == [
        {"block": s["block"], "txid": s["txid"], "name": "Heartbeat", "count": count}
        for s, count in zip(seen["statuses"], [1, 2], strict=True)
    ]
