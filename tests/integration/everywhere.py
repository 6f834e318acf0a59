"""For tests that act as several organisations in turn.

Fabric promises a transaction's commit status from the gateway's own peer only; the other
organisations' peers commit the same block in their own time, which on a loaded machine can be
seconds later. A test whose next step acts as another organisation (its gateway endorses on its
own peer) waits until every peer has committed the block, as a careful client would.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack

from fedledger.fabric import Contract, Network, connect
from fedledger.fabric.proposal import Argument
from fedledger.profile import ConnectionProfile
from fedledger.runtime.health import wait_for


def caught_up(
    peers: Sequence[Network], timeout: float = 60.0, *, height: int | None = None
) -> None:
    """Until every peer has `height` blocks, by default every block that any of them has:
    called after a write whose commit status came from one of them (so the highest height
    counts that write)."""
    top = height if height is not None else max(peer.block_height() for peer in peers)
    for peer in peers:
        wait_for(
            lambda peer=peer: peer.block_height() >= top, f"block {top - 1} on every peer", timeout
        )


def profile_caught_up(
    profile: ConnectionProfile, msp_ids: Sequence[str] = (), timeout: float = 60.0
) -> None:
    """`caught_up` for the peers of `msp_ids` (default: every organisation of the profile),
    each asked as its own organisation: for tests whose writes go through commands or clients
    of their own (a CLI command, a validator) before another organisation acts."""
    with ExitStack() as stack:
        peers = [
            stack.enter_context(connect(profile, msp)).network(profile.channel)
            for msp in (msp_ids or profile.msp_ids)
        ]
        caught_up(peers, timeout)


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
        caught_up(self._peers, self._timeout, height=commit.status().block_number + 1)
        return result
