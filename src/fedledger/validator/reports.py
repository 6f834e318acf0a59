"""The reports behind this organisation's votes, kept in the state folder (one JSON each)."""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.evaluate.report import EvaluationReport
from fedledger.validator.errors import InvalidRequestError, NotFoundError

_PROPOSAL_ID = re.compile(r"p-[0-9a-f]{32}")


@dataclass(frozen=True)
class VoteRecord:
    proposal_id: str
    report: EvaluationReport
    decision: str
    reason: str
    transaction_id: str
    voted_at: str
    champion_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposalId": self.proposal_id,
            "report": self.report.to_dict(),
            "decision": self.decision,
            "reason": self.reason,
            "transactionId": self.transaction_id,
            "votedAt": self.voted_at,
            "championScore": self.champion_score,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> VoteRecord:
        return cls(
            proposal_id=doc["proposalId"],
            report=EvaluationReport.from_dict(doc["report"]),
            decision=doc["decision"],
            reason=doc["reason"],
            transaction_id=doc["transactionId"],
            voted_at=doc["votedAt"],
            champion_score=doc.get("championScore"),
        )


def check_proposal_id(proposal_id: str) -> str:
    """Raises InvalidRequestError unless `proposal_id` is a well-formed proposal id."""
    if not _PROPOSAL_ID.fullmatch(proposal_id):
        raise InvalidRequestError(
            f'proposal_id must be "p-" and 32 lowercase hex characters, got {proposal_id!r}'
        )
    return proposal_id


class ReportBook:
    """Written atomically (temp file, fsync, rename), so a crash leaves whole reports only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _path(self, proposal_id: str) -> Path:
        return self.folder / f"{check_proposal_id(proposal_id)}.json"

    def save(self, record: VoteRecord) -> None:
        path = self._path(record.proposal_id)
        temporary = path.with_name(f".{path.name}.tmp")
        with self._lock:
            with temporary.open("w") as file:
                json.dump(record.to_dict(), file, sort_keys=True)
                file.flush()
                os.fsync(file.fileno())
            temporary.replace(path)

    def note_no_vote(self, proposal_id: str, reason: str) -> None:
        """Remember why we gave up voting on `proposal_id` (the last fault before its deadline),
        so that asking for our report on it says why there is none."""
        path = self.folder / f"no-vote-{check_proposal_id(proposal_id)}.json"
        with self._lock:
            path.write_text(json.dumps({"proposalId": proposal_id, "reason": reason}))

    def get(self, proposal_id: str) -> VoteRecord:
        """The report behind our vote on `proposal_id`; raises NotFoundError when we filed none
        (saying why we gave up, when we did)."""
        path = self._path(proposal_id)
        try:
            return VoteRecord.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            pass
        try:
            note = json.loads((self.folder / f"no-vote-{proposal_id}.json").read_text())
        except FileNotFoundError:
            raise NotFoundError(
                f"this validator has no report on proposal {proposal_id}: it has not voted on it "
                "(yet), or the proposal is not for a task it serves"
            ) from None
        raise NotFoundError(
            f"this validator did not vote on proposal {proposal_id}: it gave up at the deadline "
            f"after {note['reason']}"
        )

    def count(self) -> int:
        return sum(1 for _ in self.folder.glob("p-*.json"))
