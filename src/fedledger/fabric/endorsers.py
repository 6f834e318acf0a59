"""`Endorser/ProcessProposal` calls: one peer for an evaluation, a plan's peers for endorsement.

A peer answers a proposal in one of three ways, and each becomes what the Gateway would say:
- a ProposalResponse with status 200 to 399: the result (and, when endorsing, its signature);
- a ProposalResponse with status 400 and more: the chaincode refused or failed; its message
  travels as `chaincode response <status>, <message>`, so `chaincode_message` and the registry's
  refusal codes read it exactly as through the Gateway;
- a gRPC error: UNAVAILABLE when the peer cannot be reached (another peer of the same group is
  asked), any other code when the peer refused the proposal itself (not a member, bad
  signature, duplicate transaction id; Fabric's peer then answers UNKNOWN with its reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from fabric_protos.peer import peer_pb2_grpc, proposal_pb2, proposal_response_pb2

from fedledger.fabric.client import Timeouts
from fedledger.fabric.endorsement import REFUSED, Endorsement, Plan
from fedledger.fabric.errors import EndorseError, ErrorDetail, EvaluateError
from fedledger.fabric.nodes import Connections, Node

EVALUATE_REFUSED = "evaluate call to endorser returned error"


class PeerRefusedError(Exception):
    """A peer answered the call with a gRPC error other than UNAVAILABLE."""

    def __init__(self, node: Node, code: grpc.StatusCode, message: str) -> None:
        self.node = node
        self.code = code
        self.message = message
        super().__init__(f"{node}: {code.name}: {message}")

    @property
    def detail(self) -> ErrorDetail:
        return ErrorDetail(self.node.endpoint, self.node.msp_id, self.message)


class Endorsers:
    """ProcessProposal to the peers; thread-safe."""

    def __init__(self, connections: Connections, timeouts: Timeouts) -> None:
        self._connections = connections
        self.timeouts = timeouts

    def _call(self, node: Node, signed: Any, timeout: float, patient: bool) -> Any:
        stub = peer_pb2_grpc.EndorserStub(self._connections.channel(node))
        return stub.ProcessProposal.future(signed, timeout=timeout, wait_for_ready=patient)

    def evaluate(
        self, txid: str, signed: proposal_pb2.SignedProposal, nodes: Sequence[Node]
    ) -> proposal_response_pb2.Response:
        """The first reachable peer's answer; raises EvaluateError."""
        failures: list[ErrorDetail] = []
        for node, patient in attempts(nodes):
            if patient and not last_unavailable(failures):
                break
            try:
                answer = _answer(
                    node, self._call(node, signed, self.timeouts.evaluate, patient), patient
                )
            except PeerRefusedError as refused:
                raise _evaluate_refused(txid, refused) from None
            except grpc.RpcError as error:
                failures.append(failure_detail(node, error))
                continue
            endorsement = Endorsement(node, answer)
            if not endorsement.succeeded:
                detail = endorsement.detail()
                raise EvaluateError(
                    txid, grpc.StatusCode.UNKNOWN, f"{EVALUATE_REFUSED}: {detail.message}", [detail]
                )
            return answer.response
        raise EvaluateError(
            txid, grpc.StatusCode.UNAVAILABLE, "no peer could evaluate the transaction", failures
        )

    def collect(
        self, txid: str, signed: proposal_pb2.SignedProposal, plan: Plan
    ) -> list[Endorsement]:
        """`quantity` answers per group, a peer that cannot be reached replaced by the next of
        its group; with none left, the peer is asked once more, waiting for its connection.
        Raises EndorseError."""
        spare = {group.name: list(group.peers[group.quantity :]) for group in plan.groups}
        calls = [(g, n, False) for g in plan.groups for n in g.peers[: g.quantity]]
        answers: list[Endorsement] = []
        failures: list[ErrorDetail] = []
        timeout = self.timeouts.endorse
        while calls:
            pending = [(g, n, w, self._call(n, signed, timeout, w)) for g, n, w in calls]
            calls = []
            for group, node, patient, future in pending:
                try:
                    answers.append(Endorsement(node, _answer(node, future, patient)))
                except PeerRefusedError as refused:
                    raise _endorse_refused(txid, refused) from None
                except grpc.RpcError as error:
                    failures.append(failure_detail(node, error))
                    if spare[group.name]:
                        calls.append((group, spare[group.name].pop(0), False))
                    elif not patient and last_unavailable(failures):
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


def _answer(node: Node, future: Any, patient: bool) -> proposal_response_pb2.ProposalResponse:
    """The future's ProposalResponse; raises PeerRefusedError for a refusal and grpc.RpcError
    for a peer that cannot be reached (UNAVAILABLE, or the deadline of a call that waited for
    the connection)."""
    try:
        return future.result()
    except grpc.RpcError as error:
        code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
        if code == grpc.StatusCode.UNAVAILABLE or (
            patient and code == grpc.StatusCode.DEADLINE_EXCEEDED
        ):
            raise
        message = error.details() if isinstance(error, grpc.Call) else str(error)
        raise PeerRefusedError(node, code, message or code.name) from None


def _evaluate_refused(txid: str, refused: PeerRefusedError) -> EvaluateError:
    if refused.code == grpc.StatusCode.UNKNOWN:
        return EvaluateError(
            txid,
            grpc.StatusCode.FAILED_PRECONDITION,
            f"{EVALUATE_REFUSED}: {refused.message}",
            [refused.detail],
        )
    return EvaluateError(txid, refused.code, refused.message, [refused.detail])


def _endorse_refused(txid: str, refused: PeerRefusedError) -> EndorseError:
    if refused.code == grpc.StatusCode.UNKNOWN:
        return EndorseError(txid, grpc.StatusCode.ABORTED, REFUSED, [refused.detail])
    return EndorseError(txid, refused.code, refused.message, [refused.detail])


def failure_detail(node: Node, error: grpc.RpcError) -> ErrorDetail:
    code = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
    message = error.details() if isinstance(error, grpc.Call) else str(error)
    return ErrorDetail(node.endpoint, node.msp_id, f"{code}: {message}")


def attempts(nodes: Sequence[Node]) -> list[tuple[Node, bool]]:
    """Each node in turn, then the first once more waiting for its connection: a node that has
    just restarted is refused at once while its channel backs off, and with no other node
    left, waiting (up to the call's deadline) is the better choice."""
    return [(node, False) for node in nodes] + [(nodes[0], True)] if nodes else []


def last_unavailable(failures: Sequence[ErrorDetail]) -> bool:
    return bool(failures) and failures[-1].message.startswith("UNAVAILABLE:")
