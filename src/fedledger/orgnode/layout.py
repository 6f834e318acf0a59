"""Where `org start` keeps what it runs, inside the organisation's own folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NodeFolders:
    root: Path

    @property
    def processes(self) -> Path:
        """The record of every process `org start` started (runtime/processes.py)."""
        return self.root / "processes.json"

    @property
    def profile(self) -> Path:
        return self.root / "profile.yaml"

    @property
    def channel(self) -> Path:
        """The channel's blocks fetched here and the other members' TLS CA certificates."""
        return self.root / "channel"

    @property
    def genesis_block(self) -> Path:
        return self.channel / "genesis.block"

    def node(self, name: str) -> Path:
        return self.root / "nodes" / name

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"
