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
from fabric_protos.common import common_pb2, configtx_pb2
from typer.testing import CliRunner

from fedledger.channelconfig.creation import creation_update
from fedledger.channelconfig.envelopes import config_of_block
from fedledger.cli.app import app
from fedledger.installation import InstallationError, find_installation
from fedledger.installation.discover import how_to_install
from fedledger.network.native import NativeNetwork
from fedledger.network.system_channel import CHANNEL_TX, CONSORTIUM
from fedledger.orgs.export import read_org_file
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

from .legacy_channel import create_legacy, write_org_files

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


def test_channel_create_legacy_makes_a_channel_the_peers_join(
    network: NativeNetwork, tmp_path: Path
) -> None:
    files = write_org_files(network.layout.crypto, network.definition, tmp_path / "orgs")
    block = tmp_path / "second.block"
    created = create_legacy(
        network.layout.profile, "Org2MSP", *map(str, files),
        "--channel", "second", "--block-out", str(block),
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "created channel second (Org1MSP, Org2MSP)" in " ".join(created.output.split())
    profile = ["--profile", str(network.layout.profile)]
    for i, msp_id in enumerate(("Org1MSP", "Org2MSP")):
        joined = CliRunner().invoke(app, ["channel", "join", str(block), "--as", msp_id, *profile])
        assert joined.exit_code == 0, joined.output
        port = network.definition.peer_ports(i).listen
        assert f"{msp_id}'s peers joined from {block}: 127.0.0.1:{port}" in " ".join(
            joined.output.split()
        )
        info = network.commands.peer(i, "channel", "getinfo", "-c", "second").stdout
        assert '"height":1' in info
    again = CliRunner().invoke(app, ["channel", "join", str(block), "--as", "Org1MSP", *profile])
    assert again.exit_code == 0, again.output
    assert "none (every peer was on it already)" in again.output


def test_channel_create_legacy_signed_by_a_non_member_is_refused_before_sending(
    network: NativeNetwork, tmp_path: Path
) -> None:
    files = write_org_files(network.layout.crypto, network.definition, tmp_path / "orgs")
    refused = create_legacy(
        network.layout.profile, "Org1MSP", str(files[1]), "--channel", "third",
        "--block-out", str(tmp_path / "third.block"),
    )  # fmt: skip
    assert refused.exit_code == 1
    assert " ".join(refused.output.split()) == (
        "error: signature 1 of the channel creation: MSP 'Org1MSP' is not a member of the "
        "channel (members: Org2MSP)"
    )
    assert not (tmp_path / "third.block").exists()


def test_the_orderer_refuses_a_creation_in_an_unknown_consortium(
    network: NativeNetwork, tmp_path: Path
) -> None:
    files = write_org_files(network.layout.crypto, network.definition, tmp_path / "orgs")
    refused = create_legacy(
        network.layout.profile, "Org1MSP", *map(str, files), "--channel", "fourth",
        "--consortium", "AWSSystemConsortium", "--block-out", str(tmp_path / "fourth.block"),
    )  # fmt: skip
    assert refused.exit_code == 1
    orderer = f"127.0.0.1:{network.definition.orderer_ports(0).listen}"
    assert " ".join(refused.output.split()) == (
        f"error: orderer {orderer} refused the update: BAD_REQUEST: "
        "Unknown consortium name: AWSSystemConsortium"
    )


def test_the_creation_update_is_what_configtxgen_writes(
    network: NativeNetwork, tmp_path: Path
) -> None:
    envelope = common_pb2.Envelope.FromString(
        (network.layout.channel_dir / CHANNEL_TX).read_bytes()
    )
    payload = common_pb2.Payload.FromString(envelope.payload)
    written = configtx_pb2.ConfigUpdate.FromString(
        configtx_pb2.ConfigUpdateEnvelope.FromString(payload.data).config_update
    )
    files = write_org_files(network.layout.crypto, network.definition, tmp_path / "orgs")
    ours = creation_update(
        network.definition.channel, CONSORTIUM, [read_org_file(path) for path in files]
    )
    assert ours == written


def test_network_up_with_fabric_version_22_runs_it(tmp_path: Path) -> None:
    """The commands a user types: `--fabric-version` selects the 2.2 installation; an `up` with
    another version on that network is refused; down stops it all."""
    installation_22()
    run_dir = tmp_path / "cli-22"

    def fedledger(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["uv", "run", "--frozen", "fedledger", "network", *args, "--run-dir", str(run_dir)],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip

    up = fedledger(
        "up", "--ledger", "fabric", "--fabric-version", FABRIC_22, "--orgs", "1",
        "--port-base", str(free_port_base()),
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr
        assert "ledger: fabric (Fabric 2.2.15 found at" in up.stderr
        other = fedledger("up", "--fabric-version", "2.5.16")
        assert other.returncode == 1
        assert "--fabric-version 2.5.16 (this network has 2.2.15)" in " ".join(other.stderr.split())
    finally:
        down = fedledger("down", "--purge")
    assert down.returncode == 0, down.stderr
    assert "stopped 3 processes" in down.stderr


def test_a_creation_signed_by_two_admins_on_their_own_hosts(
    network: NativeNetwork, tmp_path: Path
) -> None:
    files = write_org_files(network.layout.crypto, network.definition, tmp_path / "orgs")
    update = tmp_path / "fifth.pb"
    written = create_legacy(
        network.layout.profile, "Org1MSP", *map(str, files), "--channel", "fifth",
        "--write-update", str(update),
    )  # fmt: skip
    assert written.exit_code == 0, written.output
    assert "next: other admins run `fedledger channel sign-update" in " ".join(
        written.output.split()
    )
    signed = CliRunner().invoke(
        app,
        ["channel", "sign-update", str(update), "--as", "Org2MSP",
         "--profile", str(network.layout.profile)],
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    assert "signed by Org1MSP, Org2MSP" in " ".join(signed.output.split())
    block = tmp_path / "fifth.block"
    created = create_legacy(
        network.layout.profile, "Org2MSP", *map(str, files), "--channel", "fifth",
        "--update", str(update), "--block-out", str(block),
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    config = config_of_block(common_pb2.Block.FromString(block.read_bytes()))
    assert sorted(config.channel_group.groups["Application"].groups) == ["Org1MSP", "Org2MSP"]
