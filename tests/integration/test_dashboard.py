"""The dashboard and `fedledger report` on every backend: proposals made and decided by three
organisations, then every number on the page compared with the ledger's records, in the report
file and in a real browser (headless Chromium) that also sees a new proposal arrive live."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from fedledger.audit import open_audit_ledger
from fedledger.fabric import Network, connect
from fedledger.models.synthetic import synthetic_schema
from fedledger.registry import Policy, Registry

from .dashboard_browser import chromium_paths, headless_chromium, served
from .everywhere import CommittedEverywhere
from .multi_host import CommandFailedError, fedledger

pytestmark = [pytest.mark.ledger, pytest.mark.slow, pytest.mark.timeout(600)]

ORGS = ("Org1MSP", "Org2MSP", "Org3MSP")
# Who proposes, then each member's vote: accepted; rejected while Org2MSP could not read the
# bytes; accepted over Org3MSP's objection.
STORY: list[tuple[str, dict[str, tuple[str, float | None]]]] = [
    ("Org1MSP", {"Org1MSP": ("approve", 0.8), "Org2MSP": ("approve", 0.78),
                 "Org3MSP": ("approve", 0.75)}),
    ("Org2MSP", {"Org1MSP": ("reject", 0.7), "Org2MSP": ("unavailable", None),
                 "Org3MSP": ("reject", 0.72)}),
    ("Org3MSP", {"Org1MSP": ("approve", 0.85), "Org2MSP": ("approve", 0.83),
                 "Org3MSP": ("reject", 0.6)}),
]  # fmt: skip


@dataclass(frozen=True)
class Story:
    task_id: str
    proposals: tuple[str, ...]


@pytest.fixture(scope="module")
def registries(ledger: Any) -> Iterator[dict[str, Registry]]:
    with ExitStack() as stack:
        networks: dict[str, Network] = {
            msp: stack.enter_context(connect(ledger.profile, msp)).network(ledger.profile.channel)
            for msp in ORGS
        }
        peers = list(networks.values())
        yield {
            msp: Registry(CommittedEverywhere(n.contract(ledger.profile.chaincode), peers))
            for msp, n in networks.items()
        }


def propose(registry: Registry, task_id: str) -> str:
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    return registry.submit_proposal(
        task_id, model_sha256=sha, uri=f"file:///models/sha256/{sha}", size_bytes=1234
    ).id


def vote(registry: Registry, proposal_id: str, decision: str, score: float | None) -> None:
    registry.cast_vote(
        proposal_id,
        decision=decision,  # type: ignore[arg-type]
        metrics={} if score is None else {"roc_auc": score},
        holdout_rows=0 if score is None else 500,
        evaluator_version="fedledger-test/1",
        reason="object_missing: not in the store" if score is None else f"scored {score}",
    )


@pytest.fixture(scope="module")
def story(registries: dict[str, Registry]) -> Story:
    task_id = _new_task(registries)
    proposals = []
    for proposer, votes in STORY:
        proposal_id = propose(registries[proposer], task_id)
        for voter, (decision, score) in votes.items():
            vote(registries[voter], proposal_id, decision, score)
        registries[proposer].decide(proposal_id)
        proposals.append(proposal_id)
    return Story(task_id, tuple(proposals))


def ledger_cells(registry: Registry, story: Story) -> set[tuple[str, str, str, str]]:
    """(proposal, organisation, decision, score) of every vote, as the ledger holds them."""
    return {
        (pid, v.voter, v.decision, "" if v.score is None else repr(v.score))
        for pid in story.proposals
        for v in registry.get_votes(pid)
    }


def ledger_points(registry: Registry, story: Story) -> set[tuple[str, str, str]]:
    """(proposal, organisation, score) of every scored vote on an accepted proposal."""
    return {
        (pid, v.voter, repr(v.score))
        for pid in story.proposals
        if registry.get_proposal(pid).status == "ACCEPTED"
        for v in registry.get_votes(pid)
        if v.score is not None
    }


def audit_rows(ledger: Any, story: Story) -> list[tuple[str, str]]:
    with open_audit_ledger(ledger.profile, "Org1MSP") as audit:
        return [(str(r.block), r.event.transaction_id) for r in audit.rows(story.task_id)]


def test_the_story_is_decided_as_told(registries: dict[str, Registry], story: Story) -> None:
    statuses = [registries["Org1MSP"].get_proposal(p).status for p in story.proposals]
    assert statuses == ["ACCEPTED", "REJECTED", "ACCEPTED"]


def test_the_report_holds_the_ledgers_numbers(
    ledger: Any, registries: dict[str, Registry], story: Story, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    printed = fedledger(
        "report", "--task", story.task_id, "--profile", str(ledger.profile.path), "--org", "Org2MSP"
    )
    rows = audit_rows(ledger, story)
    last = max(int(block) for block, _ in rows)
    assert printed.strip() == (
        f"wrote the report of task {story.task_id} (3 proposals, {len(rows)} events through "
        f"block {last}) to report.html"
    )
    page = Page((tmp_path / "report.html").read_text())
    registry = registries["Org1MSP"]
    assert page.proposals() == list(story.proposals)
    assert page.cells() == ledger_cells(registry, story)
    assert page.points() == ledger_points(registry, story)
    assert page.audit() == rows
    assert page.unavailable() == [(story.proposals[1], "Org2MSP")]


def test_report_errors_name_what_to_do(
    ledger: Any, story: Story, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    profile = str(ledger.profile.path)
    with pytest.raises(CommandFailedError) as failed:
        fedledger("report", "--task", story.task_id, "--profile", profile, "--out", "no/r.html")
    assert "error: --out no/r.html: no folder no; create it or write elsewhere" in (
        failed.value.output
    )
    with pytest.raises(CommandFailedError) as failed:
        fedledger("report", "--task", "no-such-task", "--profile", profile)
    assert "task no-such-task does not exist" in failed.value.output
    assert not (tmp_path / "report.html").exists()


def test_the_dashboard_in_a_real_browser(
    ledger: Any, registries: dict[str, Registry], story: Story, tmp_path: Path
) -> None:
    from fastapi import FastAPI
    from selenium.webdriver.support.ui import WebDriverWait

    from fedledger.dashboard.routes import dashboard_router

    app = FastAPI()
    app.include_router(
        dashboard_router(
            lambda: open_audit_ledger(ledger.profile, "Org1MSP"), story.task_id, interval=0.5
        )
    )
    registry = registries["Org1MSP"]
    with headless_chromium() as browser, served(app) as base:
        browser.get(f"{base}/dashboard")
        dom = Page(browser.page_source)
        assert dom.proposals() == list(story.proposals)
        assert dom.cells() == ledger_cells(registry, story)
        assert dom.points() == ledger_points(registry, story)
        assert dom.audit() == audit_rows(ledger, story)
        shown = browser.find_elements("css selector", "svg.score-plot circle.point")
        assert all(circle.is_displayed() for circle in shown)
        assert len(shown) == 6
        browser.save_screenshot(str(tmp_path / "dashboard.png"))

        # Live: a new proposal appears without reloading the page. This app does not follow
        # the ledger's events (as a Lambda cannot), so the page polls.
        WebDriverWait(browser, 30).until(lambda b: b.find_element("tag name", "body")
                                         .get_attribute("data-height"))  # fmt: skip
        assert browser.find_element("tag name", "body").get_attribute("data-live") == "poll"
        fourth = propose(registries["Org2MSP"], story.task_id)
        WebDriverWait(browser, 60).until(
            lambda b: b.find_elements("css selector", f'tr.proposal[data-proposal="{fourth}"]')
        )
        assert Page(browser.page_source).proposals() == [*story.proposals, fourth]
        browser.save_screenshot(str(tmp_path / "dashboard-live.png"))

        report = tmp_path / "report.html"
        with open_audit_ledger(ledger.profile, "Org1MSP") as audit:
            from fedledger.dashboard import read_view, report_page

            report.write_text(report_page(read_view(audit, story.task_id)))
        browser.get(report.as_uri())
        assert Page(browser.page_source).proposals() == [*story.proposals, fourth]
        assert Page(browser.page_source).cells() == ledger_cells(registry, story)
        browser.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def _decided_proposal(registries: dict[str, Registry], task_id: str) -> str:
    """A proposal every member approves, decided: five transactions."""
    proposal_id = propose(registries["Org1MSP"], task_id)
    for org in ORGS:
        vote(registries[org], proposal_id, "approve", 0.8)
    registries["Org1MSP"].decide(proposal_id)
    return proposal_id


def _new_task(registries: dict[str, Registry]) -> str:
    task_id = f"dash-{uuid.uuid4().hex[:10]}"
    registries["Org1MSP"].create_task(
        task_id,
        schema=synthetic_schema().to_dict(),
        metric="roc_auc",
        members=list(ORGS),
        policy=Policy(2, 0.6, None, None, 3600, 1_000_000, 5),
    )
    return task_id


class _Counted:
    """A contract or a network whose ledger queries are counted by function name."""

    def __init__(self, inner: Any, counts: Counter[str]) -> None:
        self._inner = inner
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def contract(self, name: str) -> _Counted:
        return _Counted(self._inner.contract(name), self._counts)

    def block_height(self) -> int:
        self._counts["height"] += 1
        return int(self._inner.block_height())

    def evaluate(self, function: str, args: Any = ()) -> bytes:
        self._counts[function.rsplit(":", 1)[-1]] += 1
        return bytes(self._inner.evaluate(function, args))


def test_a_page_view_costs_what_changed_since_the_last_not_the_whole_history(
    ledger: Any, registries: dict[str, Registry]
) -> None:
    from fedledger.audit import AuditLedger
    from fedledger.dashboard import read_view
    from fedledger.dashboard.cache import ViewCache
    from fedledger.fabric.qscc import LedgerQueries

    task_id, other_task = _new_task(registries), _new_task(registries)
    channel, chaincode = ledger.profile.channel, ledger.profile.chaincode
    counts: Counter[str] = Counter()
    with connect(ledger.profile, "Org1MSP") as gateway:
        network = gateway.network(channel)
        counted = cast(Network, _Counted(network, counts))
        cache = ViewCache(
            AuditLedger(Registry(counted.contract(chaincode)), LedgerQueries(counted), channel,
                        chaincode), task_id,
        )  # fmt: skip
        fresh = AuditLedger(Registry(network.contract(chaincode)), LedgerQueries(network),
                            channel, chaincode)  # fmt: skip

        def view_cost() -> dict[str, int]:
            counts.clear()
            view = cache.view()
            assert view == read_view(fresh, task_id)  # the cache shows what a fresh read shows
            return dict(counts)

        proposals = [_decided_proposal(registries, task_id) for _ in range(2)]
        view_cost()  # the first view reads everything once
        assert view_cost() == {"height": 1}  # nothing changed: one query
        costs = []
        for history in (2, 6):
            while len(proposals) < history:
                proposals.append(_decided_proposal(registries, task_id))
            view_cost()
            before = network.block_height()
            proposals.append(_decided_proposal(registries, task_id))
            blocks = network.block_height() - before
            cost = view_cost()
            assert cost.pop("GetBlockByNumber") == blocks  # each new block once
            assert cost.pop("height") == 1
            costs.append(cost)
        assert costs[0] == costs[1], "a view's cost grew with the task's history"
        assert "GetBlockByTxID" not in costs[1]  # the blocks said where each transaction is
        propose(registries["Org2MSP"], other_task)  # another task's block: fetched, no more
        assert view_cost() == {"height": 1, "GetBlockByNumber": 1}
        assert [r.proposal.id for r in cache.view().matrix.rows] == proposals


def test_the_dashboard_follows_the_ledger_by_server_sent_events_then_polls(
    ledger: Any, registries: dict[str, Registry], tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    from fedledger.serving.app import service_app
    from fedledger.serving.service import open_service
    from fedledger.store.factory import open_store

    task_id = _new_task(registries)
    first = propose(registries["Org1MSP"], task_id)  # pending: the task has no champion
    service = open_service(ledger.profile, "Org1MSP", task_id, open_store(tmp_path / "store"))
    live, follower = service.live, service.follower
    assert live is not None
    assert follower is not None
    try:
        service.start()
        with headless_chromium() as browser, served(service_app(service)) as base:
            WebDriverWait(browser, 30).until(lambda b: follower.connected)
            browser.get(f"{base}/dashboard")
            assert Page(browser.page_source).proposals() == [first]
            WebDriverWait(browser, 30).until(lambda b: body(b).get_attribute("data-live") == "sse")
            assert live.clients == 1

            second = propose(registries["Org2MSP"], task_id)
            WebDriverWait(browser, 30).until(
                lambda b: b.find_elements("css selector", f'tr.proposal[data-proposal="{second}"]')
            )
            assert body(browser).get_attribute("data-live") == "sse"  # no poll took place
            assert Page(browser.page_source).proposals() == [first, second]
            browser.save_screenshot(str(tmp_path / "dashboard-sse.png"))

            # The stream ends and the endpoint refuses (the service is stopping): the page
            # falls back to polling, and still sees the next proposal.
            live.close()
            WebDriverWait(browser, 30).until(lambda b: body(b).get_attribute("data-live") == "poll")
            assert live.clients == 0
            third = propose(registries["Org3MSP"], task_id)
            WebDriverWait(browser, 30).until(
                lambda b: b.find_elements("css selector", f'tr.proposal[data-proposal="{third}"]')
            )
            assert Page(browser.page_source).proposals() == [first, second, third]
    finally:
        service.close()


def body(browser: Any) -> Any:
    return browser.find_element("tag name", "body")


class Page:
    """The numbers a rendered page shows, read from its elements' data attributes."""

    def __init__(self, text: str) -> None:
        from html.parser import HTMLParser

        self.tags: list[tuple[str, dict[str, str]]] = []
        tags = self.tags

        class Reader(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                tags.append((tag, {k: v or "" for k, v in attrs}))

        Reader().feed(text)

    def _with(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and cls in a.get("class", "").split()]

    def proposals(self) -> list[str]:
        return [a["data-proposal"] for a in self._with("tr", "proposal")]

    def cells(self) -> set[tuple[str, str, str, str]]:
        return {
            (a["data-proposal"], a["data-org"], a["data-decision"], a.get("data-score", ""))
            for a in self._with("td", "cell")
            if a["data-decision"]
        }

    def points(self) -> set[tuple[str, str, str]]:
        return {
            (a["data-proposal"], a["data-org"], a["data-score"])
            for a in self._with("circle", "point")
        }

    def audit(self) -> list[tuple[str, str]]:
        return [(a["data-block"], a["data-tx"]) for a in self._with("tr", "event")]

    def unavailable(self) -> list[tuple[str, str]]:
        return [(a["data-proposal"], a["data-org"]) for a in self._with("td", "unavailable")]


def test_the_browser_test_says_what_to_install_where_there_is_no_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.skip.Exception) as skipped:
        chromium_paths()
    assert str(skipped.value) == (
        "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
    )
