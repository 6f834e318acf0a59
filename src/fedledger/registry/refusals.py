"""The chaincode's refusal codes, and the one function that reads them off a refusal's message.

The chaincode writes every refusal as `[CODE] <what> refused: <why>` (chaincode/src/refusals.ts);
testdata/refusal-codes.json lists the codes and what each means, and both test suites check
their own list against it. Callers branch on the code, never on the English text after it.
"""

from __future__ import annotations

import re
from enum import StrEnum

_TAGGED = re.compile(r"\[([A-Z][A-Z0-9_]*)\] (.*)", re.DOTALL)


class RefusalCode(StrEnum):
    """Why the chaincode refused; UNKNOWN when its message carries no code this package knows
    (a chaincode older or newer than this package, or an error of the contract API itself)."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    PROPOSAL_NOT_FOUND = "PROPOSAL_NOT_FOUND"
    CHANGE_NOT_FOUND = "CHANGE_NOT_FOUND"
    TASK_EXISTS = "TASK_EXISTS"
    NOT_A_MEMBER = "NOT_A_MEMBER"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    SELF_REMOVAL = "SELF_REMOVAL"
    NOT_IN_ELECTORATE = "NOT_IN_ELECTORATE"
    POLICY_MISFIT = "POLICY_MISFIT"
    MODEL_TOO_LARGE = "MODEL_TOO_LARGE"
    ALREADY_PROPOSED = "ALREADY_PROPOSED"
    PARENT_NOT_CHAMPION = "PARENT_NOT_CHAMPION"
    TOO_MANY_OPEN_PROPOSALS = "TOO_MANY_OPEN_PROPOSALS"
    NOT_PENDING = "NOT_PENDING"
    VOTING_ENDED = "VOTING_ENDED"
    VOTING_NOT_ENDED = "VOTING_NOT_ENDED"
    ALREADY_VOTED = "ALREADY_VOTED"
    UNDECIDED = "UNDECIDED"
    NO_CHAMPION = "NO_CHAMPION"
    LEDGER_ERROR = "LEDGER_ERROR"
    INTERNAL = "INTERNAL"
    UNKNOWN = "UNKNOWN"


def parse_refusal(message: str) -> tuple[RefusalCode, str]:
    """The code of a chaincode's refusal and its text without the code.

    `message` is the chaincode's message as it reaches the client on either backend
    (`GatewayError.chaincode_message`). A message without a code, or with a code this package
    does not know, gives UNKNOWN and the message unchanged, so nothing of it is lost.
    """
    match = _TAGGED.fullmatch(message)
    if match is None or match.group(1) not in RefusalCode.__members__:
        return RefusalCode.UNKNOWN, message
    return RefusalCode(match.group(1)), match.group(2)
