"""The dashboard's live updates without a ledger: which events reach the open pages, each page's
bounded queue, heartbeats, the end of the streams, and the /events endpoint over real HTTP
(uvicorn on a free port) including the cleanup when a page goes away (dashboard/live.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from fedledger.dashboard.live import HEARTBEAT, HELLO, LiveUpdates, concerns_task
from fedledger.fabric import ChaincodeEvent


def _event(name: str, payload: object, block: int = 7) -> ChaincodeEvent:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ChaincodeEvent(
        chaincode="fedledger", transaction_id="tx-1", event_name=name, payload=raw,
        block_number=block,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("event", "concerns"),
    [
        (_event("ProposalSubmitted", {"taskId": "t-1", "proposalId": "p-1"}), True),
        (_event("VoteCast", {"taskId": "t-2", "proposalId": "p-2"}), False),
        (_event("ValidatorAnnounced", {"organization": "Org1MSP", "taskIds": ["t-2", "t-1"]}),
         True),
        (_event("ValidatorAnnounced", {"organization": "Org1MSP", "taskIds": ["t-2"]}), False),
        (_event("Heartbeat", {"name": "x", "count": 3}), False),
        (_event("Odd", b"not json"), True),
        (_event("Odd", [1, 2]), True),
    ],
)  # fmt: skip
def test_which_events_concern_the_task(event: ChaincodeEvent, concerns: bool) -> None:
    assert concerns_task(event, "t-1") is concerns


async def _next(stream: AsyncIterator[str], timeout: float = 2.0) -> str:
    return await asyncio.wait_for(anext(stream), timeout)


def _offer_from_another_thread(live: LiveUpdates, event: ChaincodeEvent) -> None:
    thread = threading.Thread(target=live.offer, args=(event,))
    thread.start()
    thread.join()


def test_a_page_hears_its_tasks_events_from_the_followers_thread_and_nothing_else() -> None:
    async def scenario() -> None:
        live = LiveUpdates("t-1", heartbeat=60)
        stream = live.stream()
        assert await _next(stream) == HELLO
        assert live.clients == 1
        _offer_from_another_thread(live, _event("VoteCast", {"taskId": "t-2"}))
        _offer_from_another_thread(live, _event("ProposalSubmitted", {"taskId": "t-1"}, 12))
        message = await _next(stream)
        assert message == ('event: ledger\ndata: {"block": 12, "event": "ProposalSubmitted"}\n\n')
        await stream.aclose()  # the page went away
        assert live.clients == 0

    asyncio.run(scenario())


def test_a_slow_page_keeps_at_most_its_queue_and_the_end_still_arrives() -> None:
    async def scenario() -> None:
        live = LiveUpdates("t-1", queue_size=2, heartbeat=60)
        stream = live.stream()
        await _next(stream)
        for block in range(5):
            live.offer(_event("VoteCast", {"taskId": "t-1"}, block))
        await asyncio.sleep(0.05)  # the offers land on this loop
        live.close()
        await asyncio.sleep(0.05)
        got = [message async for message in stream]
        # The queue held blocks 0 and 1 (2 to 4 were dropped); the end took the oldest's place.
        assert got == ['event: ledger\ndata: {"block": 1, "event": "VoteCast"}\n\n']
        assert live.clients == 0

    asyncio.run(scenario())


def test_messages_beyond_the_queue_are_dropped_not_kept() -> None:
    async def scenario() -> None:
        live = LiveUpdates("t-1", queue_size=2, heartbeat=60)
        stream = live.stream()
        await _next(stream)
        for block in range(5):
            live.offer(_event("VoteCast", {"taskId": "t-1"}, block))
        await asyncio.sleep(0.05)
        first, second = await _next(stream), await _next(stream)
        assert '"block": 0' in first
        assert '"block": 1' in second
        with pytest.raises(TimeoutError):
            await _next(stream, timeout=0.2)
        await stream.aclose()

    asyncio.run(scenario())


def test_an_idle_stream_sends_heartbeat_comments() -> None:
    async def scenario() -> None:
        live = LiveUpdates("t-1", heartbeat=0.05)
        stream = live.stream()
        await _next(stream)
        assert await _next(stream) == HEARTBEAT == ": heartbeat\n\n"
        assert await _next(stream) == HEARTBEAT
        await stream.aclose()

    asyncio.run(scenario())


def test_an_interruption_ends_the_open_streams_and_later_ones_still_open() -> None:
    async def scenario() -> None:
        live = LiveUpdates("t-1", heartbeat=60)
        stream = live.stream()
        await _next(stream)
        live.interrupt()  # the follower's stream broke
        await asyncio.sleep(0.05)
        assert [message async for message in stream] == []
        assert live.clients == 0
        assert not live.closed
        later = live.stream()
        assert await _next(later) == HELLO
        await later.aclose()

    asyncio.run(scenario())


def test_after_close_a_new_stream_ends_at_once() -> None:
    async def scenario() -> None:
        live = LiveUpdates("t-1")
        live.close()
        assert [message async for message in live.stream()] == []
        assert live.closed

    asyncio.run(scenario())


@contextlib.contextmanager
def _served(app: Any) -> Iterator[str]:
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _router_app(live: LiveUpdates | None) -> Any:
    from fastapi import FastAPI

    from fedledger.dashboard.routes import dashboard_router

    def no_ledger() -> Any:
        raise AssertionError("the event stream reads no ledger")

    app = FastAPI()
    app.include_router(dashboard_router(no_ledger, "t-1", live=live))
    return app


def test_the_events_endpoint_streams_over_http_and_forgets_a_page_that_left() -> None:
    live = LiveUpdates("t-1", heartbeat=0.2)
    with _served(_router_app(live)) as base, httpx.Client(timeout=5) as client:
        with client.stream("GET", f"{base}/dashboard/events") as reply:
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/event-stream")
            assert reply.headers["cache-control"] == "no-store"
            lines = reply.iter_lines()
            assert next(lines) == "retry: 1000"
            assert next(lines) == "event: hello"
            _wait(lambda: live.clients == 1)
            live.offer(_event("ProposalDecided", {"taskId": "t-1"}, 42))
            received = [next(lines) for _ in range(4)]  # the hello's end, then the event
            assert received == [
                "data: {}",
                "",
                "event: ledger",
                'data: {"block": 42, "event": "ProposalDecided"}',
            ]
        _wait(lambda: live.clients == 0)  # the client closed its connection
        live.close()
        refused = client.get(f"{base}/dashboard/events")
        assert refused.status_code == 503
        assert refused.json() == {"detail": "this service is stopping: poll /dashboard/height"}


def test_while_the_follower_is_down_the_events_endpoint_says_to_poll() -> None:
    live = LiveUpdates("t-1", available=lambda: False)
    with _served(_router_app(live)) as base:
        reply = httpx.get(f"{base}/dashboard/events", timeout=5)
    assert reply.status_code == 503
    assert reply.json() == {
        "detail": "this service is not following the ledger's events now: poll /dashboard/height"
    }


def test_without_live_updates_the_events_endpoint_says_to_poll() -> None:
    with _served(_router_app(None)) as base:
        reply = httpx.get(f"{base}/dashboard/events", timeout=5)
    assert reply.status_code == 404
    assert reply.json() == {
        "detail": "this service does not follow the ledger's events: poll /dashboard/height"
    }
