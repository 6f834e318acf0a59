"""What one pass over the uploads did (a listing, or the messages of one queue poll): one line
for a person, one structured record for a log collector. A pass that finds nothing new still
says how many objects it saw, so a quiet watcher is told apart from a blind one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedledger.upload.proposer import ALREADY_PROPOSED, FAILED, PROPOSED, REFUSED, Outcome


@dataclass(frozen=True)
class PassSummary:
    source: str  # where the pass looked, as the watcher names it
    seen: int  # objects listed or received, the ones handled before included
    outcomes: tuple[Outcome, ...]  # those not handled before

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def line(self) -> str:
        """E.g. `uploads: 3 objects seen, 2 new: 1 proposed, 1 refused, 0 already proposed,
        0 failed`."""
        objects = "object" if self.seen == 1 else "objects"
        return (
            f"{self.source}: {self.seen} {objects} seen, {len(self.outcomes)} new: "
            f"{self.count(PROPOSED)} proposed, {self.count(REFUSED)} refused, "
            f"{self.count(ALREADY_PROPOSED)} already proposed, {self.count(FAILED)} failed"
        )

    def record(self) -> dict[str, Any]:
        return {
            "event": "pass",
            "source": self.source,
            "seen": self.seen,
            "new": len(self.outcomes),
            "proposed": self.count(PROPOSED),
            "refused": self.count(REFUSED),
            "alreadyProposed": self.count(ALREADY_PROPOSED),
            "failed": self.count(FAILED),
        }
