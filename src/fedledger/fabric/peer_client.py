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

import logging
import threading
from collections.abc import Sequence
from typing import Any

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2_grpc
from fabric_protos.peer import events_pb2_grpc, peer_pb2_grpc

from fedledger.fabric.client import Timeouts
from fedledger.fabric.commits import CommitWatcher
from fedledger.fabric.deliver_events import DeliverEvents, start_of
from fedledger.fabric.endorsement import (
    Endorsement,
    Plan,
    PlanError,
    assemble,
    check_endorsements,
)
from fedledger.fabric.errors import (
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    SubmitError,
)
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.nodes import Connections, Node
from fedledger.fabric.planner import Planner
from fedledger.fabric.seek import seek_envelope

log = logging.getLogger(__name__)

EVALUATE_REFUSED = "evaluate call to endorser returned error"


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
        self._planner = planner
        self._orderers = list(orderers)
        self.timeouts = timeouts or Timeouts()
        self._connections = connections or Connections()
        self._watchers: dict[str, CommitWatcher] = {}
        self._lock = threading.Lock()

    def _process(self, node: Node, signed: Any, timeout: float, patient: bool = False) -> Any:
        stub = peer_pb2_grpc.EndorserStub(self._connections.channel(node))
        return stub.ProcessProposal.future(signed, timeout=timeout, wait_for_ready=patient)

    def evaluate(self, request: gateway_pb2.EvaluateRequest) -> gateway_pb2.EvaluateResponse:
        """Ask the client's own peers (or those of the target organisations) in turn; raises
        EvaluateError."""
        txid = request.transaction_id
        nodes = self._local
        if request.target_organizations:
            try:
                nodes = self._planner.peers_of(list(request.target_organizations))
            except PlanError as error:
                raise EvaluateError(txid, grpc.StatusCode.UNAVAILABLE, str(error)) from None
        failures: list[ErrorDetail] = []
        for node, patient in _attempts(nodes):
            if patient and not _unavailable(failures):
                break
            try:
                answer = self._process(
                    node, request.proposed_transaction, self.timeouts.evaluate, patient
                ).result()
            except grpc.RpcError as error:
                failures.append(_failure(node, error))
                continue
            endorsement = Endorsement(node, answer)
            if not endorsement.succeeded:
                detail = endorsement.detail()
                raise EvaluateError(
                    txid, grpc.StatusCode.UNKNOWN, f"{EVALUATE_REFUSED}: {detail.message}", [detail]
                )
            return gateway_pb2.EvaluateResponse(result=answer.response)
        raise EvaluateError(
            txid, grpc.StatusCode.UNAVAILABLE, "no peer could evaluate the transaction", failures
        )

    def endorse(self, request: gateway_pb2.EndorseRequest) -> gateway_pb2.EndorseResponse:
        """Endorse on the peers of the plan; raises EndorseError."""
        txid = request.transaction_id
        signed = request.proposed_transaction
        try:
            plan = self._planner.plan(
                request.channel_id, signed, list(request.endorsing_organizations)
            )
        except PlanError as error:
            raise EndorseError(txid, grpc.StatusCode.UNAVAILABLE, str(error)) from None
        endorsements = self._collect(txid, signed, plan)
        check_endorsements(txid, endorsements)
        return gateway_pb2.EndorseResponse(prepared_transaction=assemble(signed, endorsements))

    def _collect(self, txid: str, signed: Any, plan: Plan) -> list[Endorsement]:
        """`quantity` answers per group, a peer that cannot be reached replaced by the next of
        its group; with none left, the peer is asked once more, waiting for its connection."""
        spare = {group.name: list(group.peers[group.quantity :]) for group in plan.groups}
        calls = [(g, n, False) for g in plan.groups for n in g.peers[: g.quantity]]
        answers: list[Endorsement] = []
        failures: list[ErrorDetail] = []
        while calls:
            timeout = self.timeouts.endorse
            pending = [(g, n, w, self._process(n, signed, timeout, w)) for g, n, w in calls]
            calls = []
            for group, node, patient, future in pending:
                try:
                    answers.append(Endorsement(node, future.result()))
                except grpc.RpcError as error:
                    failures.append(_failure(node, error))
                    if spare[group.name]:
                        calls.append((group, spare[group.name].pop(0), False))
                    elif not patient and _unavailable(failures):
                        calls.append((group, node, True))
                    else:
                        raise EndorseError(
                            txid,
                            grpc.StatusCode.UNAVAILABLE,
                            f"too few peers of {group.name} could be reached to endorse the "
                            "transaction",
                            failures,
                        ) from None
        return answers

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
            self._broadcast(txid, request.prepared_transaction)
        except SubmitError:
            watcher.forget(txid)
            raise
        return gateway_pb2.SubmitResponse()

    def _broadcast(self, txid: str, envelope: Any) -> None:
        failures: list[ErrorDetail] = []
        for node, patient in _attempts(self._orderers):
            if patient and not _unavailable(failures):
                break
            stub = ab_pb2_grpc.AtomicBroadcastStub(self._connections.channel(node))
            try:
                answers = stub.Broadcast(
                    iter([envelope]), timeout=self.timeouts.submit, wait_for_ready=patient
                )
                answer = next(answers)
            except grpc.RpcError as error:
                failures.append(_failure(node, error))
                continue
            status = int(answer.status)
            if status != common_pb2.Status.SUCCESS:
                name = common_pb2.Status.Name(status)
                raise SubmitError(
                    txid,
                    grpc.StatusCode.ABORTED,
                    f"received unsuccessful response from orderer: {name}",
                    [ErrorDetail(node.endpoint, node.msp_id, f"{name}: {answer.info}")],
                )
            return
        raise SubmitError(
            txid, grpc.StatusCode.UNAVAILABLE, "no orderer could be reached", failures
        )

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
        """Deliver from the first of the client's own peers, as the Gateway's responses."""
        inner = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        node = self._local[0]
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


def _failure(node: Node, error: grpc.RpcError) -> ErrorDetail:
    code = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
    message = error.details() if isinstance(error, grpc.Call) else str(error)
    return ErrorDetail(node.endpoint, node.msp_id, f"{code}: {message}")


def _attempts(nodes: Sequence[Node]) -> list[tuple[Node, bool]]:
    """Each node in turn, then the first once more waiting for its connection: a node that has
    just restarted is refused at once while its channel is backing off, and with no other node
    left, waiting (up to the call's deadline) is the better choice."""
    return [(node, False) for node in nodes] + [(nodes[0], True)] if nodes else []


def _unavailable(failures: Sequence[ErrorDetail]) -> bool:
    return bool(failures) and failures[-1].message.startswith("UNAVAILABLE:")
