"""Network (a channel) and Contract (a chaincode, optionally one named contract inside it)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from fabric_protos.common import ledger_pb2
from google.protobuf import timestamp_pb2

from fedledger.fabric.checkpoint import Checkpoint, FileCheckpointer
from fedledger.fabric.client import LedgerClient
from fedledger.fabric.errors import EvaluateError
from fedledger.fabric.events import Backoff, ChaincodeEventStream
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.proposal import (
    Argument,
    ProposalSpec,
    TransactionContext,
    build_proposal,
)
from fedledger.fabric.transaction import Commit, Proposal

log = logging.getLogger(__name__)

Clock = Callable[[], timestamp_pb2.Timestamp]


def now() -> timestamp_pb2.Timestamp:
    timestamp = timestamp_pb2.Timestamp()
    timestamp.GetCurrentTime()
    return timestamp


class Contract:
    """Transactions of one chaincode on one channel. Thread-safe."""

    def __init__(
        self,
        client: LedgerClient,
        signer: SigningIdentity,
        channel: str,
        chaincode: str,
        contract_name: str | None = None,
        clock: Clock = now,
    ) -> None:
        self._client = client
        self._signer = signer
        self.channel = channel
        self.chaincode = chaincode
        self.contract_name = contract_name
        self._clock = clock

    def qualified(self, function: str) -> str:
        """`contract:function` as fabric-contract-api routes it, or `function` alone."""
        return f"{self.contract_name}:{function}" if self.contract_name else function

    def new_proposal(
        self,
        function: str,
        args: Sequence[Argument] = (),
        *,
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] = (),
    ) -> Proposal:
        spec = ProposalSpec(
            channel=self.channel,
            chaincode=self.chaincode,
            function=self.qualified(function),
            args=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
        context = TransactionContext.new(self._signer.creator)
        proposed = build_proposal(spec, context, self._clock())
        return Proposal(self._client, self._signer, self.channel, proposed)

    def evaluate(
        self,
        function: str,
        args: Sequence[Argument] = (),
        *,
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] = (),
    ) -> bytes:
        """Run a query on a peer (of `endorsing_organizations`, if given); nothing is ordered.

        Raises EvaluateError (the chaincode's message is in its details).
        """
        proposal = self.new_proposal(
            function, args, transient=transient, endorsing_organizations=endorsing_organizations
        )
        return proposal.evaluate()

    def submit_async(
        self,
        function: str,
        args: Sequence[Argument] = (),
        *,
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] = (),
    ) -> Commit:
        """Endorse and submit; return as soon as the orderer has accepted the transaction.

        The returned Commit holds the result and waits for the commit on `status()` or `wait()`,
        so many transactions can be in flight at once. Raises EndorseError or SubmitError.
        """
        proposal = self.new_proposal(
            function, args, transient=transient, endorsing_organizations=endorsing_organizations
        )
        return proposal.endorse().submit()

    def submit(
        self,
        function: str,
        args: Sequence[Argument] = (),
        *,
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] = (),
    ) -> bytes:
        """Endorse, submit, wait for the commit and return the result.

        Raises EndorseError, SubmitError, CommitStatusError, or CommitError when the ledger
        marks the transaction invalid (e.g. MVCC_READ_CONFLICT).
        """
        commit = self.submit_async(
            function, args, transient=transient, endorsing_organizations=endorsing_organizations
        )
        return commit.wait()


class Network:
    """One channel as seen through the gateway."""

    def __init__(
        self, client: LedgerClient, signer: SigningIdentity, name: str, clock: Clock = now
    ) -> None:
        self._client = client
        self._signer = signer
        self.name = name
        self._clock = clock

    def contract(self, chaincode: str, contract_name: str | None = None) -> Contract:
        return Contract(
            self._client, self._signer, self.name, chaincode, contract_name, clock=self._clock
        )

    def block_height(self) -> int:
        """Number of blocks on the channel, from the gateway peer's query system chaincode."""
        info = self.contract("qscc").evaluate("GetChainInfo", [self.name])
        return int(ledger_pb2.BlockchainInfo.FromString(info).height)

    def chaincode_events(
        self,
        chaincode: str,
        *,
        start_block: int | None = None,
        checkpointer: FileCheckpointer | None = None,
        backoff: Backoff | None = None,
    ) -> ChaincodeEventStream:
        """Events of `chaincode`, in ledger order.

        Starts after the checkpointer's saved position if it has one, else at `start_block`,
        else at the next block to be committed. Checkpointing stays with the caller
        (`checkpointer.checkpoint_event(event)` once an event is processed).
        """
        start: Checkpoint | None
        if checkpointer is not None and checkpointer.checkpoint is not None:
            start = checkpointer.checkpoint
        elif start_block is not None:
            start = Checkpoint(start_block)
        else:
            start = self._next_commit()
        return ChaincodeEventStream(
            self._client, self._signer, self.name, chaincode, start, backoff=backoff
        )

    def _next_commit(self) -> Checkpoint | None:
        try:
            return Checkpoint(self.block_height())
        except EvaluateError as error:
            # Without a pinned block a reconnect resumes at the next commit, and the events of
            # blocks committed while disconnected before the first event are not delivered.
            log.warning(
                "cannot read the height of channel %s (%s): events start at the next commit "
                "and a reconnection before the first event may miss events",
                self.name,
                error,
            )
            return None
