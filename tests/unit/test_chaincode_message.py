"""A chaincode's own message out of a peer's answer, whichever shim sent it: 2.5 (the message),
2.2 (an ERROR message the peer wraps), the embedded ledger (as a peer wraps it)."""

from __future__ import annotations

import grpc
import pytest

from fedledger.fabric.errors import ErrorDetail, EvaluateError

REFUSAL = "[TASK_NOT_FOUND] query refused: task t does not exist; list tasks with ListTasks"
WRAPPED = f"transaction returned with failure: {REFUSAL}"


@pytest.mark.parametrize(
    "answer",
    [
        f"chaincode response 500, {REFUSAL}",
        f"chaincode response 500, error in simulation: {WRAPPED}",
        f"chaincode response 500, {WRAPPED}",
    ],
    ids=["fabric-2.5", "fabric-2.2", "embedded-error-message"],
)
def test_the_chaincode_message_is_the_chaincodes_own(answer: str) -> None:
    error = EvaluateError(
        "tx1", grpc.StatusCode.UNKNOWN, "evaluate failed", [ErrorDetail("p:1", "Org1MSP", answer)]
    )
    assert error.chaincode_message == REFUSAL


def test_a_message_without_a_chaincode_response_has_none() -> None:
    error = EvaluateError("tx1", grpc.StatusCode.UNAVAILABLE, "no peer answered")
    assert error.chaincode_message is None
