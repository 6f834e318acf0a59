"""A consortium from empty folders (Fabric only): the ordering organisation and three members
each create their own material on their own "host", exchange only the public files the commands
write, make the channel from those files (`channel create`, `channel join-orderer`), start their
own peers, deploy, create a task, and a proposal is decided by the three members' validators;
then a fourth organisation joins as docs/multi-host.md says. No folder ever holds another
organisation's private key. The steps are docs/multi-host.md's walk-through."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fabric_protos.common import common_pb2
from sklearn.linear_model import LogisticRegression

from fedledger.channelconfig.envelopes import config_of_block
from fedledger.installation import find_installation
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.ordering.folder import load_orderer
from fedledger.orgs.standalone import load_org
from fedledger.registry import open_registry
from fedledger.runtime.health import wait_for
from fedledger.runtime.ports import free_port_base

from .conftest import skip_without_fabric
from .consortium import (
    TASK,
    CommandFailedError,
    Hosts,
    certificates,
    private_keys,
    stopped_at_exit,
    validator_config,
)
from .consortium_configtx import configtxgen_block

pytestmark = [pytest.mark.ledger, pytest.mark.slow, pytest.mark.fabric, pytest.mark.timeout(900)]
MEMBERS = ("org1", "org2", "org3")


def msp(host: str) -> str:
    return f"{host.capitalize()}MSP"


def make_hosts(root: Path) -> Hosts:
    base = free_port_base(span=50)
    names = ("orderer", *MEMBERS, "org4")
    return Hosts(root, {name: base + 10 * i for i, name in enumerate(names)})


def create_material(hosts: Hosts) -> None:
    """Each organisation's own folder and public file; the files go to the ordering host."""
    port = str(hosts.ports["orderer"])
    hosts.run(
        "orderer", "orderer", "init", "--msp-id", "OrdererMSP", "--domain", "orderer.example.com",
        "--host", "127.0.0.1", "--port", port,
    )  # fmt: skip
    hosts.run("orderer", "orderer", "export", "--out", "orderer.json")
    for host in MEMBERS:
        hosts.run(
            host, "org", "init", "--msp-id", msp(host), "--domain", f"{host}.example.com",
            "--host", "127.0.0.1", "--port", str(hosts.ports[host]),
        )  # fmt: skip
        hosts.run(host, "org", "export", "--out", f"{host}.json")
        hosts.send(host, f"{host}.json", "orderer")
        hosts.send("orderer", "orderer-tlsca.pem", host)


def create_channel(hosts: Hosts) -> str:
    created = hosts.run(
        "orderer", "channel", "create", "--orderer-org", "orderer.json",
        *(f"{h}.json" for h in MEMBERS), "--out", "genesis.block",
    )  # fmt: skip
    hosts.run("orderer", "orderer", "start")
    again_started = hosts.run("orderer", "orderer", "start")
    assert "orderer0.orderer.example.com already running (pid " in again_started
    joined = hosts.run("orderer", "channel", "join-orderer", "genesis.block")
    assert "orderer0.orderer.example.com joined channel fedledger" in joined
    again = hosts.run("orderer", "channel", "join-orderer", "genesis.block")
    assert "has joined channel fedledger already" in again
    return created


def start_members(hosts: Hosts) -> None:
    orderer = f"127.0.0.1:{hosts.ports['orderer']}"
    for host in MEMBERS:
        started = hosts.run(
            host, "org", "start", "--orderer", orderer, "--orderer-tls-ca", "orderer-tlsca.pem"
        )
        assert f"peer0.{host}.example.com joined channel fedledger" in started
    for host in MEMBERS:
        commit = ("--commit",) if host == MEMBERS[-1] else ()
        deployed = hosts.run(
            host, "deploy", "--profile", "org/profile.yaml", "--as", msp(host),
            "--service-address", f"127.0.0.1:{hosts.ports[host] + 3}", *commit,
        )  # fmt: skip
    assert "committed now" in deployed
    # Once committed, each member's next start runs its chaincode service.
    for host in MEMBERS:
        started = hosts.run(host, "org", "start")
        assert f"started chaincode.{host}.example.com" in started


def create_task_and_validators(hosts: Hosts) -> None:
    schema = synthetic_schema()
    task = {
        "id": TASK,
        "description": "A consortium made from empty folders.",
        "metric": "roc_auc",
        "members": [msp(h) for h in MEMBERS],
        "policy": {"approvalThreshold": 0.5, "minScore": 0.5, "quorum": 3},
        "schema": schema.to_dict(),
    }
    (hosts.host("org1") / "task.yaml").write_text(yaml.safe_dump(task, sort_keys=False))
    created = hosts.run(
        "org1", "task", "create", "task.yaml", "--profile", "org/profile.yaml", "--org", "Org1MSP"
    )
    assert TASK in created
    for index, host in enumerate(MEMBERS):
        synthetic_frame(schema, 400, seed=index + 1).to_parquet(
            hosts.host(host) / "holdout.parquet"
        )
        config = validator_config(hosts, host, msp(host), "holdout.parquet")
        started = hosts.run(host, "org", "start", "--validator-config", config)
        assert f"started validator.{host}.example.com" in started


def propose(hosts: Hosts) -> str:
    schema = synthetic_schema()
    model = convert(train(schema, synthetic_frame(schema, 600, seed=9), LogisticRegression()), TASK)
    (hosts.host("org1") / "model.onnx").write_bytes(model)
    return hosts.run(
        "org1", "propose", "model.onnx", "--task", TASK, "--profile", "org/profile.yaml",
        "--org", "Org1MSP", "--store", "../store", "--wait", "--timeout", "180",
    )  # fmt: skip


def add_org4(hosts: Hosts) -> None:
    """docs/multi-host.md: Org4 creates and exports its material, Org1 prepares the update,
    Org1 and Org2 sign it (MAJORITY of three admins), Org1 submits; Org4 starts and deploys."""
    hosts.run(
        "org4", "org", "init", "--msp-id", "Org4MSP", "--domain", "org4.example.com",
        "--host", "127.0.0.1", "--port", str(hosts.ports["org4"]),
    )  # fmt: skip
    hosts.run("org4", "org", "export", "--out", "org4.json")
    hosts.send("org4", "org4.json", "org1")
    as_admin = ("--profile", "org/profile.yaml", "--as")
    hosts.run("org1", "channel", "add-org", "org4.json", "--out", "add.pb", *as_admin, "Org1MSP")
    hosts.run("org1", "channel", "sign-update", "add.pb", *as_admin, "Org1MSP")
    hosts.send("org1", "add.pb", "org2")
    hosts.run("org2", "channel", "sign-update", "add.pb", *as_admin, "Org2MSP")
    hosts.send("org2", "add.pb", "org1")
    submitted = hosts.run("org1", "channel", "submit-update", "add.pb", *as_admin, "Org1MSP")
    assert "members: Org1MSP, Org2MSP, Org3MSP, Org4MSP" in submitted
    hosts.send("orderer", "orderer-tlsca.pem", "org4")
    hosts.run(
        "org4", "org", "start", "--orderer", f"127.0.0.1:{hosts.ports['orderer']}",
        "--orderer-tls-ca", "orderer-tlsca.pem",
    )  # fmt: skip
    deployed = hosts.run(
        "org4", "deploy", "--profile", "org/profile.yaml", "--as", "Org4MSP",
        "--service-address", f"127.0.0.1:{hosts.ports['org4'] + 3}",
    )  # fmt: skip
    assert "approved now by Org4MSP" in deployed
    assert sorted(hosts.profile("org4").organizations) == [
        "Org1MSP", "Org2MSP", "Org3MSP", "Org4MSP",
    ]  # fmt: skip


def assert_keys_kept_apart(hosts: Hosts) -> None:
    """No host's folder holds a private key whose public key is in a certificate another
    organisation's CAs issued (its CA and TLS CA certificates, its nodes' and users')."""
    names = ("orderer", *MEMBERS, "org4")
    own_certs = {}
    for name in names:
        own_certs[name] = set(certificates(hosts.root / name, f"{name}.example.com").values())
        assert own_certs[name], f"{name} holds no certificate of its own"
    for name in names:
        keys = private_keys(hosts.root / name)
        assert keys, f"{name} holds no private key at all"
        for other in names:
            if other != name:
                shared = [path for path, key in keys.items() if key in own_certs[other]]
                assert shared == [], f"{name} holds {other}'s private keys: {shared}"


def decided_on_own_peer(hosts: Hosts, host: str, proposal_id: str) -> None:
    """Until `host`'s own peer has the decision `propose --wait` saw on Org1's peer (each peer
    commits the block in its own time)."""
    with open_registry(hosts.profile(host), msp(host)) as registry:
        wait_for(
            lambda: not registry.get_proposal(proposal_id).pending,
            f"the decision on {proposal_id} on {host}'s peer",
            60,
        )


def test_a_consortium_from_empty_folders(tmp_path: Path) -> None:
    skip_without_fabric()
    hosts = make_hosts(tmp_path)
    with stopped_at_exit(hosts):
        create_material(hosts)
        created = create_channel(hosts)
        assert "(Org1MSP, Org2MSP, Org3MSP)" in created
        start_members(hosts)
        create_task_and_validators(hosts)
        decided = propose(hosts)
        assert "ACCEPTED" in decided
        proposal_id = decided.split("p-", 1)[1].split()[0].join(("p-", ""))
        decided_on_own_peer(hosts, "org2", proposal_id)
        shown = hosts.run(
            "org2", "proposal", "show", proposal_id,
            "--profile", "org/profile.yaml", "--org", "Org2MSP",
        )  # fmt: skip
        for host in MEMBERS:
            assert msp(host) in shown
        add_org4(hosts)
        status = hosts.run("orderer", "orderer", "status")
        assert "healthy" in status
        assert_keys_kept_apart(hosts)
    print("\n".join(f"{t:7.2f} s  {h}: fedledger {c}" for h, c, t in hosts.times))


def test_channel_create_equals_configtxgen(tmp_path: Path) -> None:
    """The genesis block from the exported files holds the configuration configtxgen writes
    for the same organisations (proto-equal); its header differs only in timestamp, nonce and
    the transaction id derived from the nonce."""
    skip_without_fabric()
    hosts = make_hosts(tmp_path)
    create_material(hosts)
    create_channel_block = hosts.run(
        "orderer", "channel", "create", "--orderer-org", "orderer.json",
        *(f"{h}.json" for h in MEMBERS), "--block-out", "genesis.block",
    )  # fmt: skip
    assert "genesis.block" in create_channel_block
    ours = common_pb2.Block.FromString((hosts.host("orderer") / "genesis.block").read_bytes())
    theirs = common_pb2.Block.FromString(
        configtxgen_block(
            find_installation().binary("configtxgen"),
            tmp_path / "configtxgen",
            load_orderer(tmp_path / "orderer" / "orderer"),
            [load_org(tmp_path / h / "org") for h in MEMBERS],
        )
    )
    assert config_of_block(ours) == config_of_block(theirs)
    assert ours.metadata == theirs.metadata
    assert ours.header.number == theirs.header.number == 0

    def header(block: common_pb2.Block) -> common_pb2.ChannelHeader:
        envelope = common_pb2.Envelope.FromString(block.data.data[0])
        payload = common_pb2.Payload.FromString(envelope.payload)
        found = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        found.ClearField("timestamp")
        found.ClearField("tx_id")
        return found

    assert header(ours) == header(theirs)


def test_channel_create_refuses_wrong_files(tmp_path: Path) -> None:
    """A member's file given as the ordering organisation's, and a member given twice."""
    hosts = make_hosts(tmp_path)
    create_material(hosts)
    with pytest.raises(CommandFailedError) as wrong_kind:
        hosts.run("orderer", "channel", "create", "--orderer-org", "org1.json", "org2.json")
    assert (
        "error: org1.json is a member organisation's file (`org export`), not the ordering "
        "organisation's: give the file `fedledger orderer export` wrote to --orderer-org"
    ) in wrong_kind.value.output
    with pytest.raises(CommandFailedError) as twice:
        hosts.run(
            "orderer", "channel", "create", "--orderer-org", "orderer.json", "org1.json",
            "org1.json",
        )  # fmt: skip
    assert (
        "error: Org1MSP is given twice: every organisation file must have its own MSP ID, and "
        "none the ordering organisation's"
    ) in twice.value.output


def test_join_orderer_refuses_a_stopped_orderer_and_a_wrong_block(tmp_path: Path) -> None:
    skip_without_fabric()
    hosts = make_hosts(tmp_path)
    create_material(hosts)
    hosts.run(
        "orderer", "channel", "create", "--orderer-org", "orderer.json", "org1.json",
        "--out", "genesis.block",
    )  # fmt: skip
    with pytest.raises(CommandFailedError) as stopped:
        hosts.run("orderer", "channel", "join-orderer", "genesis.block")
    assert (
        "error: osnadmin could not list orderer0.orderer.example.com's channels (is it started? "
        "`fedledger orderer start`):"
    ) in stopped.value.output
    with pytest.raises(CommandFailedError) as not_a_block:
        hosts.run("orderer", "channel", "join-orderer", "orderer.json")
    assert "error: orderer.json is not a block:" in not_a_block.value.output
