"""The embedded ledger end to end: its launcher API, and a peer's checks on every request.

Driven with `fedledger.embedded.probe`, which builds Fabric's messages in the open, so these
tests can also build the wrong ones. The Python client's own suite runs on this ledger through
the shared `ledger` fixture (tests/integration/test_client.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import proposal_pb2, transaction_pb2
from google.rpc import status_pb2

from fedledger.embedded import EmbeddedLedger, EmbeddedLedgerError, verify_ledger
from fedledger.embedded.probe import GatewayProbe, build_proposal
from fedledger.fabric import SigningIdentity
from fedledger.fabric.crypto import P256_ORDER
from fedledger.fabric.errors import decode_rpc_error
from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material
from fedledger.profile import ConnectionProfile
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.health import wait_for

from .conftest import free_port_base

pytestmark = pytest.mark.ledger
VALID = transaction_pb2.VALID


def embedded_definition(**overrides: float) -> NetworkDefinition:
    return NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), batch_timeout=overrides.get("batch_timeout", 0.05)
    )


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedLedger]:
    ledger = EmbeddedLedger(embedded_definition(), tmp_path_factory.mktemp("embedded"))
    ledger.up()
    yield ledger
    ledger.down()


@pytest.fixture(scope="module")
def profile(embedded: EmbeddedLedger) -> ConnectionProfile:
    return ConnectionProfile.load(embedded.run_dir / "connection-profile.yaml")


@pytest.fixture
def org1(profile: ConnectionProfile) -> Iterator[GatewayProbe]:
    with GatewayProbe.from_profile(profile, "Org1MSP") as probe:
        yield probe


def name() -> str:
    return f"beat{uuid.uuid4().hex[:12]}"


def error_details(error: grpc.RpcError) -> list[gateway_pb2.ErrorDetail]:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            details = []
            for packed in status.details:
                detail = gateway_pb2.ErrorDetail()
                packed.Unpack(detail)
                details.append(detail)
            return details
    return []


# The launcher.


def test_up_writes_the_connection_profile_of_every_organisation(
    embedded: EmbeddedLedger, profile: ConnectionProfile
) -> None:
    assert profile.ledger == "embedded"
    assert profile.msp_ids == ["Org1MSP", "Org2MSP", "Org3MSP"]
    assert profile.channel == embedded.definition.channel
    for index, msp_id in enumerate(profile.msp_ids):
        org = profile.org(msp_id)
        assert org.gateway.endpoint == f"127.0.0.1:{embedded.definition.peer_ports(index).listen}"
        assert org.gateway.tls_ca_cert.exists()
        assert (org.identity("user") / "signcerts").is_dir()


def test_status_reports_every_organisation_healthy(embedded: EmbeddedLedger) -> None:
    rows = embedded.status()
    assert [row.organization for row in rows] == ["Org1MSP", "Org2MSP", "Org3MSP"]
    assert all(row.healthy for row in rows)
    assert all(row.height is not None and row.height >= 1 for row in rows)
    assert embedded.running()


def test_up_while_running_is_refused(embedded: EmbeddedLedger) -> None:
    with pytest.raises(EmbeddedLedgerError, match="already running"):
        embedded.up()


def test_every_organisation_gateway_answers(profile: ConnectionProfile) -> None:
    for msp_id in profile.msp_ids:
        with GatewayProbe.from_profile(profile, msp_id) as probe:
            assert b'"chaincode":"fedledger"' in probe.evaluate("health:Version")


# Transactions.


def test_submit_commits_and_evaluate_reads_the_result(org1: GatewayProbe) -> None:
    beat = name()
    first = org1.submit("health:Beat", beat)
    second = org1.submit("health:Beat", beat)
    assert (first.code_name, first.result) == ("VALID", b"1")
    assert (second.code_name, second.result) == ("VALID", b"2")
    assert second.block > first.block


def test_events_arrive_in_commit_order_for_valid_transactions_only(org1: GatewayProbe) -> None:
    beat = name()
    start = org1.block_height()
    committed = [org1.submit("health:Beat", beat) for _ in range(3)]
    seen = []
    for block, event in org1.events(start_block=start, timeout=5):
        if beat.encode() in event.payload:
            seen.append((block, event.tx_id, event.event_name))
        if len(seen) == 3:
            break
    assert seen == [(c.block, c.txid, "Heartbeat") for c in committed]


def test_a_chaincode_error_is_reported_as_fabric_reports_it(org1: GatewayProbe) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        org1.evaluate("health:Beat", "not a valid name!")
    error = raised.value
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert "evaluate call to endorser returned error: chaincode response 500" in error.details()
    [detail] = error_details(error)
    assert detail.msp_id == "Org1MSP"
    assert detail.message.startswith("chaincode response 500")


def test_concurrent_writes_of_one_key_end_in_mvcc_read_conflict(org1: GatewayProbe) -> None:
    beat = name()
    proposals = [org1.propose("health:Beat", beat) for _ in range(2)]
    envelopes = [org1.sign_envelope(org1.endorse(p)) for p in proposals]
    for proposed, envelope in zip(proposals, envelopes, strict=True):
        org1.submit_envelope(proposed.txid, envelope)
    codes = sorted(org1.commit_status(p.txid)[0] for p in proposals)
    assert codes == [VALID, transaction_pb2.MVCC_READ_CONFLICT]
    assert org1.submit("health:Beat", beat).result == b"2"


def test_one_organisation_does_not_satisfy_the_majority_policy(org1: GatewayProbe) -> None:
    beat = name()
    alone = org1.submit("health:Beat", beat, orgs=["Org1MSP"])
    assert alone.code_name == "ENDORSEMENT_POLICY_FAILURE"
    chosen = org1.submit("health:Beat", beat, orgs=["Org2MSP", "Org3MSP"])
    assert (chosen.code_name, chosen.result) == ("VALID", b"1")


# A peer's checks on requests.


def _refused(call: Callable[..., object], *args: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(*args)
    return raised.value


def _evaluate_request(
    probe: GatewayProbe, signed: proposal_pb2.SignedProposal, txid: str
) -> object:
    return gateway_pb2.EvaluateRequest(
        transaction_id=txid, channel_id=probe.channel, proposed_transaction=signed
    )


def test_a_tampered_proposal_signature_is_refused(org1: GatewayProbe) -> None:
    proposed = org1.propose("health:Version")
    signature = bytearray(proposed.signed.signature)
    signature[-1] ^= 0x01
    proposed.signed.signature = bytes(signature)
    error = _refused(org1.stub.Evaluate, _evaluate_request(org1, proposed.signed, proposed.txid))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "access denied: channel [fedledger] creator org [Org1MSP]" in error.details()
    assert "signature over the proposal is not valid" in error.details()


def test_a_high_s_signature_is_refused(org1: GatewayProbe) -> None:
    proposed = org1.propose("health:Version")
    r, s = decode_dss_signature(proposed.signed.signature)
    proposed.signed.signature = encode_dss_signature(r, P256_ORDER - s)
    error = _refused(org1.stub.Evaluate, _evaluate_request(org1, proposed.signed, proposed.txid))
    assert "must be smaller than half the order" in error.details()


def test_a_certificate_from_an_unknown_ca_is_refused(
    embedded: EmbeddedLedger, org1: GatewayProbe, tmp_path: Path
) -> None:
    # Same organisation name, same MSP ID, same CA subject: only the CA's key differs.
    member = MemberOrg("Org1", "Org1MSP", "org1.fedledger.local")
    generate_material(tmp_path, [member], OrdererOrg("Orderer", "OrdererMSP", "orderer.local"))
    impostor = SigningIdentity.from_msp_folder(
        OrgLayout.under(tmp_path, member.domain).client.msp, "Org1MSP"
    )
    proposed = build_proposal(impostor, org1.channel, org1.chaincode, ["health:Version"])
    error = _refused(org1.stub.Evaluate, _evaluate_request(org1, proposed.signed, proposed.txid))
    # Fabric's words and code: the reason stays in the peer's log, not in the answer.
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == (
        "evaluate call to endorser returned error: error validating proposal: access denied: "
        "channel [fedledger] creator org unknown, creator is malformed"
    )
    reason = "does not verify against Org1MSP's CA (unknown or forged issuer)"
    wait_for(
        lambda: reason in embedded.paths.server_log.read_text(),
        "the ledger's log to give the reason",
        timeout=10,
    )


def test_a_transaction_id_not_derived_from_nonce_and_creator_is_refused(
    org1: GatewayProbe,
) -> None:
    proposed = org1.propose("health:Version")
    proposal = proposal_pb2.Proposal.FromString(proposed.signed.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    channel_header.tx_id = "0" * 64
    header.channel_header = channel_header.SerializeToString()
    proposal.header = header.SerializeToString()
    signed = proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString())
    signed.signature = org1.client.sign(signed.proposal_bytes)
    error = _refused(org1.stub.Evaluate, _evaluate_request(org1, signed, "0" * 64))
    assert "incorrectly computed txid" in error.details()


def test_a_replayed_transaction_is_refused_and_committed_once(org1: GatewayProbe) -> None:
    beat = name()
    proposed = org1.propose("health:Beat", beat)
    envelope = org1.sign_envelope(org1.endorse(proposed))
    org1.submit_envelope(proposed.txid, envelope)
    assert org1.commit_status(proposed.txid)[0] == VALID
    error = _refused(org1.endorse, proposed)
    # Fabric's Gateway: Endorse reports each refusing peer in the details, under ABORTED.
    code, message, details = decode_rpc_error(error)
    assert (code, message) == (
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
    )
    assert [d.message.split(". Creator")[0] for d in details] == [
        f"duplicate transaction found [{proposed.txid}]"
    ]
    # The same envelope again reaches a block but changes nothing.
    height = org1.block_height()
    org1.submit_envelope(proposed.txid, envelope)
    org1.submit("health:Beat", name())  # a later commit: the replay's block is committed too
    assert org1.block_height() > height
    assert org1.commit_status(proposed.txid)[0] == VALID
    assert org1.submit("health:Beat", beat).result == b"2"


def test_an_envelope_whose_payload_differs_from_the_endorsed_one_is_invalid(
    org1: GatewayProbe,
) -> None:
    beat, other = name(), name()
    proposed = org1.propose("health:Beat", beat)
    envelope = org1.endorse(proposed)
    # Swap in the proposal payload of another call, keeping the endorsements.
    substitute = proposal_pb2.Proposal.FromString(
        org1.propose("health:Beat", other).signed.proposal_bytes
    )
    payload = common_pb2.Payload.FromString(envelope.payload)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
        transaction.actions[0].payload
    )
    action_payload.chaincode_proposal_payload = substitute.payload
    transaction.actions[0].payload = action_payload.SerializeToString()
    payload.data = transaction.SerializeToString()
    envelope.payload = payload.SerializeToString()
    org1.submit_envelope(proposed.txid, org1.sign_envelope(envelope))
    code, _ = org1.commit_status(proposed.txid)
    assert transaction_pb2.TxValidationCode.Name(code) == "INVALID_ENDORSER_TRANSACTION"
    assert org1.submit("health:Beat", other).result == b"1"
    assert org1.submit("health:Beat", beat).result == b"1"


def test_an_envelope_with_a_tampered_signature_is_refused_by_the_orderer(
    org1: GatewayProbe,
) -> None:
    proposed = org1.propose("health:Beat", name())
    envelope = org1.sign_envelope(org1.endorse(proposed))
    signature = bytearray(envelope.signature)
    signature[-1] ^= 0x01
    envelope.signature = bytes(signature)
    error = _refused(org1.submit_envelope, proposed.txid, envelope)
    assert error.code() == grpc.StatusCode.ABORTED
    assert error.details() == "received unsuccessful response from orderer: FORBIDDEN"
    [detail] = error_details(error)
    assert "signature over the envelope is not valid" in detail.message


def test_an_unknown_chaincode_is_refused(org1: GatewayProbe) -> None:
    proposed = build_proposal(org1.client, org1.channel, "nosuchcc", ["Anything"])
    error = _refused(org1.stub.Evaluate, _evaluate_request(org1, proposed.signed, proposed.txid))
    assert "chaincode definition for 'nosuchcc' not found" in error.details()


def test_verify_passes_on_a_running_ledger(embedded: EmbeddedLedger, org1: GatewayProbe) -> None:
    org1.submit("health:Beat", name())
    report = verify_ledger(embedded.run_dir)
    assert report.ok, report.summary()
    assert report.blocks >= 2
