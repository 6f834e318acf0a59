"""For tests that act as several organisations in turn.

Fabric promises a transaction's commit status from the gateway's own peer only; the other
organisations' peers commit the same block in their own time, which on a loaded machine can be
seconds later. A test whose next step acts as another organisation (its gateway endorses on its
own peer) waits until every peer has committed the block, as a careful client would.
"""

from __future__ import annotations

from collections.abc import Sequence

from fedledger.fabric import Contract, Network
from fedledger.fabric.proposal import Argument
from fedledger.runtime.health import wait_for


class CommittedEverywhere:
    """A contract whose `submit` returns once every listed network's peer has the block."""

    def __init__(self, contract: Contract, peers: Sequence[Network], timeout: float = 60.0):
        self._contract = contract
        self._peers = peers
        self._timeout = timeout

    @property
    def contract_name(self) -> str | None:
        return self._contract.contract_name

    def evaluate(self, function: str, args: Sequence[Argument] = ()) -> bytes:
        return self._contract.evaluate(function, args)

    def submit(
        self,
        function: str,
        args: Sequence[Argument] = (),
        *,
        endorsing_organizations: Sequence[str] = (),
    ) -> bytes:
        commit = self._contract.submit_async(
            function, args, endorsing_organizations=endorsing_organizations
        )
        result = commit.wait()
        block = commit.status().block_number
        for peer in self._peers:
            wait_for(
                lambda peer=peer: peer.block_height() > block,
                f"block {block} on every organisation's peer",
                self._timeout,
            )
        return result
