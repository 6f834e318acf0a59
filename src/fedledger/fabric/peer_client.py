"""The Gateway's five calls made with Fabric's older services (Fabric 2.2 peers have no Gateway).

- evaluate: `Endorser/ProcessProposal` to a peer of the client's own organisation;
- endorse: `ProcessProposal` to the peers of an endorsement plan (`endorsement.py`: from the
  peer's discovery service where it answers, else from the profile), answers checked to agree,
  the transaction assembled from them;
- submit: `AtomicBroadcast/Broadcast` of the signed envelope to an orderer, the next one when
  one cannot be reached;
- commit status: a DeliverFiltered stream per channel (`commits.py`);
- chaincode events: Deliver, read as the Gateway's responses (`deliver_events.py`).

Requests and responses are the Gateway's messages and errors the Gateway's stage errors, so
`Contract`, `Network` and `ChaincodeEventStream` run unchanged over either protocol.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import grpc
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import events_pb2_grpc

from fedledger.fabric.broadcast import broadcast
from fedledger.fabric.client import Timeouts
from fedledger.fabric.commits import CommitWatcher
from fedledger.fabric.deliver_events import DeliverEvents, start_of
from fedledger.fabric.endorsement import (
    EndorsementMismatchError,
    PlanError,
    assemble,
    check_endorsements,
)
from fedledger.fabric.endorsers import Endorsers
from fedledger.fabric.errors import CommitStatusError, EndorseError, EvaluateError, SubmitError
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.nodes import Connections, Node
from fedledger.fabric.planner import Planner, chaincode_of
from fedledger.fabric.seek import seek_envelope

log = logging.getLogger(__name__)

# Peers commit each block at slightly different times: a client that submits right after its
# own peer reported a commit may find another endorser one block behind, and the two results
# differ. Asking again shortly after cures that; a mismatch that persists is reported.
MISMATCH_RETRY_SECONDS = (0.05, 0.1, 0.2, 0.4)


class PeerClient:
    """A `LedgerClient` over Endorser, Broadcast and Deliver. Thread-safe; `close()` closes every
    connection it opened."""

    def __init__(
        self,
        signer: SigningIdentity,
        local_peers: Sequence[Node],
        planner: Planner,
        orderers: Sequence[Node],
        timeouts: Timeouts | None = None,
        connections: Connections | None = None,
    ) -> None:
        if not local_peers:
            raise ValueError(f"the peer protocol needs a peer of {signer.msp_id}")
        self._signer = signer
        self._local = list(local_peers)
        self.planner = planner
        self._orderers = list(orderers)
        self.timeouts = timeouts or Timeouts()
        self._connections = connections or Connections()
        self._endorsers = Endorsers(self._connections, self.timeouts)
        self._watchers: dict[str, CommitWatcher] = {}
        self._lock = threading.Lock()
        self._event_calls = itertools.count()

    def evaluate(self, request: gateway_pb2.EvaluateRequest) -> gateway_pb2.EvaluateResponse:
        """Ask the client's own peers (or those of the target organisations) in turn; raises
        EvaluateError."""
        txid = request.transaction_id
        nodes = self._local
        if request.target_organizations:
            try:
                nodes = self.planner.peers_of(list(request.target_organizations))
            except PlanError as error:
                raise EvaluateError(txid, grpc.StatusCode.UNAVAILABLE, str(error)) from None
        result = self._endorsers.evaluate(txid, request.proposed_transaction, nodes)
        return gateway_pb2.EvaluateResponse(result=result)

    def endorse(self, request: gateway_pb2.EndorseRequest) -> gateway_pb2.EndorseResponse:
        """Endorse on the peers of the plan, again while their results differ (up to four
        times); raises EndorseError (EndorsementMismatchError when they still differ)."""
        txid = request.transaction_id
        signed = request.proposed_transaction
        try:
            plan = self.planner.plan(
                request.channel_id, chaincode_of(signed), list(request.endorsing_organizations)
            )
        except PlanError as error:
            raise EndorseError(txid, grpc.StatusCode.UNAVAILABLE, str(error)) from None
        for delay in (*MISMATCH_RETRY_SECONDS, None):
            endorsements = self._endorsers.collect(txid, signed, plan)
            try:
                check_endorsements(txid, endorsements)
                break
            except EndorsementMismatchError:
                if delay is None:
                    raise
                log.info("endorsements of %s differ; asking again in %g s", txid, delay)
                time.sleep(delay)
        return gateway_pb2.EndorseResponse(prepared_transaction=assemble(signed, endorsements))

    def submit(self, request: gateway_pb2.SubmitRequest) -> gateway_pb2.SubmitResponse:
        """Broadcast to the profile's orderers in turn until one answers; raises SubmitError."""
        txid = request.transaction_id
        watcher = self._watcher(request.channel_id)
        try:
            watcher.expect(txid, self.timeouts.submit)
        except TimeoutError as error:
            raise SubmitError(
                txid, grpc.StatusCode.UNAVAILABLE, f"cannot follow commits: {error}"
            ) from None
        try:
            broadcast(
                self._connections,
                self._orderers,
                txid,
                request.prepared_transaction,
                self.timeouts.submit,
            )
        except SubmitError:
            watcher.forget(txid)
            raise
        return gateway_pb2.SubmitResponse()

    def commit_status(
        self, request: gateway_pb2.SignedCommitStatusRequest, transaction_id: str
    ) -> gateway_pb2.CommitStatusResponse:
        """Wait for the block holding a transaction this client submitted; raises
        CommitStatusError on timeout or for a transaction it did not submit."""
        inner = gateway_pb2.CommitStatusRequest.FromString(request.request)
        with self._lock:
            watcher = self._watchers.get(inner.channel_id)
        if watcher is None:
            raise CommitStatusError(
                transaction_id,
                grpc.StatusCode.FAILED_PRECONDITION,
                "the peer protocol follows commits only of transactions this client submitted",
            )
        try:
            code, block = watcher.wait(transaction_id, self.timeouts.commit_status)
        except TimeoutError as error:
            raise CommitStatusError(
                transaction_id, grpc.StatusCode.DEADLINE_EXCEEDED, str(error)
            ) from None
        return gateway_pb2.CommitStatusResponse(result=code, block_number=block)

    def chaincode_events(self, request: gateway_pb2.SignedChaincodeEventsRequest) -> Any:
        """Deliver from one of the client's own peers, as the Gateway's responses; each call (a
        reconnection of the event stream included) takes the next of them."""
        inner = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        node = self._local[next(self._event_calls) % len(self._local)]
        start, _ = start_of(inner)
        envelope = seek_envelope(
            self._signer, inner.channel_id, start, tls_cert_hash=node.tls_cert_hash
        )
        stub = events_pb2_grpc.DeliverStub(self._connections.channel(node))
        return DeliverEvents(stub.Deliver(iter([envelope])), inner, str(node))

    def _watcher(self, channel: str) -> CommitWatcher:
        with self._lock:
            if channel not in self._watchers:
                self._watchers[channel] = CommitWatcher(
                    self._connections, self._local, self._signer, channel
                )
            return self._watchers[channel]

    def close(self) -> None:
        with self._lock:
            watchers, self._watchers = list(self._watchers.values()), {}
        for watcher in watchers:
            watcher.close()
        self._connections.close()
