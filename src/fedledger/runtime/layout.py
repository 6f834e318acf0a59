"""The run folder of one network: where its material, node state, logs and records live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunLayout:
    root: Path

    @property
    def crypto(self) -> Path:
        return self.root / "crypto"

    @property
    def channel_dir(self) -> Path:
        return self.root / "channel"

    @property
    def genesis_block(self) -> Path:
        return self.channel_dir / "genesis.block"

    @property
    def chaincode_dir(self) -> Path:
        return self.root / "chaincode"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def processes(self) -> Path:
        """The record of every process this network started (see processes.py)."""
        return self.root / "processes.json"

    @property
    def profile(self) -> Path:
        return self.root / "connection-profile.yaml"

    @property
    def store(self) -> Path:
        """The model store every command, validator and the demo use unless told otherwise."""
        return self.root / "store"

    def node(self, name: str) -> Path:
        return self.root / "nodes" / name

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"
