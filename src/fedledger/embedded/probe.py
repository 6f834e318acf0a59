"""A minimal Gateway client: what the launcher needs to know the ledger answers, and what the
embedded ledger's own tests and benchmark use to drive it message by message.

Applications use `fedledger.fabric`; this module builds the same messages with nothing hidden,
so tests can also build the wrong ones (a tampered signature, a replayed transaction id).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    transaction_pb2,
)
from google.protobuf import timestamp_pb2

from fedledger.embedded.messages import chaincode_action
from fedledger.fabric.crypto import serialize_identity, sign_low_s, transaction_id
from fedledger.orgs import load_msp_identity
from fedledger.profile import ConnectionProfile


@dataclass(frozen=True)
class Client:
    msp_id: str
    creator: bytes  # serialized identity
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def from_msp(cls, msp_dir: Path, msp_id: str) -> Client:
        identity = load_msp_identity(msp_dir, msp_id)
        return cls(
            msp_id, serialize_identity(msp_id, identity.certificate_pem), identity.private_key
        )

    def sign(self, data: bytes) -> bytes:
        return sign_low_s(self.key, data)


@dataclass(frozen=True)
class Proposed:
    txid: str
    signed: proposal_pb2.SignedProposal


def build_proposal(
    client: Client,
    channel: str,
    chaincode: str,
    args: Sequence[str | bytes],
    *,
    nonce: bytes | None = None,
    transient: dict[str, bytes] | None = None,
) -> Proposed:
    nonce = nonce if nonce is not None else os.urandom(24)
    txid = transaction_id(nonce, client.creator)
    timestamp = timestamp_pb2.Timestamp()
    timestamp.GetCurrentTime()
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        channel_id=channel,
        tx_id=txid,
        timestamp=timestamp,
        extension=proposal_pb2.ChaincodeHeaderExtension(
            chaincode_id=chaincode_id
        ).SerializeToString(),
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=client.creator, nonce=nonce
        ).SerializeToString(),
    )
    spec = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            type=chaincode_pb2.ChaincodeSpec.NODE,
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(
                args=[a if isinstance(a, bytes) else a.encode() for a in args]
            ),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=spec.SerializeToString(), TransientMap=transient or {}
    )
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    proposal_bytes = proposal.SerializeToString()
    return Proposed(
        txid,
        proposal_pb2.SignedProposal(
            proposal_bytes=proposal_bytes, signature=client.sign(proposal_bytes)
        ),
    )


def transaction_result(envelope: common_pb2.Envelope) -> bytes:
    """The chaincode's response payload inside a prepared transaction."""
    return chaincode_action(envelope).response.payload  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Committed:
    txid: str
    result: bytes
    code: int
    block: int

    @property
    def code_name(self) -> str:
        return transaction_pb2.TxValidationCode.Name(self.code)  # type: ignore[no-any-return]


class GatewayProbe:
    """One client identity talking to one organisation's Gateway endpoint."""

    def __init__(
        self,
        endpoint: str,
        server_name: str,
        tls_ca: bytes,
        client: Client,
        channel: str,
        chaincode: str,
    ) -> None:
        credentials = grpc.ssl_channel_credentials(root_certificates=tls_ca)
        self._channel = grpc.secure_channel(
            endpoint,
            credentials,
            options=[
                ("grpc.ssl_target_name_override", server_name),
                ("grpc.max_receive_message_length", 100 * 1024 * 1024),
            ],
        )
        self.stub = gateway_pb2_grpc.GatewayStub(self._channel)
        self.client = client
        self.channel = channel
        self.chaincode = chaincode

    @classmethod
    def from_profile(
        cls, profile: ConnectionProfile, msp_id: str, identity: str = "user"
    ) -> GatewayProbe:
        org = profile.org(msp_id)
        return cls(
            org.gateway.endpoint,
            org.gateway.server_name,
            org.gateway.tls_ca_cert.read_bytes(),
            Client.from_msp(org.identity(identity), msp_id),
            profile.channel,
            profile.chaincode,
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> GatewayProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def propose(self, *args: str | bytes, **kwargs: object) -> Proposed:
        return build_proposal(self.client, self.channel, self.chaincode, args, **kwargs)  # type: ignore[arg-type]

    def evaluate(self, *args: str | bytes, timeout: float = 30.0) -> bytes:
        proposed = self.propose(*args)
        response = self.stub.Evaluate(
            gateway_pb2.EvaluateRequest(
                transaction_id=proposed.txid,
                channel_id=self.channel,
                proposed_transaction=proposed.signed,
            ),
            timeout=timeout,
        )
        return response.result.payload  # type: ignore[no-any-return]

    def endorse(
        self, proposed: Proposed, orgs: Sequence[str] = (), timeout: float = 30.0
    ) -> common_pb2.Envelope:
        response = self.stub.Endorse(
            gateway_pb2.EndorseRequest(
                transaction_id=proposed.txid,
                channel_id=self.channel,
                proposed_transaction=proposed.signed,
                endorsing_organizations=list(orgs),
            ),
            timeout=timeout,
        )
        return response.prepared_transaction

    def submit_envelope(
        self, txid: str, envelope: common_pb2.Envelope, timeout: float = 30.0
    ) -> None:
        self.stub.Submit(
            gateway_pb2.SubmitRequest(
                transaction_id=txid, channel_id=self.channel, prepared_transaction=envelope
            ),
            timeout=timeout,
        )

    def sign_envelope(self, envelope: common_pb2.Envelope) -> common_pb2.Envelope:
        envelope.signature = self.client.sign(envelope.payload)
        return envelope

    def commit_status(self, txid: str, timeout: float = 60.0) -> tuple[int, int]:
        request = gateway_pb2.CommitStatusRequest(
            transaction_id=txid, channel_id=self.channel, identity=self.client.creator
        ).SerializeToString()
        response = self.stub.CommitStatus(
            gateway_pb2.SignedCommitStatusRequest(
                request=request, signature=self.client.sign(request)
            ),
            timeout=timeout,
        )
        return response.result, response.block_number

    def submit(self, *args: str | bytes, orgs: Sequence[str] = ()) -> Committed:
        proposed = self.propose(*args)
        envelope = self.sign_envelope(self.endorse(proposed, orgs))
        self.submit_envelope(proposed.txid, envelope)
        code, block = self.commit_status(proposed.txid)
        return Committed(proposed.txid, transaction_result(envelope), code, block)

    def events(
        self, start_block: int | None = None, after_txid: str = "", timeout: float | None = None
    ) -> Iterator[tuple[int, chaincode_event_pb2.ChaincodeEvent]]:
        position = (
            ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
            if start_block is None
            else ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))
        )
        request = gateway_pb2.ChaincodeEventsRequest(
            channel_id=self.channel,
            chaincode_id=self.chaincode,
            identity=self.client.creator,
            start_position=position,
            after_transaction_id=after_txid,
        ).SerializeToString()
        stream = self.stub.ChaincodeEvents(
            gateway_pb2.SignedChaincodeEventsRequest(
                request=request, signature=self.client.sign(request)
            ),
            timeout=timeout,
        )
        for response in stream:
            for event in response.events:
                yield response.block_number, event
