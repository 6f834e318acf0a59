"""The probe's proposals are the client's, signed; its calls raise what the ledger sent."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2

from fedledger.embedded.probe import build_proposal, rpc_errors
from fedledger.fabric import EvaluateError, FabricError, Identity, SigningIdentity
from fedledger.fabric.crypto import transaction_id
from fedledger.orgs.ca import CertificateAuthority

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def signer() -> SigningIdentity:
    ca = CertificateAuthority.create("ca.org1.example.com", "org1.example.com", NOW)
    user = ca.issue_signing("User1@org1.example.com", "client", NOW)
    return SigningIdentity(Identity("Org1MSP", user.cert_pem), user.private_key)


class FakeRpcError(grpc.RpcError):  # type: ignore[misc]
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection refused"


def test_a_proposal_carries_function_args_and_transient_and_is_signed(
    signer: SigningIdentity,
) -> None:
    nonce = bytes(24)
    proposed = build_proposal(
        signer, "fedledger", "cc", ["health:Beat", b"alice"], nonce=nonce, transient={"k": b"v"}
    )

    assert proposed.txid == transaction_id(nonce, signer.creator)
    proposal = proposal_pb2.Proposal.FromString(proposed.signed.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    assert (channel_header.channel_id, channel_header.tx_id) == ("fedledger", proposed.txid)
    assert (signature_header.creator, signature_header.nonce) == (signer.creator, nonce)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    invocation = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input)
    assert list(invocation.chaincode_spec.input.args) == [b"health:Beat", b"alice"]
    assert dict(payload.TransientMap) == {"k": b"v"}
    public_key = signer.identity.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        proposed.signed.signature, proposed.signed.proposal_bytes, ec.ECDSA(hashes.SHA256())
    )


def test_a_client_error_is_raised_as_the_grpc_error_the_ledger_sent() -> None:
    sent = FakeRpcError()
    with pytest.raises(FakeRpcError) as raised, rpc_errors():
        raise EvaluateError.from_rpc_error(sent, "tx1") from sent
    assert raised.value is sent


def test_an_error_without_a_grpc_cause_is_left_alone() -> None:
    with pytest.raises(FabricError, match="no channel"), rpc_errors():
        raise FabricError("no channel")
