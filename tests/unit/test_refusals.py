"""Refusal codes: the Python list against testdata/refusal-codes.json (which the chaincode's
tests check against its own list), and the one function that reads a code off a message."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from fedledger.fabric.errors import EndorseError, ErrorDetail
from fedledger.registry import ChaincodeRefusalError, RefusalCode, parse_refusal

SHARED = json.loads(
    (Path(__file__).resolve().parents[2] / "testdata" / "refusal-codes.json").read_text("utf-8")
)


def test_python_knows_every_code_the_chaincode_can_throw_and_unknown() -> None:
    assert [c["code"] for c in SHARED["codes"]] + ["UNKNOWN"] == [c.value for c in RefusalCode]


@pytest.mark.parametrize("code", [c["code"] for c in SHARED["codes"]])
def test_each_code_is_read_off_its_message(code: str) -> None:
    assert parse_refusal(f"[{code}] vote refused: why") == (RefusalCode(code), "vote refused: why")


@pytest.mark.parametrize(
    "message",
    [
        "vote refused: Org2MSP already voted on proposal p-1",  # a chaincode before codes
        "[SOMETHING_NEW] vote refused: why",  # a newer chaincode's code
        "[already_voted] vote refused: why",  # not a code: codes are upper case
        "[ALREADY_VOTED]vote refused: why",  # no space after the code
        "You've asked to invoke a function that does not exist: registry:Nope",
        "",
    ],
)
def test_a_message_without_a_known_code_is_unknown_and_kept_whole(message: str) -> None:
    assert parse_refusal(message) == (RefusalCode.UNKNOWN, message)


def test_a_multiline_text_is_kept_whole() -> None:
    assert parse_refusal("[LEDGER_ERROR] ledger error: a\nb") == (
        RefusalCode.LEDGER_ERROR,
        "ledger error: a\nb",
    )


def test_the_code_survives_the_peers_wrapping_on_the_gateway() -> None:
    message = "[NOT_PENDING] close refused: proposal p-1 is EXPIRED, not PENDING"
    error = EndorseError(
        "tx1",
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction",
        [ErrorDetail("peer0:7051", "Org1MSP", f"chaincode response 500, {message}")],
    )
    assert error.chaincode_message == message
    refusal = ChaincodeRefusalError("CloseExpired", message, "tx1")
    assert (refusal.code, refusal.message) == (
        RefusalCode.NOT_PENDING,
        "close refused: proposal p-1 is EXPIRED, not PENDING",
    )
