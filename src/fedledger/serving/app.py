"""The HTTP app: `POST /predict`, `GET /model`, `/healthz`, `/readyz`, `/metrics` (FastAPI; its
OpenAPI document at `/openapi.json`, rendered at `/docs`).

Each predict request reads the model in service once, before anything else, and answers with
that model's scores and identity (body and headers): a champion swapped in meanwhile serves the
next request, never half of this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from fedledger import __version__
from fedledger.schema.types import Schema
from fedledger.serving.champion import ChampionHolder
from fedledger.serving.errors import RowsError
from fedledger.serving.json_rows import JsonRowDecoder
from fedledger.serving.metrics import ServingMetrics
from fedledger.serving.model import ServedModel
from fedledger.serving.rows import read_feeds

if TYPE_CHECKING:
    from fedledger.serving.service import ChampionService

log = structlog.get_logger("fedledger.serving")

PROPOSAL_HEADER = "X-Fedledger-Proposal"
SHA256_HEADER = "X-Fedledger-Model-Sha256"
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_BODY_BYTES = 64 * 2**20
# A few rows are scored on the event loop (well under a millisecond): a hop to the thread pool
# would cost about as much as the work. Larger batches go to the pool, off the loop.
INLINE_BODY_BYTES = 16 * 1024

_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object"}},
                "example": [{"feature": 1.5}],
            },
            "text/csv": {"schema": {"type": "string"}, "example": "feature\n1.5\n"},
            "application/vnd.apache.arrow.stream": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    }
}


@dataclass
class ServingState:
    """What the app serves: the task's schema, the champion holder, metrics, and how to tell
    whether the champion is being followed (the event stream is connected, or polling)."""

    schema: Schema
    holder: ChampionHolder
    metrics: ServingMetrics
    following: Callable[[], bool]
    max_rows: int = DEFAULT_MAX_ROWS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    json_rows: JsonRowDecoder | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.json_rows = JsonRowDecoder.for_schema(self.schema)


def service_app(service: ChampionService) -> FastAPI:
    """The champion's API (`create_app`) with the task's dashboard at /dashboard
    (docs/dashboard.md), both over the service's one ledger connection: the task's view kept
    block by block, and live pages fed by the service's event follower where it has one.
    Raises nothing."""
    from fedledger.dashboard.cache import ViewCache
    from fedledger.dashboard.routes import dashboard_router

    task_id = service.state.holder.task_id
    app = create_app(service.state)
    views = ViewCache(service.ledger, task_id)
    app.include_router(dashboard_router(service.audit, task_id, views=views, live=service.live))
    return app


def create_app(state: ServingState) -> FastAPI:
    """The app serving `state`'s champion. Raises nothing: every failure of a request is an
    HTTP answer."""
    app = FastAPI(
        title=f"fedledger: the champion of task {state.holder.task_id}",
        version=__version__,
        description="Scores rows with the task's champion, verified against the ledger.",
    )

    @app.post("/predict", openapi_extra=_PREDICT_BODY, summary="Score rows with the champion")
    async def predict(request: Request) -> Response:
        started = time.perf_counter()
        model = state.holder.current  # this request's model, whatever is swapped in meanwhile
        response = await _predict(state, model, request)
        state.metrics.requests.labels(status=str(response.status_code)).inc()
        if response.status_code == 200:
            state.metrics.latency.observe(time.perf_counter() - started)
        return response

    @app.get("/model", summary="The model in service")
    def model() -> Response:
        served = state.holder.current
        if served is None:
            return _problem(503, state.holder.no_champion_message())
        return JSONResponse(served.describe(), headers=_identity(served))

    @app.get("/healthz", summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: a model loaded, the champion followed")
    def readyz() -> Response:
        problems = _unready(state)
        if problems:
            return JSONResponse({"ready": False, "problems": problems}, status_code=503)
        return JSONResponse({"ready": True})

    @app.get("/metrics", summary="Prometheus metrics")
    def metrics() -> Response:
        return Response(state.metrics.exposition(), media_type="text/plain; version=0.0.4")

    return app


def _unready(state: ServingState) -> list[str]:
    problems = []
    if state.holder.current is None:
        problems.append(state.holder.no_champion_message())
    if not state.following():
        problems.append("the ledger's event stream is not connected")
    return problems


async def _predict(state: ServingState, model: ServedModel | None, request: Request) -> Response:
    if model is None:
        return _problem(503, state.holder.no_champion_message())
    content_type = request.headers.get("content-type")
    try:
        body = await _body(request, state.max_body_bytes)
        if len(body) <= INLINE_BODY_BYTES:
            answer = _score(state, model, body, content_type)
        else:
            answer = await run_in_threadpool(_score, state, model, body, content_type)
    except RowsError as error:
        log.info("rows refused", status=error.status, error=error.message)
        return _problem(error.status, error.message, error.problems, model)
    return Response(
        msgspec.json.encode(answer), media_type="application/json", headers=_identity(model)
    )


async def _body(request: Request, limit: int) -> bytes:
    """The body, read no further than `limit` bytes: a client cannot make the service hold
    more than that in memory for one request."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_big(limit)
    chunks = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_big(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(limit: int) -> RowsError:
    return RowsError(
        413,
        f"the body is over this service's {limit:,}-byte limit: send the rows in several requests",
    )


def _score(
    state: ServingState, model: ServedModel, body: bytes, content_type: str | None
) -> dict[str, Any]:
    feeds = read_feeds(
        body, content_type, state.schema, state.max_rows, model.scorer.dtype, state.json_rows
    )
    rows = len(next(iter(feeds.values())))
    scores = model.score(feeds)
    state.metrics.rows.inc(rows)
    return {
        "task": model.task_id,
        "proposal_id": model.proposal_id,
        "model_sha256": model.sha256,
        "rows": rows,
        **scores,
    }


def _identity(model: ServedModel) -> dict[str, str]:
    return {PROPOSAL_HEADER: model.proposal_id, SHA256_HEADER: model.sha256}


def _problem(
    status: int,
    message: str,
    problems: list[dict[str, object]] | None = None,
    model: ServedModel | None = None,
) -> Response:
    body: dict[str, Any] = {"detail": message}
    if problems:
        body["problems"] = problems
    headers = {"Retry-After": "5"} if status == 503 else {}
    return JSONResponse(
        body, status_code=status, headers=headers | (_identity(model) if model else {})
    )
