"""The native network on Fabric 2.2 (AWS Managed Blockchain's line): orderers bootstrapped from a
system channel, the channel created by a channel creation transaction, peers joined, and the
chaincode's 2.2 build (fabric-shim 2.2.3, on Node 12 where found) run as a service through the
external builder.

Needs a Fabric 2.2.15 installation (docs/fabric-2.2.md says how to build one); skips without.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedledger.installation import InstallationError, find_installation
from fedledger.installation.discover import how_to_install
from fedledger.network.native import NativeNetwork
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

pytestmark = [pytest.mark.fabric, pytest.mark.slow]
FABRIC_22 = "2.2.15"
NODE_12 = Path(
    os.environ.get("FEDLEDGER_NODE12", "~/.cache/fedledger/node/12.22.12/bin/node")
).expanduser()


def installation_22() -> object:
    try:
        return find_installation(FABRIC_22)
    except InstallationError:
        pytest.skip(f"needs a Fabric {FABRIC_22} installation: {how_to_install(FABRIC_22)}")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeNetwork]:
    installation = installation_22()
    definition = NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), orgs=2, batch_timeout=0.2
    )
    before = os.environ.get("FEDLEDGER_CHAINCODE_NODE")
    if NODE_12.exists():
        os.environ["FEDLEDGER_CHAINCODE_NODE"] = str(NODE_12)
    network = NativeNetwork(definition, tmp_path_factory.mktemp("fabric22"), installation)  # type: ignore[arg-type]
    try:
        network.up(timeout=90)
        yield network
    finally:
        network.down()
        if before is None:
            os.environ.pop("FEDLEDGER_CHAINCODE_NODE", None)
        else:
            os.environ["FEDLEDGER_CHAINCODE_NODE"] = before


def chaincode(
    network: NativeNetwork, kind: str, args: list[str]
) -> subprocess.CompletedProcess[str]:
    """`peer chaincode query`, or `invoke` endorsed by every organisation and awaited."""
    commands, definition = network.commands, network.definition
    extra: list[str] = []
    if kind == "invoke":
        extra = ["--waitForEvent", *commands.orderer_args()]
        for i in range(len(definition.members)):
            extra += [
                "--peerAddresses", f"127.0.0.1:{definition.peer_ports(i).listen}",
                "--tlsRootCertFiles", str(commands.org_layout(i).peer(0).tls_ca),
            ]  # fmt: skip
    return commands.peer(
        0, "chaincode", kind, "-C", definition.channel, "-n", definition.chaincode_name,
        "-c", json.dumps({"Args": args}), *extra, check=False, log_level="INFO",
    )  # fmt: skip


def test_the_nodes_are_fabric_22_on_a_system_channel(network: NativeNetwork) -> None:
    version = network.commands.peer(0, "version").stdout
    assert "Version: 2.2.15" in version
    orderer_log = network.layout.log(network.commands.orderer_org.orderer(0).name).read_text()
    assert "system-channel" in orderer_log
    assert not network.installation.binary("osnadmin").exists()
    channels = network.commands.peer(1, "channel", "list").stdout.split()
    assert network.definition.channel in channels


def test_the_chaincode_servers_run_the_22_build(network: NativeNetwork) -> None:
    servers = [r for r in network.table.running().values() if r.name.startswith("chaincode.")]
    assert len(servers) == 2
    for record in servers:
        assert "/chaincode/fabric-2.2/node_modules/.bin/fabric-chaincode-node" in " ".join(
            record.command
        )
        if NODE_12.exists():
            assert record.command[0] == str(NODE_12)
    answer = chaincode(network, "query", ["health:Version"])
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout) == {"chaincode": "fedledger", "version": "0.3.0"}


def test_a_submit_commits_and_a_refusal_keeps_its_code(network: NativeNetwork) -> None:
    name = f"beat-{os.getpid()}"
    first = chaincode(network, "invoke", ["health:Beat", name])
    assert first.returncode == 0, first.stderr
    assert "committed with status (VALID)" in first.stderr
    assert 'payload:"1"' in first.stderr
    refused = chaincode(network, "query", ["GetTask", "no-such-task"])
    assert refused.returncode == 1
    # shim 2.2 sends a failure as an ERROR message, which the peer wraps; the code stays first.
    assert (
        "transaction returned with failure: [TASK_NOT_FOUND] query refused: task no-such-task "
        "does not exist; list tasks with ListTasks"
    ) in refused.stderr


def test_up_again_after_down_finds_the_channel_and_the_state(network: NativeNetwork) -> None:
    name = f"again-{os.getpid()}"
    assert chaincode(network, "invoke", ["health:Beat", name]).returncode == 0
    network.down()
    network.up(timeout=90)
    again = chaincode(network, "invoke", ["health:Beat", name])
    assert again.returncode == 0, again.stderr
    assert 'payload:"2"' in again.stderr
