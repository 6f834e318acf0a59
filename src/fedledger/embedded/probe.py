"""The Gateway client with nothing hidden: what the launcher needs to know the ledger answers,
and what the embedded ledger's own tests and benchmark use to drive it message by message.

It is `fedledger.fabric` wherever that can serve: the connection (`open_channel`, TLS as the
profile says), the signer (`SigningIdentity`), the proposal (`build_proposal`), and `evaluate`,
`submit`, `block_height` and `commit_status` through a `Gateway` on the probe's channel. What
stays low-level, and why:

- Every call raises the `grpc.RpcError` the ledger sent, not the client's `EvaluateError` and
  kin: the tests of a peer's checks assert the status code, the message and the `ErrorDetail`s
  in the trailing metadata as Fabric sends them, and the launcher reports the status it got
  while it waits for the ledger to answer.
- `propose`, `endorse`, `sign_envelope` and `submit_envelope` hand over the messages themselves
  (`stub` is the Gateway service on the same connection), so a test can send what the client
  never would: a tampered or high-S signature, a replayed transaction id, an envelope submitted
  twice, one proposal endorsed by two ledgers (tests/integration/test_embedded_equivalence.py).
- `events` is bounded by a deadline so that a test fails rather than hangs; the client's event
  stream has none, and reconnects by itself, which would hide a ledger that dropped it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import chaincode_event_pb2, proposal_pb2, transaction_pb2

from fedledger.fabric import Gateway, GatewayError, Network, SigningIdentity, Timeouts
from fedledger.fabric.client import GatewayClient
from fedledger.fabric.connect import tls_of
from fedledger.fabric.contract import now
from fedledger.fabric.gateway import open_channel
from fedledger.fabric.proposal import Argument, ProposalSpec, TransactionContext
from fedledger.fabric.proposal import build_proposal as build_proposed_transaction
from fedledger.fabric.transaction import Commit
from fedledger.profile import ConnectionProfile

# Longer than the client's defaults: the fault tests submit while the ledger is under load.
PROBE_TIMEOUTS = Timeouts(evaluate=30.0, endorse=30.0, submit=30.0, commit_status=60.0)


@dataclass(frozen=True)
class Proposed:
    txid: str
    signed: proposal_pb2.SignedProposal


def build_proposal(
    client: SigningIdentity,
    channel: str,
    chaincode: str,
    args: Sequence[Argument],
    *,
    nonce: bytes | None = None,
    transient: dict[str, bytes] | None = None,
) -> Proposed:
    """A proposal of `args` (function name first), signed by `client`, as the client builds it."""
    function, *rest = args
    spec = ProposalSpec(
        channel=channel,
        chaincode=chaincode,
        function=_text(function),
        args=rest,
        transient=transient,
    )
    context = TransactionContext.new(client.creator, nonce)
    signed = build_proposed_transaction(spec, context, now()).proposal
    signed.signature = client.sign(signed.proposal_bytes)
    return Proposed(context.transaction_id, signed)


@dataclass(frozen=True)
class Committed:
    txid: str
    result: bytes
    code: int
    block: int

    @property
    def code_name(self) -> str:
        return transaction_pb2.TxValidationCode.Name(self.code)  # type: ignore[no-any-return]


@contextmanager
def rpc_errors() -> Iterator[None]:
    """Re-raise the client's errors as the `grpc.RpcError` the ledger sent."""
    try:
        yield
    except GatewayError as error:
        if isinstance(error.__cause__, grpc.RpcError):
            raise error.__cause__ from None
        raise


class GatewayProbe:
    """One client identity talking to one organisation's Gateway endpoint."""

    def __init__(
        self, channel: grpc.Channel, client: SigningIdentity, channel_name: str, chaincode: str
    ) -> None:
        self._channel = channel
        self.stub = gateway_pb2_grpc.GatewayStub(channel)
        self.client = client
        self.channel = channel_name
        self.chaincode = chaincode

    @classmethod
    def from_profile(
        cls, profile: ConnectionProfile, msp_id: str, identity: str = "user"
    ) -> GatewayProbe:
        org = profile.org(msp_id)
        return cls(
            open_channel(org.gateway.endpoint, tls_of(org)),
            SigningIdentity.from_msp_folder(org.identity(identity), msp_id),
            profile.channel,
            profile.chaincode,
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> GatewayProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def network(self, timeouts: Timeouts = PROBE_TIMEOUTS) -> Network:
        """The channel through the real client, on the probe's connection and identity."""
        return Gateway(self._channel, self.client, timeouts).network(self.channel)

    def propose(self, *args: Argument, **kwargs: object) -> Proposed:
        return build_proposal(self.client, self.channel, self.chaincode, args, **kwargs)  # type: ignore[arg-type]

    def evaluate(self, *args: Argument, timeout: float = PROBE_TIMEOUTS.evaluate) -> bytes:
        function, *rest = args
        contract = self.network(Timeouts(evaluate=timeout)).contract(self.chaincode)
        with rpc_errors():
            return contract.evaluate(_text(function), rest)

    def block_height(self) -> int:
        with rpc_errors():
            return self.network().block_height()

    def submit(self, *args: Argument, orgs: Sequence[str] = ()) -> Committed:
        """Endorse, submit and wait for the commit; the validation code, valid or not."""
        function, *rest = args
        contract = self.network().contract(self.chaincode)
        with rpc_errors():
            commit = contract.submit_async(_text(function), rest, endorsing_organizations=orgs)
            status = commit.status()
        return Committed(commit.transaction_id, commit.result, status.code, status.block_number)

    def endorse(
        self, proposed: Proposed, orgs: Sequence[str] = (), timeout: float = PROBE_TIMEOUTS.endorse
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
        self, txid: str, envelope: common_pb2.Envelope, timeout: float = PROBE_TIMEOUTS.submit
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

    def commit_status(
        self, txid: str, timeout: float = PROBE_TIMEOUTS.commit_status
    ) -> tuple[int, int]:
        """The validation code and block of a submitted transaction, once committed."""
        client = GatewayClient(self._channel, Timeouts(commit_status=timeout))
        with rpc_errors():
            status = Commit(client, self.client, self.channel, txid, b"").status()
        return status.code, status.block_number

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


def _text(function: Argument) -> str:
    return function if isinstance(function, str) else function.decode()
