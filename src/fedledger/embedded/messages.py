"""Parsing and checking Fabric's transaction messages as a peer and an orderer check them.

Fabric nests serialized messages: a SignedProposal holds Proposal bytes, which hold Header
bytes, which hold ChannelHeader and SignatureHeader bytes, and so on. Signatures and hashes are
over those exact bytes, so this code keeps them as received and never re-serializes what was
signed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import structlog
from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf.message import DecodeError, Message

from fedledger.embedded.identity import Identity, IdentityError, MemberRegistry
from fedledger.fabric.crypto import transaction_id

M = TypeVar("M", bound=Message)
log = structlog.get_logger("fedledger.embedded.messages")
CREATOR_ROLES = ("client", "admin")  # the channel's Writers: who may propose and submit


class MessageError(ValueError):
    """A message a peer or orderer refuses; the text says why, `code` how a validator marks it."""

    def __init__(self, message: str, code: int = transaction_pb2.BAD_PAYLOAD) -> None:
        super().__init__(message)
        self.code = code


def parse(message_type: type[M], data: bytes, what: str) -> M:
    """Decode `data` as `kind`; raises MessageError naming what could not be decoded."""
    message = message_type()
    try:
        message.ParseFromString(data)
    except DecodeError as error:
        raise MessageError(
            f"{what} is not a valid {message_type.DESCRIPTOR.name}: {error}"
        ) from None
    return message  # type: ignore[no-any-return]


def proposal_hash(channel_header: bytes, signature_header: bytes, payload: bytes) -> bytes:
    """What a proposal response commits to: the headers and the payload without transient data."""
    return hashlib.sha256(channel_header + signature_header + payload).digest()


@dataclass(frozen=True)
class Proposal:
    signed: proposal_pb2.SignedProposal
    header: common_pb2.Header
    channel_header: common_pb2.ChannelHeader
    signature_header: common_pb2.SignatureHeader
    payload: proposal_pb2.ChaincodeProposalPayload
    spec: chaincode_pb2.ChaincodeSpec
    creator: Identity

    @property
    def txid(self) -> str:
        return self.channel_header.tx_id  # type: ignore[no-any-return]

    @property
    def channel(self) -> str:
        return self.channel_header.channel_id  # type: ignore[no-any-return]

    @property
    def chaincode(self) -> str:
        return self.spec.chaincode_id.name  # type: ignore[no-any-return]

    @cached_property
    def input(self) -> bytes:
        return self.spec.input.SerializeToString()  # type: ignore[no-any-return]

    @cached_property
    def payload_without_transient(self) -> bytes:
        return proposal_pb2.ChaincodeProposalPayload(  # type: ignore[no-any-return]
            input=self.payload.input
        ).SerializeToString()

    @cached_property
    def hash(self) -> bytes:
        return proposal_hash(
            self.header.channel_header, self.header.signature_header, self.payload_without_transient
        )


def check_proposal(signed: proposal_pb2.SignedProposal, members: MemberRegistry) -> Proposal:
    """The checks of Fabric's ValidateProposalMessage, with the specific reason on failure.

    Raises MessageError.
    """
    if not signed.proposal_bytes:
        raise MessageError("a signed proposal is required")
    proposal = parse(proposal_pb2.Proposal, signed.proposal_bytes, "the proposal")
    header = parse(common_pb2.Header, proposal.header, "the proposal header")
    channel_header = parse(common_pb2.ChannelHeader, header.channel_header, "the channel header")
    signature_header = parse(
        common_pb2.SignatureHeader, header.signature_header, "the signature header"
    )
    if channel_header.type != common_pb2.ENDORSER_TRANSACTION:
        raise MessageError(
            f"invalid header type {common_pb2.HeaderType.Name(channel_header.type)}: "
            "proposals must be ENDORSER_TRANSACTION"
        )
    if not signature_header.nonce:
        raise MessageError("invalid nonce specified in the header")
    if not signature_header.creator:
        raise MessageError("invalid creator specified in the header")
    creator = _proposal_creator(
        signed, signature_header.creator, channel_header.channel_id, members
    )
    expected = transaction_id(signature_header.nonce, signature_header.creator)
    if channel_header.tx_id != expected:
        raise MessageError(
            f"incorrectly computed txid '{channel_header.tx_id}' -- expected '{expected}'"
        )
    payload = parse(proposal_pb2.ChaincodeProposalPayload, proposal.payload, "the proposal payload")
    invocation = parse(
        chaincode_pb2.ChaincodeInvocationSpec, payload.input, "the chaincode invocation"
    )
    if not invocation.chaincode_spec.chaincode_id.name:
        raise MessageError(
            f"no chaincode name is provided, channel id [{channel_header.channel_id}]"
        )
    return Proposal(
        signed,
        header,
        channel_header,
        signature_header,
        payload,
        invocation.chaincode_spec,
        creator,
    )


def _proposal_creator(
    signed: proposal_pb2.SignedProposal, serialized: bytes, channel: str, members: MemberRegistry
) -> Identity:
    """Fabric's wording ("access denied: channel [c] creator org [m]"), then the reason."""
    try:
        creator = members.deserialize(serialized)
    except IdentityError as error:
        if error.unknown_org:
            # Fabric answers a creator it cannot deserialize with this sentence alone and keeps
            # the reason in the peer's log: a stranger learns nothing about the channel's MSPs.
            log.warning("access denied", channel=channel, error=str(error))
            raise MessageError(
                f"access denied: channel [{channel}] creator org unknown, creator is malformed"
            ) from None
        msp_id = _msp_id(serialized)
        raise MessageError(
            f"access denied: channel [{channel}] creator org [{msp_id}]: {error}"
        ) from None
    denied = f"access denied: channel [{channel}] creator org [{creator.msp_id}]"
    if creator.role not in CREATOR_ROLES:
        raise MessageError(
            f"{denied}: the proposal was created by a {creator.role}; the channel's writers "
            f"are its organisations' {' and '.join(CREATOR_ROLES)}s"
        )
    try:
        creator.verify(signed.proposal_bytes, signed.signature)
    except IdentityError as error:
        raise MessageError(
            f"{denied}: the creator's signature over the proposal is not valid: {error}"
        ) from None
    return creator


def _msp_id(serialized: bytes) -> str:
    identity = identities_pb2.SerializedIdentity()
    identity.ParseFromString(serialized)
    return identity.mspid  # type: ignore[no-any-return]


def _creator(serialized: bytes, members: MemberRegistry, what: str) -> Identity:
    try:
        creator = members.deserialize(serialized)
    except IdentityError as error:
        raise MessageError(f"access denied: {error}") from None
    if creator.role not in CREATOR_ROLES:
        raise MessageError(
            f"access denied: {what} was created by a {creator.role} of {creator.msp_id}; "
            f"the channel's writers are its organisations' {' and '.join(CREATOR_ROLES)}s"
        )
    return creator


@dataclass(frozen=True)
class Transaction:
    """An endorser transaction envelope, parsed down to its endorsed action."""

    envelope: common_pb2.Envelope
    header: common_pb2.Header
    channel_header: common_pb2.ChannelHeader
    signature_header: common_pb2.SignatureHeader
    creator: Identity

    @property
    def txid(self) -> str:
        return self.channel_header.tx_id  # type: ignore[no-any-return]


def check_envelope(
    envelope: common_pb2.Envelope, channel: str, members: MemberRegistry
) -> Transaction:
    """The orderer's checks on a broadcast envelope: well formed, for this channel, signed by a
    writer of the channel.

    Raises MessageError carrying the validation code a peer would record.
    """
    if not envelope.payload:
        raise MessageError("the envelope has no payload")
    payload = parse(common_pb2.Payload, envelope.payload, "the envelope payload")
    header = payload.header
    channel_header = parse(common_pb2.ChannelHeader, header.channel_header, "the channel header")
    signature_header = parse(
        common_pb2.SignatureHeader, header.signature_header, "the signature header"
    )
    if channel_header.type != common_pb2.ENDORSER_TRANSACTION:
        raise MessageError(
            f"header type {common_pb2.HeaderType.Name(channel_header.type)} is not accepted: "
            "only ENDORSER_TRANSACTION",
            transaction_pb2.UNKNOWN_TX_TYPE,
        )
    if channel_header.channel_id != channel:
        raise MessageError(
            f"channel '{channel_header.channel_id}' not found",
            transaction_pb2.TARGET_CHAIN_NOT_FOUND,
        )
    try:
        creator = _creator(signature_header.creator, members, "the envelope")
        creator.verify(envelope.payload, envelope.signature)
    except MessageError as error:
        raise MessageError(str(error), transaction_pb2.BAD_CREATOR_SIGNATURE) from None
    except IdentityError as error:
        raise MessageError(
            f"access denied: the creator's signature over the envelope is not valid: {error}",
            transaction_pb2.BAD_CREATOR_SIGNATURE,
        ) from None
    return Transaction(envelope, header, channel_header, signature_header, creator)


@dataclass(frozen=True)
class EndorsedAction:
    proposal_hash_ok: bool
    response_payload: bytes  # ProposalResponsePayload bytes, as the endorsers signed them
    endorsements: list[proposal_response_pb2.Endorsement]
    action: proposal_pb2.ChaincodeAction


def endorsed_action(transaction: Transaction, payload_data: bytes) -> EndorsedAction:
    """The one action of an endorsed transaction; raises MessageError unless there is one."""
    tx = parse(transaction_pb2.Transaction, payload_data, "the transaction")
    if len(tx.actions) != 1:
        raise MessageError(f"a transaction must hold exactly one action, found {len(tx.actions)}")
    action = tx.actions[0]
    action_payload = parse(
        transaction_pb2.ChaincodeActionPayload, action.payload, "the chaincode action payload"
    )
    endorsed = action_payload.action
    response_payload = parse(
        proposal_response_pb2.ProposalResponsePayload,
        endorsed.proposal_response_payload,
        "the proposal response payload",
    )
    chaincode_action = parse(
        proposal_pb2.ChaincodeAction, response_payload.extension, "the chaincode action"
    )
    expected = proposal_hash(
        transaction.header.channel_header,
        action.header,
        action_payload.chaincode_proposal_payload,
    )
    same_creator = action.header == transaction.header.signature_header
    return EndorsedAction(
        proposal_hash_ok=same_creator and expected == response_payload.proposal_hash,
        response_payload=endorsed.proposal_response_payload,
        endorsements=list(endorsed.endorsements),
        action=chaincode_action,
    )


def chaincode_action(envelope: common_pb2.Envelope) -> proposal_pb2.ChaincodeAction:
    """The endorsed chaincode action (response, read/write set, event) of a transaction."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
        transaction.actions[0].payload
    )
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    return proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
