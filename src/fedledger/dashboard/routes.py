"""The dashboard as routes of the serving app: `app.include_router(dashboard_router(...))`.

    GET /dashboard           the whole page of the task
    GET /dashboard/sections  its four views, for the page to swap in
    GET /dashboard/height    {"height": N}: the channel's block count
    GET /dashboard/events    Server-Sent Events: one message per change of the task (only
                             where the app follows the ledger's events: `live`)

Live updates: where the app follows the ledger's events (`fedledger serve`), the page opens an
EventSource on /dashboard/events and reads the sections again on each message. Where it does
not (a Lambda behind API Gateway, which buffers a response whole and cannot stream one), or the
browser has no EventSource, or the stream fails for good, the page asks for the height every few
seconds and reads the sections when it grew. The page says which it uses in
`<body data-live="sse|poll">`. docs/dashboard.md.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from fedledger.audit import AuditLedger
from fedledger.dashboard.cache import ViewCache
from fedledger.dashboard.live import LiveUpdates
from fedledger.dashboard.render import page, sections
from fedledger.dashboard.views import TaskView, read_view

LedgerOpener = Callable[[], AbstractContextManager[AuditLedger]]

# A few lines of plain JavaScript; no framework.
LIVE_SCRIPT = """
(function () {
  const body = document.body;
  let height = null;
  async function refresh() {
    try {
      const fresh = await fetch("{prefix}/sections", {cache: "no-store"});
      if (fresh.ok) document.getElementById("sections").innerHTML = await fresh.text();
    } catch (error) { /* the next change tries again */ }
  }
  async function poll() {
    try {
      const reply = await fetch("{prefix}/height", {cache: "no-store"});
      const now = (await reply.json()).height;
      if (height !== null && now !== height) await refresh();
      height = now;
      body.dataset.height = String(now);
    } catch (error) { /* the next poll tries again */ }
    setTimeout(poll, {interval});
  }
  function follow() {
    const source = new EventSource("{prefix}/events");
    let greeted = false;
    source.addEventListener("hello", function () {
      if (greeted) refresh();  // reconnected: catch up on what the gap hid
      greeted = true;
      body.dataset.live = "sse";
    });
    source.addEventListener("ledger", function (message) {
      body.dataset.height = String(JSON.parse(message.data).block + 1);
      refresh();
    });
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return;  // it reconnects by itself
      body.dataset.live = "poll";
      poll();
    };
  }
  if (body.dataset.events === "yes" && window.EventSource) { follow(); }
  else { body.dataset.live = "poll"; poll(); }
})();
"""


def dashboard_router(
    open_ledger: LedgerOpener,
    task_id: str,
    *,
    prefix: str = "/dashboard",
    interval: float = 2.0,
    views: ViewCache | None = None,
    live: LiveUpdates | None = None,
) -> APIRouter:
    """The dashboard of `task_id`, each request reading the ledger through a connection from
    `open_ledger`, or, with `views`, through that cache of the task's view kept over one
    connection (a page view then costs a bounded number of queries, dashboard/cache.py). With
    `live` (fed by the app's event follower) the page follows /events instead of polling.
    Raises nothing; a request whose read fails answers 502 naming the error."""
    router = APIRouter(prefix=prefix)
    script = LIVE_SCRIPT.replace("{prefix}", prefix).replace(
        "{interval}", str(round(interval * 1000))
    )
    events = "yes" if live is not None else "no"

    def view() -> TaskView:
        if views is not None:
            return views.view()
        with open_ledger() as ledger:
            return read_view(ledger, task_id)

    def height() -> int:
        with open_ledger() as ledger:
            return ledger.queries.height()

    @router.get("", response_class=HTMLResponse, summary="The task's dashboard")
    async def whole() -> HTMLResponse:
        return await _answer(lambda: page(view(), script, events=events))

    @router.get("/sections", response_class=HTMLResponse, summary="The dashboard's views")
    async def parts() -> HTMLResponse:
        return await _answer(lambda: sections(view()))

    @router.get("/height", summary="The channel's block count")
    async def blocks() -> JSONResponse:
        try:
            return JSONResponse({"height": await run_in_threadpool(height)})
        except Exception as error:  # the ledger's errors, each package's own: all answer 502
            return JSONResponse({"error": str(error)}, status_code=502)

    @router.get("/events", summary="Server-Sent Events: one message per change of the task")
    async def stream() -> Response:
        return _events(live, prefix)

    return router


def _events(live: LiveUpdates | None, prefix: str) -> Response:
    if live is None:
        return JSONResponse(
            {"detail": f"this service does not follow the ledger's events: poll {prefix}/height"},
            status_code=404,
        )
    # An EventSource gives up on a status other than 200: the page then polls.
    if live.closed:
        return JSONResponse(
            {"detail": f"this service is stopping: poll {prefix}/height"}, status_code=503
        )
    if not live.available():
        return JSONResponse(
            {"detail": f"this service is not following the ledger's events now: poll "
             f"{prefix}/height"}, status_code=503
        )  # fmt: skip
    return StreamingResponse(
        live.stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _answer(render: Callable[[], str]) -> HTMLResponse:
    try:
        return HTMLResponse(await run_in_threadpool(render))
    except Exception as error:  # as above: the page says what failed instead of a bare 500
        return HTMLResponse(
            f"<!DOCTYPE html><title>dashboard unavailable</title><p>cannot read the ledger: "
            f"{_escape(str(error))}</p>",
            status_code=502,
        )


def _escape(text: str) -> str:
    from html import escape

    return escape(text)
