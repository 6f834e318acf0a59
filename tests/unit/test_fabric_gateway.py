"""The client's flows against an in-process fake of the Gateway service (no Fabric needed).

The fake checks what a peer checks about each request (signature over the exact bytes, the
transaction id derived from nonce and creator) and answers the way Fabric's Gateway does,
including `google.rpc.Status` details on errors and resumable chaincode event streams.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf import any_pb2
from google.rpc import status_pb2

from fedledger.fabric import (
    Backoff,
    ChaincodeEvent,
    Checkpoint,
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    EventsError,
    FileCheckpointer,
    Gateway,
    SigningIdentity,
    SubmitError,
    Timeouts,
    connect,
)
from fedledger.fabric.identity import Identity
from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material
from fedledger.orgs.ca import CertificateAuthority
from fedledger.profile import ConnectionProfile, ProfileError

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CHANNEL = "fedledger"
CHAINCODE = "fedledger"
VALID = transaction_pb2.TxValidationCode.VALID
MVCC = transaction_pb2.TxValidationCode.MVCC_READ_CONFLICT


@dataclass
class Block:
    number: int
    events: list[tuple[str, str, bytes]]  # transaction id, event name, payload


@dataclass
class FakeGateway(gateway_pb2_grpc.GatewayServicer):  # type: ignore[misc]
    """Answers like a Gateway peer; each field scripts one behaviour."""

    evaluate_error: tuple[grpc.StatusCode, str, list[ErrorDetail]] | None = None
    endorse_error: tuple[grpc.StatusCode, str, list[ErrorDetail]] | None = None
    submit_error: tuple[grpc.StatusCode, str, list[ErrorDetail]] | None = None
    commit_code: int = VALID
    commit_delay: float = 0.0
    height: int = 5
    blocks: list[Block] = field(default_factory=list)
    # Abort the event stream with UNAVAILABLE after this many responses (once per entry).
    interruptions: list[int] = field(default_factory=list)
    events_code: grpc.StatusCode | None = None
    requests: list[tuple[str, Any]] = field(default_factory=list)
    new_block: threading.Condition = field(default_factory=threading.Condition)

    # The checks a peer makes on every signed message.

    def _verify(self, creator: bytes, message: bytes, signature: bytes) -> None:
        identity = identities_pb2.SerializedIdentity.FromString(creator)
        key = x509.load_pem_x509_certificate(identity.id_bytes).public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))

    def _proposal(self, signed: proposal_pb2.SignedProposal, transaction_id: str) -> Any:
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
        self._verify(signature_header.creator, signed.proposal_bytes, signed.signature)
        derived = hashlib.sha256(signature_header.nonce + signature_header.creator).hexdigest()
        assert derived == transaction_id == channel_header.tx_id
        payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
        spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
        return channel_header, signature_header.creator, spec

    @staticmethod
    def _abort(context: grpc.ServicerContext, error: tuple[Any, str, list[ErrorDetail]]) -> None:
        code, message, details = error
        status = status_pb2.Status(code=code.value[0], message=message)
        for detail in details:
            packed = any_pb2.Any()
            packed.Pack(gateway_pb2.ErrorDetail(**vars(detail)))
            status.details.append(packed)
        context.set_trailing_metadata([("grpc-status-details-bin", status.SerializeToString())])
        context.abort(code, message)

    # The Gateway service.

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.requests.append(("evaluate", request))
        _, _, spec = self._proposal(request.proposed_transaction, request.transaction_id)
        if self.evaluate_error:
            self._abort(context, self.evaluate_error)
        if spec.chaincode_id.name == "qscc":
            payload = ledger_pb2.BlockchainInfo(height=self.height).SerializeToString()
        else:
            payload = b"|".join(spec.input.args)
        return gateway_pb2.EvaluateResponse(result=proposal_response_pb2.Response(payload=payload))

    def Endorse(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.requests.append(("endorse", request))
        channel_header, creator, spec = self._proposal(
            request.proposed_transaction, request.transaction_id
        )
        if self.endorse_error:
            self._abort(context, self.endorse_error)
        result = b"ok:" + b"|".join(spec.input.args)
        return gateway_pb2.EndorseResponse(
            prepared_transaction=_envelope(channel_header, creator, result)
        )

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.requests.append(("submit", request))
        envelope = request.prepared_transaction
        payload = common_pb2.Payload.FromString(envelope.payload)
        signature_header = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        self._verify(signature_header.creator, envelope.payload, envelope.signature)
        if self.submit_error:
            self._abort(context, self.submit_error)
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.requests.append(("commit_status", request))
        inner = gateway_pb2.CommitStatusRequest.FromString(request.request)
        self._verify(inner.identity, request.request, request.signature)
        threading.Event().wait(self.commit_delay)
        return gateway_pb2.CommitStatusResponse(result=self.commit_code, block_number=7)

    def ChaincodeEvents(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:  # noqa: N802
        inner = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        self.requests.append(("events", inner))
        self._verify(inner.identity, request.request, request.signature)
        if self.events_code is not None:
            context.abort(self.events_code, "refused")
        start = inner.start_position
        next_block = start.specified.number if start.HasField("specified") else self.height
        after = inner.after_transaction_id
        sent = 0
        while context.is_active():
            with self.new_block:
                block = next((b for b in self.blocks if b.number >= next_block), None)
                if block is None:
                    self.new_block.wait(0.05)
                    continue
            events = block.events
            if after and block.number == next_block:
                ids = [tx for tx, _, _ in events]
                events = events[ids.index(after) + 1 :] if after in ids else events
            next_block = block.number + 1
            if not events:
                continue
            if self.interruptions and sent == self.interruptions[0]:
                self.interruptions.pop(0)
                context.abort(grpc.StatusCode.UNAVAILABLE, "peer restarting")
            sent += 1
            yield gateway_pb2.ChaincodeEventsResponse(
                block_number=block.number,
                events=[
                    chaincode_event_pb2.ChaincodeEvent(
                        chaincode_id=inner.chaincode_id, tx_id=tx, event_name=name, payload=data
                    )
                    for tx, name, data in events
                ],
            )

    def add_block(self, block: Block) -> None:
        with self.new_block:
            self.blocks.append(block)
            self.new_block.notify_all()


def _envelope(channel_header: Any, creator: bytes, result: bytes) -> common_pb2.Envelope:
    action = proposal_pb2.ChaincodeAction(response=proposal_response_pb2.Response(payload=result))
    response_payload = proposal_response_pb2.ProposalResponsePayload(
        extension=action.SerializeToString()
    )
    action_payload = transaction_pb2.ChaincodeActionPayload(
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=response_payload.SerializeToString()
        )
    )
    transaction = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(payload=action_payload.SerializeToString())]
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=common_pb2.SignatureHeader(creator=creator).SerializeToString(),
        ),
        data=transaction.SerializeToString(),
    )
    return common_pb2.Envelope(payload=payload.SerializeToString())


@pytest.fixture(scope="module")
def signer() -> SigningIdentity:
    ca = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    user = ca.issue_signing("User1@org1.example.com", "client", NOW)
    return SigningIdentity(Identity("Org1MSP", user.cert_pem), user.private_key)


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def gateway(fake: FakeGateway, signer: SigningIdentity) -> Iterator[Gateway]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with Gateway.connect(f"127.0.0.1:{port}", signer, tls=None) as connected:
        yield connected
    server.stop(grace=None)


def _contract(gateway: Gateway) -> Any:
    return gateway.network(CHANNEL).contract(CHAINCODE)


DETAILS = [
    ErrorDetail("peer0.org1:7051", "Org1MSP", "chaincode response 500, task t-9 does not exist"),
    ErrorDetail("peer0.org2:9051", "Org2MSP", "chaincode response 500, task t-9 does not exist"),
]


def test_evaluate_returns_the_chaincode_result(gateway: Gateway, fake: FakeGateway) -> None:
    assert _contract(gateway).evaluate("health:Version") == b"health:Version"
    assert [kind for kind, _ in fake.requests] == ["evaluate"]


def test_named_contract_prefixes_the_function(gateway: Gateway) -> None:
    contract = gateway.network(CHANNEL).contract(CHAINCODE, "health")
    assert contract.evaluate("Beat", ["bob"]) == b"health:Beat|bob"


def test_evaluate_targets_the_given_organisations(gateway: Gateway, fake: FakeGateway) -> None:
    _contract(gateway).evaluate("f", endorsing_organizations=["Org2MSP"])
    assert list(fake.requests[0][1].target_organizations) == ["Org2MSP"]


def test_submit_endorses_submits_and_waits_for_commit(gateway: Gateway, fake: FakeGateway) -> None:
    result = _contract(gateway).submit("health:Beat", ["alice"], endorsing_organizations=["O1"])

    assert result == b"ok:health:Beat|alice"
    kinds = [kind for kind, _ in fake.requests]
    assert kinds == ["endorse", "submit", "commit_status"]
    endorse, submit, status = (request for _, request in fake.requests)
    assert list(endorse.endorsing_organizations) == ["O1"]
    assert endorse.transaction_id == submit.transaction_id
    inner = gateway_pb2.CommitStatusRequest.FromString(status.request)
    assert (inner.channel_id, inner.transaction_id) == (CHANNEL, endorse.transaction_id)


def test_submit_async_returns_before_the_commit(gateway: Gateway, fake: FakeGateway) -> None:
    commit = _contract(gateway).submit_async("health:Beat", ["alice"])
    assert commit.result == b"ok:health:Beat|alice"
    assert [kind for kind, _ in fake.requests] == ["endorse", "submit"]
    status = commit.status()
    assert (status.successful, status.code_name, status.block_number) == (True, "VALID", 7)
    assert status.transaction_id == commit.transaction_id


def test_invalid_transaction_raises_commit_error_with_the_code(
    gateway: Gateway, fake: FakeGateway
) -> None:
    fake.commit_code = MVCC
    with pytest.raises(CommitError) as raised:
        _contract(gateway).submit("health:Beat", ["alice"])
    assert raised.value.code == MVCC
    assert raised.value.code_name == "MVCC_READ_CONFLICT"
    assert raised.value.block_number == 7
    assert str(raised.value) == (
        f"transaction {raised.value.transaction_id} failed to commit in block 7 "
        "with status code 11 (MVCC_READ_CONFLICT)"
    )


def test_endorse_error_carries_transaction_id_status_and_peer_details(
    gateway: Gateway, fake: FakeGateway
) -> None:
    fake.endorse_error = (grpc.StatusCode.ABORTED, "failed to endorse transaction", DETAILS)
    with pytest.raises(EndorseError) as raised:
        _contract(gateway).submit("registry:GetTask", ["t-9"])
    error = raised.value
    assert error.transaction_id == fake.requests[0][1].transaction_id
    assert error.code == grpc.StatusCode.ABORTED
    assert error.message == "failed to endorse transaction"
    assert error.details == tuple(DETAILS)
    assert error.chaincode_message == "task t-9 does not exist"
    assert str(error) == (
        f"endorse of transaction {error.transaction_id} failed: "
        "ABORTED: failed to endorse transaction\n"
        "  - peer0.org1:7051 (Org1MSP): chaincode response 500, task t-9 does not exist\n"
        "  - peer0.org2:9051 (Org2MSP): chaincode response 500, task t-9 does not exist"
    )
    assert [kind for kind, _ in fake.requests] == ["endorse"]


def test_evaluate_error_carries_the_chaincode_message(gateway: Gateway, fake: FakeGateway) -> None:
    fake.evaluate_error = (
        grpc.StatusCode.UNKNOWN,
        "evaluate call to endorser returned error: chaincode response 500, no such task",
        [],
    )
    with pytest.raises(EvaluateError) as raised:
        _contract(gateway).evaluate("registry:GetTask", ["t-9"])
    assert raised.value.chaincode_message == "no such task"
    assert raised.value.details == ()


def test_submit_error(gateway: Gateway, fake: FakeGateway) -> None:
    fake.submit_error = (grpc.StatusCode.UNAVAILABLE, "no orderer", DETAILS[:1])
    with pytest.raises(SubmitError) as raised:
        _contract(gateway).submit("f")
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    assert raised.value.details == (DETAILS[0],)
    assert "commit_status" not in [kind for kind, _ in fake.requests]


def test_commit_status_timeout_raises_commit_status_error(
    fake: FakeGateway, signer: SigningIdentity, gateway: Gateway
) -> None:
    fake.commit_delay = 1.0
    short = Gateway(gateway._channel, signer, Timeouts(commit_status=0.1))
    commit = short.network(CHANNEL).contract(CHAINCODE).submit_async("f")
    with pytest.raises(CommitStatusError) as raised:
        commit.status()
    assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert raised.value.transaction_id == commit.transaction_id


def test_unreachable_peer_raises_endorse_error_with_unavailable(signer: SigningIdentity) -> None:
    timeouts = Timeouts(endorse=2)
    with (
        Gateway.connect("127.0.0.1:1", signer, tls=None, timeouts=timeouts) as gw,
        pytest.raises(EndorseError) as raised,
    ):
        _contract(gw).submit("f")
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout submit must be positive, got 0"):
        Timeouts(submit=0)


def test_many_transactions_in_flight_over_one_gateway(gateway: Gateway, fake: FakeGateway) -> None:
    fake.commit_delay = 0.2
    contract = _contract(gateway)
    with futures.ThreadPoolExecutor(max_workers=16) as pool:
        commits = list(pool.map(lambda i: contract.submit_async("f", [str(i)]), range(16)))
        started = dt.datetime.now()
        statuses = list(pool.map(lambda c: c.status(), commits))
    assert all(s.successful for s in statuses)
    assert len({c.transaction_id for c in commits}) == 16
    # The 16 commit-status calls wait concurrently, not one after another.
    assert (dt.datetime.now() - started).total_seconds() < 16 * 0.2 / 2


# Chaincode events.


def _blocks() -> list[Block]:
    return [
        Block(5, [("tx5a", "Heartbeat", b"1"), ("tx5b", "Heartbeat", b"2")]),
        Block(6, [("tx6a", "Heartbeat", b"3")]),
        Block(8, [("tx8a", "Heartbeat", b"4"), ("tx8b", "Heartbeat", b"5")]),
    ]


def _take(stream: Any, count: int) -> list[ChaincodeEvent]:
    taken = []
    for event in stream:
        taken.append(event)
        if len(taken) == count:
            break
    return taken


FAST = Backoff(initial=0.01, maximum=0.05)


def test_events_start_at_the_next_commit_pinned_to_the_block_height(
    gateway: Gateway, fake: FakeGateway
) -> None:
    fake.blocks = _blocks()
    fake.height = 6
    with gateway.network(CHANNEL).chaincode_events(CHAINCODE) as stream:
        events = _take(stream, 3)
    assert [(e.block_number, e.transaction_id) for e in events] == [
        (6, "tx6a"),
        (8, "tx8a"),
        (8, "tx8b"),
    ]
    assert events[0] == ChaincodeEvent(6, "tx6a", CHAINCODE, "Heartbeat", b"3")
    request = next(r for kind, r in fake.requests if kind == "events")
    assert request.start_position.specified.number == 6


def test_events_from_a_start_block(gateway: Gateway, fake: FakeGateway) -> None:
    fake.blocks = _blocks()
    with gateway.network(CHANNEL).chaincode_events(CHAINCODE, start_block=0) as stream:
        events = _take(stream, 5)
    assert [e.payload for e in events] == [b"1", b"2", b"3", b"4", b"5"]


def test_stream_reconnects_after_the_peer_drops_it_without_loss_or_duplicates(
    gateway: Gateway, fake: FakeGateway
) -> None:
    fake.blocks = _blocks()
    fake.interruptions = [1, 0]  # after block 5; then at once on the first reconnect
    network = gateway.network(CHANNEL)
    with network.chaincode_events(CHAINCODE, start_block=0, backoff=FAST) as stream:
        events = _take(stream, 5)
        assert stream.reconnects == 2
    assert [e.transaction_id for e in events] == ["tx5a", "tx5b", "tx6a", "tx8a", "tx8b"]
    resumed = [r for kind, r in fake.requests if kind == "events"][1:]
    assert [(r.start_position.specified.number, r.after_transaction_id) for r in resumed] == [
        (5, "tx5b"),
        (5, "tx5b"),
    ]


def test_a_refused_stream_raises_events_error(gateway: Gateway, fake: FakeGateway) -> None:
    fake.events_code = grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(EventsError, match="PERMISSION_DENIED: refused"):
        _take(gateway.network(CHANNEL).chaincode_events(CHAINCODE, start_block=0), 1)


def test_close_from_another_thread_ends_iteration(gateway: Gateway, fake: FakeGateway) -> None:
    stream = gateway.network(CHANNEL).chaincode_events(CHAINCODE, start_block=100)
    threading.Timer(0.2, stream.close).start()
    assert list(stream) == []


def test_restarted_listener_resumes_from_its_checkpoint(
    gateway: Gateway, fake: FakeGateway, tmp_path: Any
) -> None:
    fake.blocks = _blocks()
    network = gateway.network(CHANNEL)
    checkpointer = FileCheckpointer(tmp_path / "events.json")
    with network.chaincode_events(CHAINCODE, start_block=0, checkpointer=checkpointer) as first:
        for event in _take(first, 4):  # stops inside block 8
            checkpointer.checkpoint_event(event)
    assert checkpointer.checkpoint == Checkpoint(8, "tx8a")

    restarted = FileCheckpointer(tmp_path / "events.json")
    fake.add_block(Block(9, [("tx9a", "Heartbeat", b"6")]))
    with network.chaincode_events(CHAINCODE, start_block=0, checkpointer=restarted) as second:
        events = _take(second, 2)
    assert [e.transaction_id for e in events] == ["tx8b", "tx9a"]


def test_events_committed_later_are_delivered_live(gateway: Gateway, fake: FakeGateway) -> None:
    fake.height = 10
    stream = gateway.network(CHANNEL).chaincode_events(CHAINCODE)
    threading.Timer(0.2, fake.add_block, [Block(10, [("tx10", "Heartbeat", b"x")])]).start()
    with stream:
        assert [e.transaction_id for e in _take(stream, 1)] == ["tx10"]


# TLS and the connection profile.


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crypto")
    generate_material(
        root,
        [MemberOrg("Org1", "Org1MSP", "org1.example.com")],
        OrdererOrg("Orderer", "OrdererMSP", "example.com"),
        now=NOW,
    )
    return root


@pytest.fixture
def tls_server(crypto: Path) -> Iterator[tuple[int, FakeGateway]]:
    org = OrgLayout.under(crypto, "org1.example.com")
    peer = org.peer(0)
    credentials = grpc.ssl_server_credentials(
        [(peer.tls_key("server").read_bytes(), peer.tls_cert("server").read_bytes())],
        root_certificates=org.tlsca_cert.read_bytes(),
        require_client_auth=True,
    )
    fake = FakeGateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    yield port, fake
    server.stop(grace=None)


def _profile(crypto: Path, port: int, tls_ca: Path | None = None) -> ConnectionProfile:
    org = OrgLayout.under(crypto, "org1.example.com")
    return ConnectionProfile.from_dict(
        {
            "name": "unit",
            "ledger": "fabric",
            "channel": CHANNEL,
            "chaincode": CHAINCODE,
            "organizations": {
                "Org1MSP": {
                    "mspId": "Org1MSP",
                    "gateway": {
                        "endpoint": f"127.0.0.1:{port}",
                        "serverName": "peer0.org1.example.com",
                        "tlsCaCert": str(tls_ca or org.tlsca_cert),
                    },
                    "identities": {"user": str(org.client.msp), "admin": str(org.admin.msp)},
                    "tlsClient": {
                        "cert": str(org.client.tls_cert("client")),
                        "key": str(org.client.tls_key("client")),
                    },
                }
            },
        },
        base=crypto,
    )


def test_connect_from_a_profile_over_mutual_tls(
    crypto: Path, tls_server: tuple[int, FakeGateway]
) -> None:
    port, fake = tls_server
    profile = _profile(crypto, port)
    with connect(profile, "Org1MSP", identity="admin") as gateway:
        contract = gateway.network(profile.channel).contract(profile.chaincode)
        assert contract.evaluate("health:Version") == b"health:Version"
        assert gateway.signer.identity.certificate.subject.rfc4514_string().startswith("CN=Admin@")
    proposal = proposal_pb2.Proposal.FromString(
        fake.requests[0][1].proposed_transaction.proposal_bytes
    )
    header = common_pb2.Header.FromString(proposal.header)
    creator = common_pb2.SignatureHeader.FromString(header.signature_header).creator
    assert identities_pb2.SerializedIdentity.FromString(creator).mspid == "Org1MSP"


def test_a_peer_not_signed_by_the_orgs_tls_ca_is_refused(
    crypto: Path, tls_server: tuple[int, FakeGateway], tmp_path: Path
) -> None:
    port, _ = tls_server
    stranger = CertificateAuthority.create("tlsca.other.com", "other.com", NOW)
    (tmp_path / "other-ca.pem").write_bytes(stranger.issued.cert_pem)
    profile = _profile(crypto, port, tls_ca=tmp_path / "other-ca.pem")
    with connect(profile, "Org1MSP", timeouts=Timeouts(evaluate=2)) as gateway:
        contract = gateway.network(profile.channel).contract(profile.chaincode)
        with pytest.raises(EvaluateError) as raised:
            contract.evaluate("health:Version")
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE


def test_an_unknown_identity_name_is_a_profile_error(crypto: Path) -> None:
    with pytest.raises(ProfileError, match="organisation Org1MSP has no identity 'auditor'"):
        connect(_profile(crypto, 1), "Org1MSP", identity="auditor")
