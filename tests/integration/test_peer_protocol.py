"""The older peer protocol against a running ledger (every backend available): how endorsers are
chosen, an orderer that cannot be reached or refuses, and Deliver's SeekInfo behaviours, which
the embedded ledger must serve as a Fabric 2.5 peer does."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2, ab_pb2_grpc
from fabric_protos.peer import events_pb2_grpc
from typer.testing import CliRunner

from fedledger.cli.app import app
from fedledger.fabric import Gateway, SigningIdentity, SubmitError, connect
from fedledger.fabric.connect import peer_client, tls_of
from fedledger.fabric.gateway import open_channel
from fedledger.fabric.seek import newest, seek_envelope, specified
from fedledger.installation import find_installation
from fedledger.models.synthetic import synthetic_schema
from fedledger.profile import ConnectionProfile, OrdererEndpoint
from fedledger.registry import Policy, open_registry

from .conftest import skip_without_fabric

pytestmark = [pytest.mark.ledger, pytest.mark.slow]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def signer(ledger: Any) -> SigningIdentity:
    org = ledger.profile.org("Org1MSP")
    return SigningIdentity.from_msp_folder(org.identity("user"), "Org1MSP")


@pytest.fixture(scope="module")
def peer(ledger: Any) -> Iterator[grpc.Channel]:
    org = ledger.profile.org("Org1MSP")
    channel = open_channel(org.gateway.endpoint, tls_of(org))
    yield channel
    channel.close()


def test_endorsers_come_from_discovery_where_the_peer_serves_it(
    ledger: Any, signer: SigningIdentity
) -> None:
    profile = ledger.profile
    client = peer_client(profile, profile.org("Org1MSP"), signer)
    with Gateway.over(client, signer) as gateway:
        contract = gateway.network(profile.channel).contract(profile.chaincode)
        assert json.loads(contract.submit("health:Beat", [unique("plan")])) == 1
        plan = client.planner.plan(profile.channel, profile.chaincode)
    endorsing = sorted(node.msp_id for group in plan.groups for node in group.peers)
    if ledger.backend == "fabric":
        assert plan.source == "the peer's discovery service"
        assert "Org1MSP" in endorsing
        assert sum(group.quantity for group in plan.groups) == 2  # MAJORITY of three
    else:
        # The embedded ledger has no discovery service: the profile's MAJORITY of three.
        assert plan.source == "the profile's MAJORITY of 3 organisations"
        assert endorsing == ["Org1MSP", "Org2MSP"]


def test_an_orderer_that_cannot_be_reached_fails_the_submit_naming_it(
    ledger: Any, signer: SigningIdentity
) -> None:
    profile = ledger.profile
    unreachable = OrdererEndpoint("127.0.0.1:1", "orderer9", profile.orderers[0].tls_ca_cert, "X")
    broken = dataclasses.replace(profile, orderers=(unreachable,))
    with connect(broken, "Org1MSP", protocol="peer") as gateway:
        contract = gateway.network(profile.channel).contract(profile.chaincode)
        name = unique("orderer")
        with pytest.raises(SubmitError) as refused:
            contract.submit("health:Beat", [name])
        # Nothing was ordered: the count is still 0, so this beat evaluates to 1.
        assert json.loads(contract.evaluate("health:Beat", [name])) == 1
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    assert refused.value.message == "no orderer could be reached"
    assert {(d.address, d.msp_id) for d in refused.value.details} == {("127.0.0.1:1", "X")}


def test_the_orderer_refuses_an_envelope_with_a_wrong_signature(
    ledger: Any, signer: SigningIdentity
) -> None:
    profile = ledger.profile
    with connect(profile, "Org1MSP", protocol="peer") as gateway:
        contract = gateway.network(profile.channel).contract(profile.chaincode)
        transaction = contract.new_proposal("health:Beat", [unique("forged")]).endorse()
    envelope = transaction._envelope
    envelope.signature = signer.sign(b"something else")
    orderer = profile.orderers[0]
    org = profile.org("Org1MSP")
    tls = dataclasses.replace(
        tls_of(org),
        ca_certificate=orderer.tls_ca_cert.read_bytes(),
        server_name=orderer.server_name,
    )
    with open_channel(orderer.endpoint, tls) as channel:
        answer = next(ab_pb2_grpc.AtomicBroadcastStub(channel).Broadcast(iter([envelope])))
    assert common_pb2.Status.Name(answer.status) == "FORBIDDEN"


def _deliver(
    peer: grpc.Channel, envelope: common_pb2.Envelope, filtered: bool = False
) -> list[Any]:
    stub = events_pb2_grpc.DeliverStub(peer)
    call = (stub.DeliverFiltered if filtered else stub.Deliver)(iter([envelope]), timeout=20)
    return list(call)


def _blocks(responses: list[Any]) -> list[int]:
    return [
        r.block.header.number if r.WhichOneof("Type") == "block" else r.filtered_block.number
        for r in responses
        if r.WhichOneof("Type") != "status"
    ]


def _status(responses: list[Any]) -> str:
    return str(common_pb2.Status.Name(responses[-1].status))


def _height(ledger: Any) -> int:
    with connect(ledger.profile, "Org1MSP") as gateway:
        return gateway.network(ledger.profile.channel).block_height()


def test_deliver_serves_oldest_newest_and_specified_ranges(
    ledger: Any, signer: SigningIdentity, peer: grpc.Channel
) -> None:
    channel = ledger.profile.channel
    with connect(ledger.profile, "Org1MSP") as gateway:
        contract = gateway.network(channel).contract(ledger.profile.chaincode)
        for _ in range(2):  # blocks 1 and 2 exist whatever ran before
            contract.submit("health:Beat", [unique("blocks")])
    last = _height(ledger) - 1
    oldest = ab_pb2.SeekPosition(oldest=ab_pb2.SeekOldest())
    first_two = _deliver(peer, seek_envelope(signer, channel, oldest, specified(1)))
    assert (_blocks(first_two), _status(first_two)) == ([0, 1], "SUCCESS")
    latest = _deliver(peer, seek_envelope(signer, channel, newest(), newest()), filtered=True)
    assert _blocks(latest)[0] >= last
    assert _status(latest) == "SUCCESS"
    middle = _deliver(peer, seek_envelope(signer, channel, specified(1), specified(2)))
    assert _blocks(middle) == [1, 2]
    assert middle[0].block.header.number == 1
    assert middle[0].block.data.data


def test_deliver_waits_for_the_next_block_unless_asked_not_to(
    ledger: Any, signer: SigningIdentity, peer: grpc.Channel
) -> None:
    channel = ledger.profile.channel
    height = _height(ledger)
    following = seek_envelope(signer, channel, specified(height), specified(height))
    waiting = events_pb2_grpc.DeliverStub(peer).Deliver(iter([following]), timeout=1.0)
    with pytest.raises(grpc.RpcError) as waited:
        list(waiting)
    assert waited.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    seek = ab_pb2.SeekInfo.FromString(common_pb2.Payload.FromString(following.payload).data)
    seek.behavior = ab_pb2.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY
    assert _status(_deliver(peer, _resigned(following, seek, signer))) == "NOT_FOUND"
    # Past the next block the peer does not wait, whatever the behaviour asked for.
    beyond = specified(height + 50)
    assert _status(_deliver(peer, seek_envelope(signer, channel, beyond, beyond))) == "NOT_FOUND"


def _resigned(
    envelope: common_pb2.Envelope, seek: ab_pb2.SeekInfo, signer: SigningIdentity
) -> common_pb2.Envelope:
    payload = common_pb2.Payload.FromString(envelope.payload)
    payload.data = seek.SerializeToString()
    raw = payload.SerializeToString()
    return common_pb2.Envelope(payload=raw, signature=signer.sign(raw))


def test_deliver_refuses_another_channel_a_forged_request_and_a_backwards_range(
    ledger: Any, signer: SigningIdentity, peer: grpc.Channel
) -> None:
    elsewhere = seek_envelope(signer, "no-such-channel", newest(), newest())
    assert _status(_deliver(peer, elsewhere)) == "NOT_FOUND"
    forged = seek_envelope(signer, ledger.profile.channel, newest(), newest())
    forged.signature = signer.sign(b"something else")
    assert _status(_deliver(peer, forged)) == "FORBIDDEN"
    backwards = seek_envelope(signer, ledger.profile.channel, specified(1), specified(0))
    assert _status(_deliver(peer, backwards)) == "BAD_REQUEST"


def test_a_filtered_block_names_the_transaction_its_code_and_its_event_without_payload(
    ledger: Any, signer: SigningIdentity, peer: grpc.Channel
) -> None:
    with connect(ledger.profile, "Org1MSP") as gateway:
        contract = gateway.network(ledger.profile.channel).contract(ledger.profile.chaincode)
        commit = contract.submit_async("health:Beat", [unique("filtered")])
        block = commit.status().block_number
    request = seek_envelope(signer, ledger.profile.channel, specified(block), specified(block))
    filtered = _deliver(peer, request, filtered=True)[0].filtered_block
    mine = [t for t in filtered.filtered_transactions if t.txid == commit.transaction_id]
    assert len(mine) == 1
    assert mine[0].tx_validation_code == 0  # VALID
    assert mine[0].type == common_pb2.HeaderType.ENDORSER_TRANSACTION
    events = [a.chaincode_event for a in mine[0].transaction_actions.chaincode_actions]
    assert [(e.chaincode_id, e.tx_id, e.event_name, e.payload) for e in events] == [
        (ledger.profile.chaincode, commit.transaction_id, "Heartbeat", b"")
    ]
    whole = _deliver(peer, request)[0].block
    assert whole.header.number == block
    assert any(commit.transaction_id.encode() in raw for raw in whole.data.data)


def test_fabrics_own_peer_cli_invokes_and_queries_on_the_embedded_ledger(ledger: Any) -> None:
    """Fabric's `peer` command is a client of the older protocol: ProcessProposal on each
    --peerAddresses, Broadcast to -o, DeliverFiltered for --waitForEvent."""
    if ledger.backend != "embedded":
        pytest.skip("the fabric backend's peer CLI is tested in test_client.py")
    skip_without_fabric()
    installation = find_installation()
    profile = ledger.profile
    orgs = [profile.org(msp) for msp in ("Org1MSP", "Org2MSP")]
    orderer = profile.orderers[0]
    env = {
        "FABRIC_CFG_PATH": str(installation.config_dir),
        "CORE_PEER_LOCALMSPID": "Org1MSP",
        "CORE_PEER_MSPCONFIGPATH": str(orgs[0].identity("user")),
        "CORE_PEER_ADDRESS": _localhost(orgs[0].gateway.endpoint),
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_ROOTCERT_FILE": str(orgs[0].gateway.tls_ca_cert),
        "FABRIC_LOGGING_SPEC": "INFO",  # the invoke's result is logged at INFO
    }
    peer = str(installation.binary("peer"))
    common = ["-C", profile.channel, "-n", profile.chaincode]
    name = unique("cli")
    endorsers = [
        arg
        for org in orgs
        for arg in (
            "--peerAddresses",
            _localhost(org.gateway.endpoint),
            "--tlsRootCertFiles",
            str(org.gateway.tls_ca_cert),
        )
    ]
    invoke = subprocess.run(
        [
            peer,
            "chaincode",
            "invoke",
            "-o",
            orderer.endpoint,
            "--ordererTLSHostnameOverride",
            orderer.server_name,
            "--tls",
            "--cafile",
            str(orderer.tls_ca_cert),
            *common,
            *endorsers,
            "-c",
            json.dumps({"Args": ["health:Beat", name]}),
            "--waitForEvent",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert invoke.returncode == 0, invoke.stderr
    assert 'Chaincode invoke successful. result: status:200 payload:"1"' in invoke.stderr
    query = subprocess.run(
        [peer, "chaincode", "query", *common, "-c", json.dumps({"Args": ["health:Beat", name]})],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.strip() == "2"  # the first beat committed; a query does not write


def _localhost(endpoint: str) -> str:
    """The CLI checks each peer's certificate against the address it dials (one override would
    apply to every peer): the embedded peers' certificates name localhost."""
    return "localhost:" + endpoint.rsplit(":", 1)[1]


def test_the_command_line_reads_the_same_over_either_protocol(ledger: Any, tmp_path: Path) -> None:
    """A profile whose organisations say `protocol: peer` (as for AWS Managed Blockchain): the
    commands answer as through the Gateway, refusals included."""
    profile = ledger.profile
    peer_profile = dataclasses.replace(
        profile,
        organizations={
            msp: dataclasses.replace(org, protocol="peer")
            for msp, org in profile.organizations.items()
        },
        path=tmp_path / "peer-profile.yaml",
    )
    peer_profile.write(tmp_path / "peer-profile.yaml")
    assert ConnectionProfile.load(tmp_path / "peer-profile.yaml").org("Org2MSP").protocol == "peer"
    task_id = unique("cli-peer")
    with open_registry(peer_profile, "Org1MSP") as registry:
        registry.create_task(
            task_id,
            schema=synthetic_schema().to_dict(),
            metric="roc_auc",
            members=["Org1MSP", "Org2MSP"],
            policy=Policy(1, 0.5, None, None, 600, 1_000_000, 2),
        )
    runner = CliRunner()
    outputs = {}
    for name, path in (("gateway", profile.path), ("peer", tmp_path / "peer-profile.yaml")):
        for what in (task_id, "no-such-task"):
            result = runner.invoke(
                # Org1's peer: the one that reported the task's commit.
                app,
                ["task", "show", what, "--profile", str(path), "--org", "Org1MSP"],
            )
            outputs[name, what] = (result.exit_code, result.output)
    assert outputs["peer", task_id] == outputs["gateway", task_id]
    assert outputs["peer", task_id][0] == 0
    assert json.loads(outputs["peer", task_id][1])["id"] == task_id
    assert outputs["peer", "no-such-task"] == outputs["gateway", "no-such-task"]
    assert outputs["peer", "no-such-task"][0] == 1
