"""Transaction ids and proposal construction, decoded back with the official bindings."""

from __future__ import annotations

import hashlib

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf import timestamp_pb2

from fedledger.fabric.proposal import (
    NONCE_LENGTH,
    ProposalSpec,
    TransactionContext,
    build_proposal,
)

CREATOR = b"\n\x07Org1MSP\x12\x0b-----PEM---"
NONCE = bytes(range(NONCE_LENGTH))
TIMESTAMP = timestamp_pb2.Timestamp(seconds=1_767_225_600, nanos=123_000_000)


def test_new_context_draws_a_fresh_24_byte_nonce() -> None:
    first, second = TransactionContext.new(CREATOR), TransactionContext.new(CREATOR)
    assert len(first.nonce) == NONCE_LENGTH == 24
    assert first.nonce != second.nonce
    assert first.transaction_id != second.transaction_id
    assert len(first.transaction_id) == 64


def test_signature_header_carries_creator_and_nonce() -> None:
    header = common_pb2.SignatureHeader.FromString(
        TransactionContext(NONCE, CREATOR).signature_header()
    )
    assert (header.creator, header.nonce) == (CREATOR, NONCE)


def _decode(spec: ProposalSpec) -> tuple[object, ...]:
    proposed = build_proposal(spec, TransactionContext(NONCE, CREATOR), TIMESTAMP)
    proposal = proposal_pb2.Proposal.FromString(proposed.proposal.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    invocation = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input)
    return proposed, channel_header, signature_header, extension, payload, invocation


def test_proposal_headers_name_channel_chaincode_transaction_and_time() -> None:
    spec = ProposalSpec("fedledger", "registry", "health:Beat", ["alice"])
    proposed, channel_header, signature_header, extension, _, _ = _decode(spec)

    expected_id = hashlib.sha256(NONCE + CREATOR).hexdigest()
    assert proposed.transaction_id == expected_id
    assert channel_header.type == common_pb2.HeaderType.ENDORSER_TRANSACTION == 3
    assert channel_header.channel_id == "fedledger"
    assert channel_header.tx_id == expected_id
    assert channel_header.epoch == 0
    assert channel_header.timestamp == TIMESTAMP
    assert extension.chaincode_id.name == "registry"
    assert (signature_header.creator, signature_header.nonce) == (CREATOR, NONCE)


def test_proposal_is_unsigned_until_sent() -> None:
    proposed, *_ = _decode(ProposalSpec("ch", "cc", "f"))
    assert proposed.proposal.signature == b""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), [b"health:Beat"]),
        (["alice"], [b"health:Beat", b"alice"]),
        (["ünïcode", b"\x00\xff"], [b"health:Beat", "ünïcode".encode(), b"\x00\xff"]),
    ],
)
def test_chaincode_input_is_the_function_name_then_the_arguments(
    args: list[str | bytes], expected: list[bytes]
) -> None:
    *_, invocation = _decode(ProposalSpec("ch", "cc", "health:Beat", args))
    assert list(invocation.chaincode_spec.input.args) == expected
    assert invocation.chaincode_spec.chaincode_id.name == "cc"


def test_transient_data_goes_in_the_payload_not_the_input() -> None:
    spec = ProposalSpec("ch", "cc", "f", ["public"], transient={"secret": b"s3cr3t"})
    *_, payload, invocation = _decode(spec)
    assert dict(payload.TransientMap) == {"secret": b"s3cr3t"}
    assert b"s3cr3t" not in payload.input
    assert list(invocation.chaincode_spec.input.args) == [b"f", b"public"]


def test_endorsing_organizations_travel_beside_the_proposal() -> None:
    spec = ProposalSpec("ch", "cc", "f", endorsing_organizations=["Org1MSP", "Org3MSP"])
    proposed, *_ = _decode(spec)
    assert list(proposed.endorsing_organizations) == ["Org1MSP", "Org3MSP"]


def test_same_inputs_give_byte_identical_proposals() -> None:
    spec = ProposalSpec("ch", "cc", "f", ["a"], transient={"k": b"v"})
    context = TransactionContext(NONCE, CREATOR)
    first = build_proposal(spec, context, TIMESTAMP).proposal.proposal_bytes
    second = build_proposal(spec, context, TIMESTAMP).proposal.proposal_bytes
    assert first == second
