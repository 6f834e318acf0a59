"""The dashboard's view cache without a ledger (dashboard/cache.py): when a view is read again,
which blocks are fetched, what a failed read leaves behind, and which written keys make the
registry's remembered answers go (the counts on a real ledger: tests/integration/
test_dashboard.py)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fabric_protos.common import common_pb2

from fedledger.audit import AuditLedger
from fedledger.dashboard import cache
from fedledger.dashboard.cache import RememberingRegistry, ViewCache


class Queries:
    def __init__(self) -> None:
        self.blocks = 3
        self.fetched: list[int] = []

    def height(self) -> int:
        return self.blocks

    def block_by_number(self, number: int) -> common_pb2.Block:
        self.fetched.append(number)
        return common_pb2.Block()  # no transactions: nothing to forget


class Contract:
    contract_name = "registry"

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def evaluate(self, function: str, args: Any = ()) -> bytes:
        self.calls[function] += 1
        assert function == "GetVotes"
        return b"[]"

    def submit(self, function: str, args: Any = ()) -> bytes:
        raise AssertionError("a view writes nothing")


def _cache(queries: Queries) -> ViewCache:
    registry = SimpleNamespace(contract=Contract())
    ledger = AuditLedger(cast(Any, registry), cast(Any, queries), "ch", "fedledger")
    return ViewCache(ledger, "t-1")


def test_a_view_is_read_again_only_when_the_channel_grew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[int] = []
    queries = Queries()

    def read(ledger: Any, task: str) -> str:
        reads.append(queries.blocks)
        return f"view at {queries.blocks}"

    monkeypatch.setattr(cache, "read_view", read)
    views = _cache(queries)
    assert views.view() == views.view() == "view at 3"
    assert reads == [3]  # the second view: one height query, the same view
    assert queries.fetched == []  # the first view reads records, not blocks
    queries.blocks = 5
    assert views.view() == "view at 5"
    assert reads == [3, 5]
    assert queries.fetched == [3, 4]  # each new block once


def test_a_failed_read_leaves_no_view_to_serve_and_no_block_to_fetch_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queries = Queries()
    outcomes: list[Any] = ["first", OSError("peer gone"), "third"]

    def read(ledger: Any, task: str) -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(cache, "read_view", read)
    views = _cache(queries)
    assert views.view() == "first"
    queries.blocks = 4
    with pytest.raises(OSError, match="peer gone"):
        views.view()
    assert views.view() == "third"  # read again at the same height, not the old "first"
    assert queries.fetched == [3]  # block 3 was absorbed once, before the failed read


def test_a_written_vote_makes_its_proposals_votes_be_read_again() -> None:
    contract = Contract()
    registry = RememberingRegistry(contract, "t-1")
    registry.recorded_votes("p-1")
    registry.recorded_votes("p-1")
    registry.recorded_votes("p-2")
    assert contract.calls["GetVotes"] == 2
    registry.forget("\x00vote\x00p-1\x00Org2MSP\x00", b'{"proposalId": "p-1"}')
    registry.forget("\x00proposalByTask\x00t-1\x00p-2\x00", b"")  # an index: nothing to forget
    registry.recorded_votes("p-1")
    registry.recorded_votes("p-2")
    assert contract.calls["GetVotes"] == 3


@pytest.mark.parametrize(
    ("value", "stale"),
    [
        (b'{"taskId": "t-1", "id": "p-9"}', True),
        (b'{"taskId": "t-2", "id": "p-9"}', False),  # another task's proposal costs nothing
        (None, True),  # deleted: read it again to know
        (b"not json", True),
    ],
)
def test_which_written_proposals_the_task_reads_again(value: bytes | None, stale: bool) -> None:
    registry = RememberingRegistry(Contract(), "t-1")
    registry.forget("\x00proposal\x00p-9\x00", value)
    assert ("p-9" in registry._memo.stale_proposals) is stale
