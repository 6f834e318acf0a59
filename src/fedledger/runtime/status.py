"""One row of `fedledger network status`, whichever backend runs the network."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeStatus:
    name: str
    kind: str  # orderer, peer, chaincode, or gateway (the embedded ledger's per-org endpoint)
    organization: str
    ports: str
    pid: int | None
    running: bool
    healthy: bool
    height: int | None
