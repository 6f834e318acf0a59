"""The dashboard as routes of the serving app: `app.include_router(dashboard_router(...))`.

    GET /dashboard           the whole page of the task
    GET /dashboard/sections  its four views, for the page to swap in
    GET /dashboard/height    {"height": N}: the channel's block count

Live updates: the page asks for the height every few seconds and fetches the sections again
when it grew. Polling rather than Server-Sent Events, because the same app runs as a Lambda
behind API Gateway (Mangum), which buffers a response whole and cannot stream one; and one
qscc query per open page per interval is cheaper for the peer than an event stream held open
for every open browser tab. docs/dashboard.md.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from fedledger.audit import AuditLedger
from fedledger.dashboard.render import page, sections
from fedledger.dashboard.views import TaskView, read_view

LedgerOpener = Callable[[], AbstractContextManager[AuditLedger]]

# A few lines of plain JavaScript; no framework.
LIVE_SCRIPT = """
(function () {
  let height = null;
  async function poll() {
    try {
      const reply = await fetch("{prefix}/height", {cache: "no-store"});
      const now = (await reply.json()).height;
      if (height !== null && now !== height) {
        const fresh = await fetch("{prefix}/sections", {cache: "no-store"});
        if (fresh.ok) document.getElementById("sections").innerHTML = await fresh.text();
      }
      height = now;
      document.body.dataset.height = String(now);
    } catch (error) { /* the next poll tries again */ }
    setTimeout(poll, {interval});
  }
  poll();
})();
"""


def dashboard_router(
    open_ledger: LedgerOpener, task_id: str, *, prefix: str = "/dashboard", interval: float = 2.0
) -> APIRouter:
    """The dashboard of `task_id`, each request reading the ledger through a connection from
    `open_ledger`. Raises nothing; a request whose read fails answers 502 naming the error."""
    router = APIRouter(prefix=prefix)
    script = LIVE_SCRIPT.replace("{prefix}", prefix).replace(
        "{interval}", str(round(interval * 1000))
    )

    def view() -> TaskView:
        with open_ledger() as ledger:
            return read_view(ledger, task_id)

    def height() -> int:
        with open_ledger() as ledger:
            return ledger.queries.height()

    @router.get("", response_class=HTMLResponse, summary="The task's dashboard")
    async def whole() -> HTMLResponse:
        return await _answer(lambda: page(view(), script))

    @router.get("/sections", response_class=HTMLResponse, summary="The dashboard's views")
    async def parts() -> HTMLResponse:
        return await _answer(lambda: sections(view()))

    @router.get("/height", summary="The channel's block count")
    async def blocks() -> JSONResponse:
        try:
            return JSONResponse({"height": await run_in_threadpool(height)})
        except Exception as error:  # the ledger's errors, each package's own: all answer 502
            return JSONResponse({"error": str(error)}, status_code=502)

    return router


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
