"""The life of one transaction: signed proposal → endorsed transaction → submitted commit.

Each object signs what it sends once: proposal and envelope on first use, the commit-status
request when the commit handle is made. Signatures cover SHA-256 of the exact bytes sent
(`digest()`), never a re-serialisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from fedledger.fabric.client import LedgerClient
from fedledger.fabric.crypto import sha256
from fedledger.fabric.errors import CommitError
from fedledger.fabric.identity import SigningIdentity


class Proposal:
    """A transaction proposal, ready to be evaluated or endorsed."""

    def __init__(
        self,
        client: LedgerClient,
        signer: SigningIdentity,
        channel: str,
        proposed: gateway_pb2.ProposedTransaction,
    ) -> None:
        self._client = client
        self._signer = signer
        self.channel = channel
        self._proposed = proposed

    @property
    def transaction_id(self) -> str:
        return str(self._proposed.transaction_id)

    @property
    def proposed_transaction(self) -> gateway_pb2.ProposedTransaction:
        return self._proposed

    def digest(self) -> bytes:
        return sha256(self._proposed.proposal.proposal_bytes)

    def _signed(self) -> gateway_pb2.ProposedTransaction:
        if not self._proposed.proposal.signature:
            self._proposed.proposal.signature = self._signer.sign_digest(self.digest())
        return self._proposed

    def evaluate(self) -> bytes:
        """Run the transaction on one peer without ordering it; return its result."""
        proposed = self._signed()
        response = self._client.evaluate(
            gateway_pb2.EvaluateRequest(
                transaction_id=proposed.transaction_id,
                channel_id=self.channel,
                proposed_transaction=proposed.proposal,
                target_organizations=proposed.endorsing_organizations,
            )
        )
        return bytes(response.result.payload)

    def endorse(self) -> Transaction:
        """Collect the endorsements the chaincode's policy needs (the Gateway picks the peers)."""
        proposed = self._signed()
        response = self._client.endorse(
            gateway_pb2.EndorseRequest(
                transaction_id=proposed.transaction_id,
                channel_id=self.channel,
                proposed_transaction=proposed.proposal,
                endorsing_organizations=proposed.endorsing_organizations,
            )
        )
        return Transaction(
            self._client, self._signer, self.transaction_id, response.prepared_transaction
        )


class Transaction:
    """An endorsed transaction: its result is known, it is not yet ordered."""

    def __init__(
        self,
        client: LedgerClient,
        signer: SigningIdentity,
        transaction_id: str,
        envelope: common_pb2.Envelope,
    ) -> None:
        self._client = client
        self._signer = signer
        self.transaction_id = transaction_id
        self._envelope = envelope
        self.channel, self.result = parse_envelope(envelope)

    def digest(self) -> bytes:
        return sha256(self._envelope.payload)

    def submit(self) -> Commit:
        """Sign the envelope and hand it to the orderer; return a handle on its commit."""
        if not self._envelope.signature:
            self._envelope.signature = self._signer.sign_digest(self.digest())
        # The commit-status request is built and signed before submitting: once the transaction
        # is with the orderer, nothing local may fail between it and learning its fate.
        commit = Commit(self._client, self._signer, self.channel, self.transaction_id, self.result)
        self._client.submit(
            gateway_pb2.SubmitRequest(
                transaction_id=self.transaction_id,
                channel_id=self.channel,
                prepared_transaction=self._envelope,
            )
        )
        return commit


@dataclass(frozen=True)
class Status:
    """How the ledger validated a transaction."""

    transaction_id: str
    code: int
    block_number: int

    @property
    def successful(self) -> bool:
        return bool(self.code == transaction_pb2.TxValidationCode.VALID)

    @property
    def code_name(self) -> str:
        return str(transaction_pb2.TxValidationCode.Name(self.code))


class Commit:
    """A submitted transaction; `status()` waits until the gateway peer has committed it."""

    def __init__(
        self,
        client: LedgerClient,
        signer: SigningIdentity,
        channel: str,
        transaction_id: str,
        result: bytes,
    ) -> None:
        self._client = client
        self.transaction_id = transaction_id
        self.result = result
        request = gateway_pb2.CommitStatusRequest(
            channel_id=channel, transaction_id=transaction_id, identity=signer.creator
        ).SerializeToString()
        self._request = gateway_pb2.SignedCommitStatusRequest(
            request=request, signature=signer.sign(request)
        )

    def status(self) -> Status:
        """Wait for the commit; raises CommitStatusError if the status cannot be obtained."""
        response = self._client.commit_status(self._request, self.transaction_id)
        return Status(self.transaction_id, int(response.result), int(response.block_number))

    def wait(self) -> bytes:
        """Wait for the commit and return the transaction's result; CommitError if invalid."""
        status = self.status()
        if not status.successful:
            raise CommitError(self.transaction_id, status.code, status.block_number)
        return self.result


def parse_envelope(envelope: common_pb2.Envelope) -> tuple[str, bytes]:
    """Channel name and chaincode result of an endorsed transaction envelope.

    Raises ValueError for an envelope without a chaincode action.
    """
    payload = common_pb2.Payload.FromString(envelope.payload)
    channel = common_pb2.ChannelHeader.FromString(payload.header.channel_header).channel_id
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    for action in transaction.actions:
        action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
        response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
            action_payload.action.proposal_response_payload
        )
        chaincode_action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
        return str(channel), bytes(chaincode_action.response.payload)
    raise ValueError("the endorsed transaction holds no chaincode action")
