"""The dashboard's routes in the serving app, over a ledger stand-in: what each answers, and a
ledger that cannot be read answering 502 with the reason rather than stale numbers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fedledger.dashboard import build_view, routes
from fedledger.dashboard.routes import dashboard_router

from .test_dashboard_views import audit, matrix


class Queries:
    def __init__(self, height: int) -> None:
        self._height = height

    def height(self) -> int:
        if self._height < 0:
            raise ConnectionError("peer0.org1.example.com:7051 is unavailable")
        return self._height


class StandIn:
    def __init__(self, height: int) -> None:
        self.queries = Queries(height)


def client(height: int, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    @contextmanager
    def opener() -> Iterator[Any]:
        yield StandIn(height)

    def read_view(ledger: Any, task_id: str) -> Any:
        assert task_id == "churn"
        ledger.queries.height()  # fails as the ledger would
        return build_view(matrix(), audit())

    monkeypatch.setattr(routes, "read_view", read_view)
    app = FastAPI()
    app.include_router(dashboard_router(opener, "churn", interval=0.25))
    return TestClient(app)


def test_the_page_the_sections_and_the_height(monkeypatch: pytest.MonkeyPatch) -> None:
    web = client(17, monkeypatch)
    page = web.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.count("<script>") == 1
    assert 'fetch("/dashboard/height"' in page.text
    assert "setTimeout(poll, 250)" in page.text
    assert '<body data-events="no">' in page.text  # no live updates here: the page polls
    assert 'new EventSource("/dashboard/events")' in page.text  # used where the body says yes
    fragment = web.get("/dashboard/sections")
    assert fragment.text.startswith('<p class="as-of">As of block <span id="through-block">9')
    assert "<script>" not in fragment.text
    assert fragment.text in page.text
    assert web.get("/dashboard/height").json() == {"height": 17}


def test_a_ledger_that_cannot_be_read_answers_502_naming_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    web = client(-1, monkeypatch)
    for path in ("/dashboard", "/dashboard/sections"):
        answer = web.get(path)
        assert answer.status_code == 502
        assert "cannot read the ledger: peer0.org1.example.com:7051 is unavailable" in answer.text
    height = web.get("/dashboard/height")
    assert (height.status_code, height.json()) == (
        502,
        {"error": "peer0.org1.example.com:7051 is unavailable"},
    )
