"""Building a transaction proposal: the bytes an endorsing peer executes and signs.

A proposal is `peer.Proposal{header, payload}`:
- header: `common.Header{channel_header, signature_header}`; the channel header names the
  channel, the chaincode (in its extension), the transaction id and the creation time; the
  signature header holds the creator and the nonce the transaction id was derived from.
- payload: `peer.ChaincodeProposalPayload{input, transient_map}`, where input is a
  `ChaincodeInvocationSpec` whose arguments are the function name followed by its arguments.
  Transient data goes to the endorsers but, unlike the input, is not written to the ledger.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf import timestamp_pb2

from fedledger.fabric.crypto import transaction_id

NONCE_LENGTH = 24

Argument = str | bytes


@dataclass(frozen=True)
class TransactionContext:
    """The nonce, creator and transaction id of one transaction.

    The transaction id is hex(SHA-256(nonce || creator)) (`fedledger.fabric.crypto`): peers
    recompute it from the signature header, so the nonce and creator sent must be these.
    """

    nonce: bytes
    creator: bytes

    @property
    def transaction_id(self) -> str:
        return transaction_id(self.nonce, self.creator)

    @classmethod
    def new(cls, creator: bytes, nonce: bytes | None = None) -> TransactionContext:
        return cls(os.urandom(NONCE_LENGTH) if nonce is None else nonce, creator)

    def signature_header(self) -> bytes:
        return bytes(
            common_pb2.SignatureHeader(creator=self.creator, nonce=self.nonce).SerializeToString()
        )


def as_bytes(argument: Argument) -> bytes:
    return argument.encode() if isinstance(argument, str) else argument


@dataclass(frozen=True)
class ProposalSpec:
    """What to invoke: channel, chaincode, function name, arguments and transient data."""

    channel: str
    chaincode: str
    function: str
    args: Sequence[Argument] = ()
    transient: Mapping[str, bytes] | None = None
    endorsing_organizations: Sequence[str] = ()


def build_proposal(
    spec: ProposalSpec, context: TransactionContext, timestamp: timestamp_pb2.Timestamp
) -> gateway_pb2.ProposedTransaction:
    """An unsigned proposal wrapped with its transaction id and endorsing organisations."""
    proposal = proposal_pb2.Proposal(
        header=_header(spec, context, timestamp),
        payload=_chaincode_proposal_payload(spec),
    )
    return gateway_pb2.ProposedTransaction(
        transaction_id=context.transaction_id,
        proposal=proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString()),
        endorsing_organizations=list(spec.endorsing_organizations),
    )


def _header(
    spec: ProposalSpec, context: TransactionContext, timestamp: timestamp_pb2.Timestamp
) -> bytes:
    extension = proposal_pb2.ChaincodeHeaderExtension(
        chaincode_id=chaincode_pb2.ChaincodeID(name=spec.chaincode)
    )
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.ENDORSER_TRANSACTION,
        timestamp=timestamp,
        channel_id=spec.channel,
        tx_id=context.transaction_id,
        epoch=0,
        extension=extension.SerializeToString(),
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=context.signature_header(),
    )
    return bytes(header.SerializeToString())


def _chaincode_proposal_payload(spec: ProposalSpec) -> bytes:
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_pb2.ChaincodeID(name=spec.chaincode),
            input=chaincode_pb2.ChaincodeInput(
                args=[spec.function.encode(), *(as_bytes(a) for a in spec.args)]
            ),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=invocation.SerializeToString(), TransientMap=dict(spec.transient or {})
    )
    return bytes(payload.SerializeToString())
