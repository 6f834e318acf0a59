"""`AtomicBroadcast/Broadcast`: handing an endorsed, signed transaction to an orderer.

The orderer answers each envelope with a status: SUCCESS once it has the transaction for
ordering; BAD_REQUEST, FORBIDDEN, NOT_FOUND, … when it refuses it (the transaction will then
never commit). An orderer that cannot be reached is skipped for the next in the profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2_grpc

from fedledger.fabric.endorsers import attempts, failure_detail, last_unavailable
from fedledger.fabric.errors import ErrorDetail, SubmitError
from fedledger.fabric.nodes import Connections, Node


def broadcast(
    connections: Connections,
    orderers: Sequence[Node],
    txid: str,
    envelope: common_pb2.Envelope,
    timeout: float,
) -> None:
    """Raises SubmitError: ABORTED naming the orderer's status when it refuses the transaction,
    UNAVAILABLE naming every orderer tried when none can be reached."""
    failures: list[ErrorDetail] = []
    for node, patient in attempts(orderers):
        if patient and not last_unavailable(failures):
            break
        stub = ab_pb2_grpc.AtomicBroadcastStub(connections.channel(node))
        try:
            answer = next(stub.Broadcast(iter([envelope]), timeout=timeout, wait_for_ready=patient))
        except grpc.RpcError as error:
            failures.append(failure_detail(node, error))
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
    raise SubmitError(txid, grpc.StatusCode.UNAVAILABLE, "no orderer could be reached", failures)
