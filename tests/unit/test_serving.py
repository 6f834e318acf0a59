"""Serving's logic without a ledger: reading a request's rows, the champion holder's swaps, which
events trigger a refresh, the Lambda's polling and settings (docs/serving.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pandas as pd
import pytest

from fedledger.fabric import ChaincodeEvent
from fedledger.models.inputs import NumericDType
from fedledger.models.synthetic import synthetic_schema
from fedledger.schema.types import Schema
from fedledger.serving.champion import ChampionHolder
from fedledger.serving.errors import RowsError
from fedledger.serving.follower import ChampionPoller, concerns_champion
from fedledger.serving.metrics import ServingMetrics
from fedledger.serving.model import ServedModel
from fedledger.serving.rows import HOW, read_feeds, read_rows

SCHEMA = synthetic_schema()
ROW = {"x0": 0.5, "x1": -1, "x2": 2, "x3": 0, "count": 3, "region": "north"}
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _refused(body: bytes, content_type: str | None = "application/json", **kw: Any) -> RowsError:
    with pytest.raises(RowsError) as caught:
        read_rows(body, content_type, SCHEMA, kw.get("max_rows", 100))
    return caught.value


def test_json_and_csv_rows_read_to_the_same_typed_frame() -> None:
    from_json = read_rows(json.dumps([ROW, ROW]).encode(), "application/json", SCHEMA, 10)
    header = ",".join(ROW)
    line = ",".join(str(v) for v in ROW.values())
    csv = f"{header}\n{line}\n{line}\n".encode()
    from_csv = read_rows(csv, "text/csv; charset=utf-8", SCHEMA, 10)
    assert list(from_json.columns) == list(SCHEMA.feature_names)
    assert from_json.equals(from_csv)
    assert from_json["count"].tolist() == [3.0, 3.0]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"[]", "text/plain", 415, f"unsupported content type 'text/plain': {HOW}"),
        (b"[]", None, 415, f"unsupported content type none: {HOW}"),
        (b"  ", "application/json", 400, f"the request has no rows (empty body): {HOW}"),
        (b"[", "application/json", 400, "the body is not JSON (EOF while parsing a list at line 1 "
         f"column 1): {HOW}"),
        (b"[]", "application/json", 422, f"the request has no rows: {HOW}"),
        (b'{"rows": []}', "application/json", 422,
         f"the body is a JSON dict, not a list of rows: {HOW}"),
        (b"[1]", "application/json", 422, "row 0 is a JSON int, not an object of field: value"),
        (b'[{"x0": [1]}]', "application/json", 422, "row 0, x0: a JSON list is not a value"),
        (b"x0\n", "text/csv", 422, f"the request has no rows: {HOW}"),
    ],
)  # fmt: skip
def test_unreadable_requests_are_refused_with_a_status_and_what_to_send(
    body: bytes, content_type: str | None, status: int, message: str
) -> None:
    error = _refused(body, content_type)
    assert (error.status, error.message) == (status, message)


def test_rows_that_do_not_fit_the_schema_name_the_row_and_field() -> None:
    rows = [ROW, {**ROW, "count": "many"}, {**ROW, "region": "mars"}]
    error = _refused(json.dumps(rows).encode())
    assert error.status == 422
    assert [(p["row"], p["field"], p["value"]) for p in error.problems] == [
        (1, "count", "many"),
        (2, "region", "mars"),
    ]
    assert error.message.startswith("rows do not fit the task's schema: 2 value(s) cannot be used")
    assert "row 1, count 'many'" in error.message


def test_too_many_rows_are_refused_before_they_are_read() -> None:
    error = _refused(json.dumps([ROW] * 3).encode(), max_rows=2)
    assert (error.status, error.message) == (
        413,
        "the request has 3 rows, over this service's 2 limit: send them in several requests",
    )


def _model(proposal_id: str, sha: str) -> ServedModel:
    return ServedModel("t", proposal_id, sha, NOW, "roc_auc", {}, NOW, 0.0, cast(Any, None))


def _champion(proposal_id: str, sha: str) -> Any:
    return SimpleNamespace(proposal_id=proposal_id, model_sha256=sha)


class Ledger:
    """What the holder reads, changed by the test; the loader records what it loaded."""

    def __init__(self) -> None:
        self.champion: Any = None
        self.loaded: list[str] = []
        self.broken = False

    def load(self, champion: Any) -> ServedModel:
        if self.broken:
            raise OSError("store unavailable")
        self.loaded.append(champion.proposal_id)
        return _model(champion.proposal_id, champion.model_sha256)


def test_the_holder_swaps_only_when_the_champion_changes() -> None:
    ledger, metrics = Ledger(), ServingMetrics()
    holder = ChampionHolder("t", lambda: ledger.champion, ledger.load, metrics)
    assert holder.no_champion_message().startswith("the champion of task t is being loaded")
    assert holder.refresh() is None
    assert holder.no_champion_message().startswith("task t has no champion yet")

    ledger.champion = _champion("p-a", "aa")
    first = holder.refresh()
    assert holder.current is first
    assert holder.refresh() is first  # unchanged: not loaded again
    ledger.champion = _champion("p-b", "bb")
    ledger.broken = True
    with pytest.raises(OSError, match="store unavailable"):
        holder.refresh()
    assert holder.current is first  # a failed load leaves the model in service
    ledger.broken = False
    assert holder.refresh() is holder.current
    ledger.champion = None  # revoked, with no earlier champion to return to
    assert holder.refresh() is None
    assert holder.current is None
    assert ledger.loaded == ["p-a", "p-b"]
    assert metrics.swaps._value.get() == 3  # a, b, none


def _event(name: str, payload: object) -> ChaincodeEvent:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ChaincodeEvent(7, "tx", "registry", name, data)


@pytest.mark.parametrize(
    ("event", "concerns"),
    [
        (_event("ProposalDecided", {"taskId": "t", "status": "ACCEPTED"}), True),
        (_event("ProposalDecided", {"taskId": "t", "status": "REJECTED"}), True),
        (_event("ProposalDecided", {"taskId": "other"}), False),
        (_event("ChangeDecided", {"taskId": "t", "type": "revokeChampion"}), True),
        (_event("ChangeDecided", {"taskId": "other", "type": "revokeChampion"}), False),
        (_event("VoteCast", {"taskId": "t"}), False),
        (_event("ProposalSubmitted", {"taskId": "t"}), False),
        (_event("ProposalDecided", b"not json"), True),
    ],
)
def test_which_events_make_the_holder_read_the_champion(
    event: ChaincodeEvent, concerns: bool
) -> None:
    assert concerns_champion(event, "t") is concerns


def test_the_lambda_poller_reads_the_ledger_at_most_every_interval() -> None:
    ledger, metrics = Ledger(), ServingMetrics()
    reads: list[int] = []

    def lookup() -> Any:
        reads.append(1)
        return ledger.champion

    now = [100.0]
    holder = ChampionHolder("t", lookup, ledger.load, metrics)
    poller = ChampionPoller(holder, 30, metrics, timer=lambda: now[0])
    poller.check()
    now[0] += 29
    poller.check()
    assert len(reads) == 1
    now[0] += 2
    ledger.broken, ledger.champion = True, _champion("p-a", "aa")
    poller.check()  # the failure is counted, and the next invocation tries again
    assert metrics.errors.labels(kind="follower")._value.get() == 1
    ledger.broken = False
    poller.check()
    assert holder.current is not None
    assert len(reads) == 3


@pytest.mark.parametrize(
    "rows",
    [
        [ROW, {**ROW, "x0": 3, "count": 2.0, "region": "west"}],  # exact: the fast path
        [ROW, {**ROW, "x0": " 3 ", "region": "North"}],  # normalised cell by cell
        [{**ROW, "extra": "kept out"}],
    ],
)
def test_exact_json_rows_read_as_the_cell_by_cell_reading(rows: list[dict[str, Any]]) -> None:
    from fedledger.schema.conform import conform_frame
    from fedledger.serving.exact_rows import exact_frame

    frame = read_rows(json.dumps(rows).encode(), "application/json", SCHEMA, 10)
    cells = pd.DataFrame.from_records(rows).astype(object)
    slow = conform_frame(cells, SCHEMA, first_row=0, target="ignored").typed_frame()
    assert frame.equals(slow)
    assert frame.dtypes.to_dict() == slow.dtypes.to_dict()
    fast = exact_frame(rows, SCHEMA)
    assert (fast is not None) is (rows[-1].get("region") in ("west", "north"))


MIXED = Schema.from_dict(
    {
        "features": [
            {"name": "x", "type": "float", "nullable": True},
            {"name": "n", "type": "int"},
            {"name": "flag", "type": "bool", "nullable": True},
            {"name": "region", "type": "category", "categories": ["north", "west"],
             "nullable": True},
        ],
        "target": {"name": "label", "type": "category", "classes": ["no", "yes"]},
    }
)  # fmt: skip


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "rows",
    [
        [{"x": 0.5, "n": 2, "flag": True, "region": "north"},
         {"x": None, "n": 3.0, "flag": None, "region": None}],  # exact: straight to arrays
        [{"x": " 1.5 ", "n": 2, "flag": "yes", "region": "North"}],  # cell by cell
    ],
)  # fmt: skip
def test_json_rows_read_to_the_model_inputs_of_their_typed_frame(
    rows: list[dict[str, Any]], dtype: NumericDType
) -> None:
    from fedledger.models.inputs import frame_to_feeds
    from fedledger.serving.exact_rows import exact_feeds

    body = json.dumps(rows).encode()
    feeds = read_feeds(body, "application/json", MIXED, 10, dtype)
    expected = frame_to_feeds(read_rows(body, "application/json", MIXED, 10), MIXED, dtype)
    assert list(feeds) == list(expected)
    for name, values in expected.items():
        assert feeds[name].dtype == values.dtype, name
        assert feeds[name].shape == values.shape == (len(rows), 1), name
        assert pd.Series(feeds[name][:, 0]).equals(pd.Series(values[:, 0])), name
    assert (exact_feeds(rows, MIXED, dtype) is not None) is (rows[0]["region"] == "north")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("columns", "exact"),
    [
        ({"x": [0.5, None], "n": [2, 3], "flag": [True, None], "region": ["west", None]}, True),
        ({"x": [0.5, 1.0], "n": [2, 3], "flag": [True, False], "region": ["North", "west"]},
         False),  # a category spelled otherwise: cell by cell
    ],
)  # fmt: skip
def test_arrow_rows_read_to_the_model_inputs_of_their_typed_frame(
    columns: dict[str, list[Any]], exact: bool, dtype: NumericDType
) -> None:
    import pyarrow as pa

    from fedledger.models.inputs import frame_to_feeds
    from fedledger.serving.arrow_rows import exact_arrow_feeds

    table = pa.table(columns)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    body = sink.getvalue().to_pybytes()
    feeds = read_feeds(body, ARROW, MIXED, 10, dtype)
    expected = frame_to_feeds(read_rows(body, ARROW, MIXED, 10), MIXED, dtype)
    assert list(feeds) == list(expected)
    for name, values in expected.items():
        assert feeds[name].dtype == values.dtype, name
        assert feeds[name].shape == values.shape == (2, 1), name
        assert pd.Series(feeds[name][:, 0]).equals(pd.Series(values[:, 0])), name
    assert (exact_arrow_feeds(table, MIXED, dtype) is not None) is exact


def test_feeds_refuse_what_the_frame_refuses_with_the_same_error() -> None:
    body = json.dumps([ROW, {**ROW, "x0": "many"}]).encode()
    with pytest.raises(RowsError) as from_frame:
        read_rows(body, "application/json", SCHEMA, 10)
    with pytest.raises(RowsError) as from_feeds:
        read_feeds(body, "application/json", SCHEMA, 10, "float32")
    assert from_feeds.value.status == from_frame.value.status == 422
    assert from_feeds.value.message == from_frame.value.message
    assert from_feeds.value.problems == from_frame.value.problems
    assert from_feeds.value.problems[0]["row"] == 1
    assert from_feeds.value.problems[0]["field"] == "x0"


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (True, "x0"),  # a boolean is not a number, though Python counts it as an int
        (float("inf"), "x0"),
        (None, "x0"),  # not nullable
    ],
)
def test_cells_the_fast_path_cannot_take_are_refused_by_the_reading(
    cell: object, problem: str
) -> None:
    error = _refused(json.dumps([{**ROW, "x0": cell}]).encode())
    assert [p["field"] for p in error.problems] == [problem]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "task.yaml"],
         "error: serve uses the champion on the ledger: give the task's id, not task.yaml"),
        (["--task", "t-1", "--max-rows", "0"], "error: --max-rows must be at least 1, not 0"),
        (["--task", "t-1", "--max-body-mb", "0"],
         "error: --max-body-mb must be at least 1, not 0"),
    ],
)  # fmt: skip
def test_serve_refuses_what_it_cannot_serve(args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from fedledger.cli.app import app

    result = CliRunner().invoke(app, ["serve", *args])
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == message


def _arrow(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


ARROW = "application/vnd.apache.arrow.stream"


def test_arrow_rows_read_as_json_rows_do() -> None:
    from fedledger.serving.arrow_rows import arrow_table, exact_arrow_frame

    rows = [ROW, {**ROW, "x0": 3, "count": 2, "region": "west"}]
    from_json = read_rows(json.dumps(rows).encode(), "application/json", SCHEMA, 10)
    body = _arrow(pd.DataFrame(rows))
    assert exact_arrow_frame(arrow_table(body), SCHEMA) is not None
    assert read_rows(body, ARROW, SCHEMA, 10).equals(from_json)
    # Not exact (a category spelled otherwise): read cell by cell, normalised the same way.
    loose = _arrow(pd.DataFrame([{**ROW, "region": " North"}]))
    assert exact_arrow_frame(arrow_table(loose), SCHEMA) is None
    assert read_rows(loose, ARROW, SCHEMA, 10)["region"].tolist() == ["north"]


def test_arrow_rows_that_do_not_fit_name_the_row_and_field() -> None:
    body = _arrow(pd.DataFrame([ROW, {**ROW, "count": "many"}]).astype({"count": str}))
    error = _refused(body, ARROW)
    assert error.status == 422
    assert [(p["row"], p["field"], p["value"]) for p in error.problems] == [(1, "count", "many")]
    garbage = _refused(b"not arrow", ARROW)
    assert garbage.status == 400
    assert garbage.message.startswith("the body is not an Arrow IPC stream (")


class SwappingScorer:
    """Scores as model `name`, and swaps another model in while scoring: the request in
    flight must still answer with the model it started with."""

    def __init__(self, holder: ChampionHolder, name: str, successor: ServedModel | None) -> None:
        self.schema = SCHEMA
        self.dtype = "float64"
        self.holder = holder
        self.name = name
        self.successor = successor

    def score_feeds(self, feeds: dict[str, Any]) -> Any:
        import numpy as np

        from fedledger.models.scoring import Scores

        if self.successor is not None:
            self.holder.current = self.successor
        value = 0.25 if self.name == "p-a" else 0.75
        rows = len(feeds["x0"])
        probabilities = np.tile([1 - value, value], (rows, 1))
        return Scores(labels=np.zeros(rows, dtype=np.int64), probabilities=probabilities)


class AppClient:
    """Requests straight into the ASGI app (httpx's ASGI transport), one event loop each."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, **kw: Any) -> Any:
        import asyncio

        import httpx

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
                return await client.request(method, path, **kw)

        return asyncio.run(call())

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def get(self, path: str) -> Any:
        return self.request("GET", path)


def _client(following: bool = True, max_body: int = 2**20) -> tuple[AppClient, ChampionHolder]:
    from fedledger.serving.app import ServingState, create_app

    ledger, metrics = Ledger(), ServingMetrics()
    holder = ChampionHolder("t", lambda: ledger.champion, ledger.load, metrics)
    state = ServingState(SCHEMA, holder, metrics, lambda: following, max_body_bytes=max_body)
    return AppClient(create_app(state)), holder


def _served(holder: ChampionHolder, name: str, successor: ServedModel | None) -> ServedModel:
    scorer = SwappingScorer(holder, name, successor)
    return ServedModel("t", name, name * 2, NOW, "roc_auc", {}, NOW, 0.0, cast(Any, scorer))


def test_a_request_in_flight_answers_with_the_model_it_started_with() -> None:
    client, holder = _client()
    second = _served(holder, "p-b", None)
    holder.current = _served(holder, "p-a", second)
    answer = client.post("/predict", json=[ROW, ROW])
    assert answer.status_code == 200
    body = answer.json()
    assert (body["proposal_id"], answer.headers["x-fedledger-proposal"]) == ("p-a", "p-a")
    assert body["probabilities"] == [[0.75, 0.25], [0.75, 0.25]]
    assert holder.current is second
    after = client.post("/predict", json=[ROW])
    assert after.json()["proposal_id"] == "p-b"
    assert after.json()["probabilities"] == [[0.25, 0.75]]


def test_without_a_champion_predict_and_model_answer_503_and_readyz_says_why() -> None:
    client, holder = _client(following=False)
    holder.checked = True
    for answer in (client.post("/predict", json=[ROW]), client.get("/model")):
        assert answer.status_code == 503
        assert answer.json()["detail"].startswith("task t has no champion yet")
        assert answer.headers["retry-after"] == "5"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["problems"][1] == "the ledger's event stream is not connected"
    assert client.get("/healthz").json() == {"status": "ok"}
    assert 'fedledger_serving_requests_total{status="503"} 1.0' in client.get("/metrics").text


def test_a_body_over_the_limit_is_refused_unread() -> None:
    client, holder = _client(max_body=100)
    holder.current = _served(holder, "p-a", None)
    body = json.dumps([ROW, ROW]).encode()
    assert len(body) > 100
    answer = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["detail"] == (
        "the body is over this service's 100-byte limit: send the rows in several requests"
    )
    assert answer.headers["x-fedledger-proposal"] == "p-a"
    small = client.post("/predict", json=[{"x0": 1}])
    assert small.status_code == 422


class FakeStream:
    """Events, then (`fail`) a break a retry cannot cure, else waiting until closed."""

    def __init__(self, events: list[ChaincodeEvent], fail: Exception | None) -> None:
        import threading

        self.events = events
        self.fail = fail
        self.closed = threading.Event()

    def __iter__(self) -> Any:
        yield from self.events
        if self.fail is not None:
            raise self.fail
        self.closed.wait(10)

    def close(self) -> None:
        self.closed.set()


def test_the_follower_refreshes_on_decisions_and_starts_over_after_a_failure() -> None:
    import grpc

    from fedledger.fabric import Backoff
    from fedledger.fabric.errors import EventsError
    from fedledger.runtime.health import wait_for
    from fedledger.serving.follower import EventFollower

    ledger, metrics = Ledger(), ServingMetrics()
    holder = ChampionHolder("t", lambda: ledger.champion, ledger.load, metrics)
    starts: list[int] = []

    def events(start: int) -> FakeStream:
        starts.append(start)
        if len(starts) > 1:
            return FakeStream([_event("VoteCast", {"taskId": "t"})], None)
        ledger.champion = _champion("p-a", "aa")
        decided = _event("ProposalDecided", {"taskId": "t", "status": "ACCEPTED"})
        other_task = _event("ProposalDecided", {"taskId": "u", "status": "ACCEPTED"})
        return FakeStream([decided, other_task], EventsError(grpc.StatusCode.UNAVAILABLE, "gone"))

    def height() -> int:
        if starts:  # decided while the first stream was down: found by the restart's read
            ledger.champion = _champion("p-b", "bb")
        return 40 + len(starts)

    follower = EventFollower(holder, events, height, metrics, Backoff(0.01))
    follower.start()
    try:
        wait_for(lambda: ledger.loaded == ["p-a", "p-b"], "p-a, then p-b", 5)
        wait_for(lambda: follower.connected, "connected again", 5)
    finally:
        follower.stop()
    assert starts == [40, 41]  # each stream from the height read before the champion
    assert holder.current is not None
    assert holder.current.proposal_id == "p-b"
    assert metrics.errors.labels(kind="ledger")._value.get() == 1
    assert not follower.connected


def test_the_follower_hands_every_event_to_its_listeners_and_tells_of_each_break() -> None:
    from fedledger.fabric import Backoff
    from fedledger.runtime.health import wait_for
    from fedledger.serving.follower import EventFollower

    ledger, metrics = Ledger(), ServingMetrics()
    holder = ChampionHolder("t", lambda: ledger.champion, ledger.load, metrics)
    read = [_event("VoteCast", {"taskId": "t"}), _event("Heartbeat", {"name": "x", "count": 1})]
    heard: list[ChaincodeEvent] = []
    interruptions: list[bool] = []
    streams = iter([FakeStream(read, OSError("cut")), FakeStream([], None)])
    follower = EventFollower(
        holder, lambda start: next(streams), lambda: 3, metrics, Backoff(0.01),
        listeners=[heard.append], interrupted=[lambda: interruptions.append(True)],
    )  # fmt: skip
    follower.start()
    try:
        wait_for(lambda: len(heard) == 2, "both events heard", 5)
        wait_for(lambda: interruptions == [True], "the break told", 5)
        wait_for(lambda: follower.connected, "connected again", 5)
    finally:
        follower.stop()
    assert heard == read  # whatever the event: the listener decides what concerns it
    assert ledger.loaded == []  # neither concerned the champion
    assert interruptions == [True, True]  # the second: stopping ends the stream too
