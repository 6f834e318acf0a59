"""The older peer protocol's own logic: endorsement plans, agreement of endorsements, the
transaction built from them, discovery answers, and Deliver's blocks read as the Gateway's
event responses. The client's calls run against in-process fake Endorser services."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.discovery import protocol_pb2, protocol_pb2_grpc
from fabric_protos.gateway import gateway_pb2
from fabric_protos.gossip import message_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    events_pb2,
    peer_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)

from fedledger.fabric import (
    EndorseError,
    EvaluateError,
    EventsError,
    Gateway,
    SigningIdentity,
    Timeouts,
)
from fedledger.fabric.blockread import filtered_block
from fedledger.fabric.crypto import serialize_identity
from fedledger.fabric.deliver_events import DeliverEvents
from fedledger.fabric.discovery import layouts
from fedledger.fabric.endorsement import (
    Endorsement,
    EndorsementMismatchError,
    Group,
    Plan,
    PlanError,
    assemble,
    check_endorsements,
    choose_layout,
    profile_plan,
)
from fedledger.fabric.identity import Identity
from fedledger.fabric.nodes import Connections, Node
from fedledger.fabric.peer_client import PeerClient
from fedledger.fabric.planner import Planner
from fedledger.orgs.ca import CertificateAuthority

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ORGS = ("Org1MSP", "Org2MSP", "Org3MSP")


def node(msp_id: str, port: int = 7051) -> Node:
    return Node(f"peer0.{msp_id.lower()}:{port}", msp_id, None)


PEERS = {msp: [node(msp)] for msp in ORGS}


@pytest.mark.parametrize(
    ("policy", "local", "requested", "expected"),
    [
        ("MAJORITY", "Org1MSP", (), ["Org1MSP", "Org2MSP"]),
        ("MAJORITY", "Org3MSP", (), ["Org3MSP", "Org1MSP"]),
        ("ANY", "Org2MSP", (), ["Org2MSP"]),
        ("ALL", "Org2MSP", (), ["Org2MSP", "Org1MSP", "Org3MSP"]),
        ("MAJORITY", "Org1MSP", ("Org3MSP", "Org2MSP", "Org3MSP"), ["Org3MSP", "Org2MSP"]),
    ],
)
def test_the_profile_plan_follows_the_policy_own_organisation_first(
    policy: str, local: str, requested: tuple[str, ...], expected: list[str]
) -> None:
    plan = profile_plan(PEERS, local, policy, requested)
    assert [g.name for g in plan.groups] == expected
    assert all(g.quantity == 1 and g.peers == tuple(PEERS[g.name]) for g in plan.groups)


def test_the_profile_plan_of_an_organisation_without_peers_names_it() -> None:
    with pytest.raises(PlanError) as refused:
        profile_plan(PEERS, "Org1MSP", "MAJORITY", ["Org2MSP", "Org9MSP"])
    assert str(refused.value) == "failed to find any endorsing peers for org(s): Org9MSP"


def test_a_majority_of_four_organisations_is_three() -> None:
    peers = {**PEERS, "Org4MSP": [node("Org4MSP")]}
    assert len(profile_plan(peers, "Org4MSP", "MAJORITY").groups) == 3


def _layout(*groups: tuple[str, int]) -> Plan:
    return Plan(
        tuple(Group(msp, tuple(PEERS.get(msp, ())), quantity) for msp, quantity in groups), "d"
    )


def test_the_layout_chosen_is_the_first_with_the_own_organisation_that_can_be_met() -> None:
    too_many = _layout(("Org1MSP", 2), ("Org2MSP", 1))
    without_local = _layout(("Org2MSP", 1), ("Org3MSP", 1))
    with_local = _layout(("Org3MSP", 1), ("Org1MSP", 1))
    assert choose_layout([too_many, without_local, with_local], "Org1MSP") is with_local
    assert choose_layout([too_many, without_local], "Org1MSP") is without_local


def test_no_layout_that_can_be_met_is_a_plan_error() -> None:
    with pytest.raises(PlanError) as refused:
        choose_layout([_layout(("Org1MSP", 2))], "Org1MSP")
    assert str(refused.value) == (
        "no layout of the endorsement policy has enough peers this client knows"
    )


def _response(status: int = 200, payload: bytes = b"rw-set", message: str = "") -> Any:
    return proposal_response_pb2.ProposalResponse(
        response=proposal_response_pb2.Response(status=status, message=message, payload=b"42"),
        payload=payload,
        endorsement=proposal_response_pb2.Endorsement(endorser=b"peer", signature=b"sig"),
    )


def test_a_chaincode_refusal_reads_as_through_the_gateway() -> None:
    answers = [
        Endorsement(node("Org1MSP"), _response()),
        Endorsement(node("Org2MSP"), _response(500, b"", "[TASK_NOT_FOUND] query refused: t")),
    ]
    with pytest.raises(EndorseError) as refused:
        check_endorsements("tx1", answers)
    assert refused.value.code == grpc.StatusCode.ABORTED
    assert refused.value.message == (
        "failed to endorse transaction, see attached details for more info"
    )
    assert [d.msp_id for d in refused.value.details] == ["Org2MSP"]
    assert refused.value.chaincode_message == "[TASK_NOT_FOUND] query refused: t"


def test_endorsements_that_differ_are_refused_naming_the_peers() -> None:
    answers = [
        Endorsement(node("Org1MSP"), _response(payload=b"a")),
        Endorsement(node("Org2MSP"), _response(payload=b"a")),
        Endorsement(node("Org3MSP"), _response(payload=b"b")),
    ]
    with pytest.raises(EndorseError) as refused:
        check_endorsements("tx1", answers)
    assert refused.value.message == (
        "the endorsing peers returned different results: peer0.org3msp:7051 (Org3MSP) differ "
        "from peer0.org1msp:7051 (Org1MSP); their ledgers may be out of step (retry) or the "
        "chaincode is not deterministic"
    )
    assert [d.msp_id for d in refused.value.details] == ["Org1MSP", "Org3MSP"]


def test_status_300_succeeds_as_the_gateway_judges_it() -> None:
    check_endorsements("tx1", [Endorsement(node("Org1MSP"), _response(300))])


def _signed_proposal(transient: dict[str, bytes] | None = None) -> Any:
    header = common_pb2.Header(channel_header=b"ch", signature_header=b"sh")
    payload = proposal_pb2.ChaincodeProposalPayload(input=b"input", TransientMap=transient or {})
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    return proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString())


def test_the_transaction_keeps_the_endorsements_and_drops_the_transient_data() -> None:
    answers = [Endorsement(node(m), _response()) for m in ORGS[:2]]
    envelope = assemble(_signed_proposal({"secret": b"s3cr3t"}), answers)
    payload = common_pb2.Payload.FromString(envelope.payload)
    assert payload.header.signature_header == b"sh"
    action = transaction_pb2.Transaction.FromString(payload.data).actions[0]
    assert action.header == b"sh"
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
    assert proposal_pb2.ChaincodeProposalPayload.FromString(
        action_payload.chaincode_proposal_payload
    ) == proposal_pb2.ChaincodeProposalPayload(input=b"input")
    assert action_payload.action.proposal_response_payload == b"rw-set"
    assert len(action_payload.action.endorsements) == 2
    assert b"s3cr3t" not in envelope.SerializeToString()


def _discovered(endpoint: str, msp_id: str) -> Any:
    alive = message_pb2.GossipMessage(
        alive_msg=message_pb2.AliveMessage(membership=message_pb2.Member(endpoint=endpoint))
    )
    return protocol_pb2.Peer(
        membership_info=message_pb2.Envelope(payload=alive.SerializeToString()),
        identity=serialize_identity(msp_id, b"cert"),
    )


def test_discovery_layouts_keep_only_peers_the_client_can_reach() -> None:
    descriptor = protocol_pb2.EndorsementDescriptor(chaincode="fedledger")
    descriptor.endorsers_by_groups["G0"].peers.append(_discovered("p1:7051", "Org1MSP"))
    descriptor.endorsers_by_groups["G1"].peers.extend(
        [_discovered("p2:7051", "Org2MSP"), _discovered("p9:7051", "Org9MSP")]
    )
    descriptor.layouts.add().quantities_by_group.update({"G0": 1, "G1": 1})
    descriptor.layouts.add().quantities_by_group.update({"G1": 2})

    def node_for(endpoint: str, msp_id: str) -> Node | None:
        return None if msp_id == "Org9MSP" else Node(endpoint, msp_id, None)

    plans = layouts(descriptor, node_for)
    assert [
        [(g.name, [n.endpoint for n in g.peers], g.quantity) for g in p.groups] for p in plans
    ] == [
        [("G0", ["p1:7051"], 1), ("G1", ["p2:7051"], 1)],
        [("G1", ["p2:7051"], 2)],
    ]
    assert choose_layout(plans, "Org2MSP") is plans[0]


def _block(number: int, events: list[tuple[str, str, int]]) -> common_pb2.Block:
    """A block whose transactions each emit one event (txid, chaincode, validation code)."""
    block = common_pb2.Block(header=common_pb2.BlockHeader(number=number))
    for txid, chaincode, _ in events:
        event = chaincode_event_pb2.ChaincodeEvent(
            chaincode_id=chaincode, tx_id=txid, event_name="Beat", payload=txid.encode()
        )
        action = proposal_pb2.ChaincodeAction(events=event.SerializeToString())
        response = proposal_response_pb2.ProposalResponsePayload(
            extension=action.SerializeToString()
        )
        action_payload = transaction_pb2.ChaincodeActionPayload(
            action=transaction_pb2.ChaincodeEndorsedAction(
                proposal_response_payload=response.SerializeToString()
            )
        )
        transaction = transaction_pb2.Transaction()
        transaction.actions.add(payload=action_payload.SerializeToString())
        header = common_pb2.ChannelHeader(type=common_pb2.ENDORSER_TRANSACTION, tx_id=txid)
        payload = common_pb2.Payload(
            header=common_pb2.Header(channel_header=header.SerializeToString()),
            data=transaction.SerializeToString(),
        )
        envelope = common_pb2.Envelope(payload=payload.SerializeToString())
        block.data.data.append(envelope.SerializeToString())
    block.metadata.metadata.extend([b"", b"", bytes(code for _, _, code in events)])
    return block


VALID = transaction_pb2.TxValidationCode.VALID
MVCC = transaction_pb2.TxValidationCode.MVCC_READ_CONFLICT


def test_a_filtered_block_keeps_codes_and_event_names_but_no_payload() -> None:
    block = _block(7, [("t1", "fedledger", VALID), ("t2", "fedledger", MVCC)])
    filtered = filtered_block(block, "ch")
    assert filtered.number == 7
    assert [(t.txid, t.tx_validation_code) for t in filtered.filtered_transactions] == [
        ("t1", VALID),
        ("t2", MVCC),
    ]
    event = filtered.filtered_transactions[0].transaction_actions.chaincode_actions[0]
    assert (event.chaincode_event.event_name, event.chaincode_event.payload) == ("Beat", b"")


class FakeCall:
    def __init__(self, responses: list[events_pb2.DeliverResponse]) -> None:
        self.responses = responses
        self.cancelled = False

    def __iter__(self) -> Iterator[events_pb2.DeliverResponse]:
        return iter(self.responses)

    def cancel(self) -> None:
        self.cancelled = True


def _events(request: gateway_pb2.ChaincodeEventsRequest, *responses: Any) -> list[Any]:
    call = FakeCall(list(responses))
    return [
        (r.block_number, [e.tx_id for e in r.events])
        for r in DeliverEvents(call, request, "peer0.org1:7051 (Org1MSP)")
    ]


def _request(start: int | None, after: str = "") -> gateway_pb2.ChaincodeEventsRequest:
    request = gateway_pb2.ChaincodeEventsRequest(
        chaincode_id="fedledger", after_transaction_id=after
    )
    if start is None:
        request.start_position.next_commit.SetInParent()
    else:
        request.start_position.specified.number = start
    return request


def test_deliver_blocks_read_as_events_of_valid_transactions_of_the_chaincode() -> None:
    blocks = [
        events_pb2.DeliverResponse(
            block=_block(5, [("t1", "fedledger", VALID), ("t2", "other", VALID)])
        ),
        events_pb2.DeliverResponse(block=_block(6, [("t3", "fedledger", MVCC)])),
        events_pb2.DeliverResponse(block=_block(7, [("t4", "fedledger", VALID)])),
    ]
    assert _events(_request(5), *blocks) == [(5, ["t1"]), (7, ["t4"])]
    # Resuming after t1 in block 5 skips it; "next commit" skips the newest block itself.
    assert _events(_request(5, after="t1"), *blocks) == [(7, ["t4"])]
    assert _events(_request(None), *blocks) == [(7, ["t4"])]
    # An id the first block does not hold skips nothing (as the Gateway does).
    assert _events(_request(5, after="t0"), *blocks) == [(5, ["t1"]), (7, ["t4"])]


def test_a_refused_block_stream_is_an_events_error_and_a_finished_one_just_ends() -> None:
    forbidden = events_pb2.DeliverResponse(status=common_pb2.Status.FORBIDDEN)
    with pytest.raises(EventsError) as refused:
        _events(_request(5), forbidden)
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.message == (
        "peer0.org1:7051 (Org1MSP) refused the block stream: FORBIDDEN"
    )
    assert _events(_request(5), events_pb2.DeliverResponse(status=common_pb2.Status.SUCCESS)) == []


def _result(result: bytes) -> bytes:
    """A ProposalResponsePayload whose chaincode action returned `result`."""
    action = proposal_pb2.ChaincodeAction(
        response=proposal_response_pb2.Response(status=200, payload=result)
    )
    return bytes(
        proposal_response_pb2.ProposalResponsePayload(
            extension=action.SerializeToString()
        ).SerializeToString()
    )


class FakeEndorser(peer_pb2_grpc.EndorserServicer):  # type: ignore[misc]
    """Answers every proposal with a fixed result, or refuses it as Fabric's peer does."""

    def __init__(self, result: bytes = b"42", refuse: str = "", behind: int = 0) -> None:
        self.payload = _result(result)
        self.refuse = refuse
        self.behind = behind  # calls answered with a stale result first
        self.calls = 0

    def ProcessProposal(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.calls += 1
        if self.refuse:
            context.abort(grpc.StatusCode.UNKNOWN, self.refuse)
        if self.calls <= self.behind:
            return _response(payload=_result(b"41"))
        return _response(payload=self.payload)


@pytest.fixture(scope="module")
def signer() -> SigningIdentity:
    ca = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    user = ca.issue_signing("User1@org1.example.com", "client", NOW)
    return SigningIdentity(Identity("Org1MSP", user.cert_pem), user.private_key)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[grpc.Server] = []

    def start(servicer: FakeEndorser) -> str:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        peer_pb2_grpc.add_EndorserServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(grace=None)


def _closed_port() -> str:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    server.stop(grace=None).wait()
    return f"127.0.0.1:{port}"


def _client(signer: SigningIdentity, peers: dict[str, list[Node]]) -> Gateway:
    connections = Connections()
    planner = Planner(
        signer, "Org1MSP", peers, "MAJORITY", connections, lambda e, m: None, use_discovery=False
    )
    client = PeerClient(signer, peers["Org1MSP"], planner, [], connections=connections)
    return Gateway.over(client, signer)


def test_endorsements_that_differ_stop_the_transaction_before_it_is_sent(
    signer: SigningIdentity, serve: Any
) -> None:
    fakes = [FakeEndorser(b"1"), FakeEndorser(b"2")]
    peers = {
        "Org1MSP": [Node(serve(fakes[0]), "Org1MSP", None)],
        "Org2MSP": [Node(serve(fakes[1]), "Org2MSP", None)],
    }
    with _client(signer, peers) as gateway:
        proposal = gateway.network("ch").contract("fedledger").new_proposal("health:Beat", ["a"])
        with pytest.raises(EndorsementMismatchError) as refused:
            proposal.endorse()
    assert fakes[1].calls == 5  # asked again four times before giving up
    assert refused.value.code == grpc.StatusCode.ABORTED
    assert refused.value.message.startswith(
        f"the endorsing peers returned different results: {peers['Org2MSP'][0]} differ from "
        f"{peers['Org1MSP'][0]}"
    )


def test_a_peer_one_block_behind_is_asked_again_until_the_results_agree(
    signer: SigningIdentity, serve: Any
) -> None:
    behind = FakeEndorser(behind=2)
    peers = {
        "Org1MSP": [Node(serve(FakeEndorser()), "Org1MSP", None)],
        "Org2MSP": [Node(serve(behind), "Org2MSP", None)],
    }
    with _client(signer, peers) as gateway:
        contract = gateway.network("ch").contract("fedledger")
        transaction = contract.new_proposal("health:Beat", ["a"]).endorse()
    assert json.loads(transaction.result) == 42
    assert behind.calls == 3


def test_a_peer_that_cannot_be_reached_is_replaced_by_another_of_its_organisation(
    signer: SigningIdentity, serve: Any
) -> None:
    second = FakeEndorser()
    peers = {
        "Org1MSP": [
            Node(_closed_port(), "Org1MSP", None),
            Node(serve(second), "Org1MSP", None),
        ],
        "Org2MSP": [Node(serve(FakeEndorser()), "Org2MSP", None)],
    }
    with _client(signer, peers) as gateway:
        contract = gateway.network("ch").contract("fedledger")
        transaction = contract.new_proposal("health:Beat", ["a"]).endorse()
        assert json.loads(transaction.result) == 42
        assert json.loads(contract.evaluate("health:Beat", ["a"])) == 42
    assert second.calls == 2


def test_a_peer_that_refuses_the_proposal_is_reported_as_the_gateway_reports_it(
    signer: SigningIdentity, serve: Any
) -> None:
    reason = "error validating proposal: access denied: channel [ch] creator org unknown"
    peers = {
        "Org1MSP": [Node(serve(FakeEndorser(refuse=reason)), "Org1MSP", None)],
        "Org2MSP": [Node(serve(FakeEndorser()), "Org2MSP", None)],
    }
    with _client(signer, peers) as gateway:
        contract = gateway.network("ch").contract("fedledger")
        with pytest.raises(EvaluateError) as evaluated:
            contract.evaluate("health:Version")
        with pytest.raises(EndorseError) as endorsed:
            contract.new_proposal("health:Beat", ["a"]).endorse()
    assert evaluated.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert evaluated.value.message == f"evaluate call to endorser returned error: {reason}"
    assert endorsed.value.code == grpc.StatusCode.ABORTED
    assert [(d.msp_id, d.message) for d in endorsed.value.details] == [("Org1MSP", reason)]


def test_no_reachable_peer_of_a_group_is_unavailable_naming_each_peer_tried(
    signer: SigningIdentity, serve: Any
) -> None:
    closed = _closed_port()
    peers = {
        "Org1MSP": [Node(serve(FakeEndorser()), "Org1MSP", None)],
        "Org2MSP": [Node(closed, "Org2MSP", None)],
    }
    connections = Connections()
    planner = Planner(
        signer, "Org1MSP", peers, "MAJORITY", connections, lambda e, m: None, use_discovery=False
    )
    client = PeerClient(
        signer, peers["Org1MSP"], planner, [], Timeouts(endorse=1.0), connections=connections
    )
    with Gateway.over(client, signer) as gateway:
        proposal = gateway.network("ch").contract("fedledger").new_proposal("health:Beat", ["a"])
        with pytest.raises(EndorseError) as refused:
            proposal.endorse()
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    assert refused.value.message == (
        "too few peers of Org2MSP could be reached to endorse the transaction"
    )
    assert {d.address for d in refused.value.details} == {closed}
    assert len(refused.value.details) == 2  # asked at once, then once more waiting to connect


class FakeDiscovery(protocol_pb2_grpc.DiscoveryServicer):  # type: ignore[misc]
    """Answers every chaincode query with one layout: a peer of Org2 and one of Org3."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def Discover(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.requests.append(protocol_pb2.Request.FromString(request.payload))
        descriptor = protocol_pb2.EndorsementDescriptor(chaincode="fedledger")
        descriptor.endorsers_by_groups["G2"].peers.append(_discovered("p2:7051", "Org2MSP"))
        descriptor.endorsers_by_groups["G3"].peers.append(_discovered("p3:7051", "Org3MSP"))
        descriptor.layouts.add().quantities_by_group.update({"G2": 1, "G3": 1})
        response = protocol_pb2.Response()
        response.results.add().cc_query_res.content.append(descriptor)
        return response


def _planner(signer: SigningIdentity, endpoint: str, clock: Any) -> Planner:
    peers = {
        msp: [Node(endpoint if msp == "Org1MSP" else f"p{msp[3]}:7051", msp, None)] for msp in ORGS
    }
    return Planner(
        signer,
        "Org1MSP",
        peers,
        "MAJORITY",
        Connections(),
        lambda endpoint, msp: Node(endpoint, msp, None),
        clock=clock,
    )


def test_the_plan_comes_from_discovery_and_is_kept_for_a_minute(signer: SigningIdentity) -> None:
    fake = FakeDiscovery()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    protocol_pb2_grpc.add_DiscoveryServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    now = [100.0]
    try:
        planner = _planner(signer, f"127.0.0.1:{port}", lambda: now[0])
        plan = planner.plan("ch", "fedledger")
        assert plan.source == "the peer's discovery service"
        assert [(g.name, [n.endpoint for n in g.peers]) for g in plan.groups] == [
            ("G2", ["p2:7051"]),
            ("G3", ["p3:7051"]),
        ]
        query = fake.requests[0].queries[0]
        assert (query.channel, query.cc_query.interests[0].chaincodes[0].name) == (
            "ch",
            "fedledger",
        )
        now[0] += 59
        assert planner.plan("ch", "fedledger") is plan
        now[0] += 2
        planner.plan("ch", "fedledger")
        assert len(fake.requests) == 2
        # Organisations the caller names replace discovery's choice.
        named = planner.plan("ch", "fedledger", ["Org3MSP"])
        assert [g.name for g in named.groups] == ["Org3MSP"]
    finally:
        server.stop(grace=None)


def test_without_discovery_the_plan_is_the_profiles(signer: SigningIdentity, serve: Any) -> None:
    endpoint = serve(FakeEndorser())  # a peer that serves no discovery service
    planner = _planner(signer, endpoint, lambda: 0.0)
    plan = planner.plan("ch", "fedledger")
    assert plan.source == "the profile's MAJORITY of 3 organisations"
    assert [g.name for g in plan.groups] == ["Org1MSP", "Org2MSP"]
    assert planner.discovery_error.startswith("UNIMPLEMENTED")
