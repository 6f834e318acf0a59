"""`fedledger serve` on every backend: a real uvicorn server answering a stream of requests
from several threads while a new champion is accepted and then revoked; bad input; and the same
app as a Lambda behind API Gateway (docs/serving.md)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from tests.integration.ports import free_port
from tests.integration.serving_support import (
    ROWS,
    SCHEMA,
    ServeProcess,
    accept,
    models,
    new_task,
    revoke_champion,
    wait_champion_seen,
)

from fedledger.aws.serving_handler import make_handler
from fedledger.models.scoring import Scorer
from fedledger.runtime.health import wait_for
from fedledger.serving.service import open_service
from fedledger.store.factory import open_store

pytestmark = [pytest.mark.ledger, pytest.mark.slow]
FEATURES = list(SCHEMA.feature_names)
SAMPLE = ROWS.iloc[900:920][FEATURES].reset_index(drop=True)
SWAP_WITHIN = 15.0  # seconds from a committed decision to the new model in service


def _json_rows(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


class RequestStream:
    """Threads posting the same rows until stopped; every answer is kept."""

    def __init__(self, url: str, threads: int = 3) -> None:
        self.url = url
        self.answers: list[tuple[float, int, dict[str, Any], dict[str, str]]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def __enter__(self) -> RequestStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self) -> None:
        body = _json_rows(SAMPLE)
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                answer = client.post(self.url + "/predict", json=body)
                with self._lock:
                    self.answers.append(
                        (time.monotonic(), answer.status_code, answer.json(), dict(answer.headers))
                    )


@pytest.fixture
def served(ledger: Any, tmp_path: Path) -> Iterator[tuple[ServeProcess, str, Path]]:
    store = tmp_path / "store"
    task_id = new_task(ledger)
    server = ServeProcess(ledger, tmp_path, task_id, store, free_port())
    try:
        yield server, task_id, store
    finally:
        server.stop()


def test_champions_swap_under_load_without_a_failed_or_mixed_answer(
    ledger: Any, served: tuple[ServeProcess, str, Path]
) -> None:
    server, task_id, store = served
    first_model, second_model = models(task_id)
    expected = {
        sha: Scorer(m, SCHEMA).score(SAMPLE) for sha, m in _by_sha(first_model, second_model)
    }

    wait_for(lambda: httpx.get(server.url + "/readyz").status_code == 503, "readyz 503", 10)
    empty = httpx.post(server.url + "/predict", json=_json_rows(SAMPLE))
    assert empty.status_code == 503
    assert empty.json()["detail"].startswith(f"task {task_id} has no champion yet")
    assert empty.headers["retry-after"] == "5"

    first = accept(ledger, store, task_id, first_model)
    server.wait_serving(first, SWAP_WITHIN)
    assert httpx.get(server.url + "/readyz").json() == {"ready": True}

    with RequestStream(server.url) as stream:
        time.sleep(1)
        second = accept(ledger, store, task_id, second_model)
        server.wait_serving(second, SWAP_WITHIN)
        time.sleep(1)
        revoke_champion(ledger, task_id)
        server.wait_serving(first, SWAP_WITHIN)
        time.sleep(1)

    statuses = [status for _, status, _, _ in stream.answers]
    assert statuses
    assert set(statuses) == {200}, set(statuses)
    order = []
    for _, _, body, headers in sorted(stream.answers, key=lambda answer: answer[0]):
        assert headers["x-fedledger-proposal"] == body["proposal_id"]
        assert headers["x-fedledger-model-sha256"] == body["model_sha256"]
        scores = expected[body["model_sha256"]]
        assert scores.probabilities is not None
        # The whole answer is the named model's: no row scored by the other one.
        assert np.abs(np.array(body["probabilities"]) - scores.probabilities).max() < 1e-6
        if not order or order[-1] != body["proposal_id"]:
            order.append(body["proposal_id"])
    # Answers ordered by completion may interleave briefly at a swap; each model served a run.
    assert order[0] == first, order
    assert order[-1] == first, order
    assert second in order, order

    metrics = httpx.get(server.url + "/metrics").text
    assert "fedledger_serving_model_swaps_total 3.0" in metrics
    assert "fedledger_serving_errors_total{" not in metrics  # followed without a restart
    assert f'fedledger_serving_requests_total{{status="200"}} {len(statuses)}.0' in metrics
    model = httpx.get(server.url + "/model").json()
    assert model["proposal_id"] == first
    assert model["task"] == task_id
    assert model["metric"] == "roc_auc"
    assert model["scores"] == {"Org2MSP": 0.9, "Org3MSP": 0.9}
    assert model["sha256"] == _by_sha(first_model)[0][0]

    dashboard = httpx.get(server.url + "/dashboard")  # the task's history, from the same service
    assert dashboard.status_code == 200
    assert f'data-proposal="{second}"' in dashboard.text


def test_bad_requests_are_refused_naming_the_row_and_field(
    ledger: Any, served: tuple[ServeProcess, str, Path]
) -> None:
    server, task_id, store = served
    first_model, _ = models(task_id)
    first = accept(ledger, store, task_id, first_model)
    server.wait_serving(first, SWAP_WITHIN)
    predict = server.url + "/predict"
    rows = _json_rows(SAMPLE.iloc[:3])
    number = next(f.name for f in SCHEMA.features if f.type in ("float", "int"))
    rows[1][number] = "lots"

    bad = httpx.post(predict, json=rows)
    assert bad.status_code == 422
    assert bad.headers["x-fedledger-proposal"] == first
    [problem] = bad.json()["problems"]
    assert problem["row"] == 1
    assert problem["field"] == number
    assert problem["value"] == "lots"
    assert f"row 1, {number} 'lots'" in bad.json()["detail"]

    csv_text = SAMPLE.iloc[:2].to_csv(index=False)
    lines = csv_text.splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index(number)] = "lots"
    broken_csv = "\n".join([lines[0], lines[1], ",".join(cells)]) + "\n"
    csv_bad = httpx.post(predict, content=broken_csv, headers={"content-type": "text/csv"})
    assert csv_bad.status_code == 422
    assert csv_bad.json()["problems"][0]["row"] == 3  # the header is row 1

    csv_ok = httpx.post(predict, content=csv_text, headers={"content-type": "text/csv"})
    assert csv_ok.status_code == 200
    assert csv_ok.json()["rows"] == 2

    wrong_type = httpx.post(predict, content=b"x", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    assert wrong_type.json()["detail"].startswith("unsupported content type 'text/plain': send")

    empty = httpx.post(predict, content=b"", headers={"content-type": "application/json"})
    assert empty.status_code == 400
    assert empty.json()["detail"].startswith("the request has no rows (empty body)")

    missing = httpx.post(predict, json=[{k: v for k, v in rows[0].items() if k != number}])
    assert missing.status_code == 422
    assert missing.json()["problems"][0] == {
        "row": None,
        "field": number,
        "value": "",
        "problem": "missing column: the schema has this field",
    }

    not_rows = httpx.post(predict, json={"rows": rows})
    assert not_rows.status_code == 422
    assert not_rows.json()["detail"].startswith("the body is a JSON dict, not a list of rows")

    openapi = httpx.get(server.url + "/openapi.json").json()
    content = openapi["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/csv", "application/vnd.apache.arrow.stream"}
    metrics = httpx.get(server.url + "/metrics").text
    assert 'fedledger_serving_requests_total{status="422"} 4.0' in metrics


def test_serve_names_an_unknown_task(ledger: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fedledger.cli.app import app

    profile = ["--profile", str(ledger.profile.path), "--store", str(tmp_path)]
    result = CliRunner().invoke(app, ["serve", "--task", "nope-1", "--port", "0", *profile])
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        "error: query refused: task nope-1 does not exist; list tasks with ListTasks"
    )


def test_serve_says_when_it_cannot_listen(ledger: Any, tmp_path: Path) -> None:
    import socket

    from typer.testing import CliRunner

    from fedledger.cli.app import app

    task_id = new_task(ledger)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        where = ["--profile", str(ledger.profile.path), "--store", str(tmp_path)]
        args = ["serve", "--task", task_id, "--port", str(port), *where]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()).endswith(
        f"error: cannot listen on 127.0.0.1:{port} (the reason is logged above)"
    )


def test_the_app_as_a_lambda_behind_api_gateway(ledger: Any, tmp_path: Path) -> None:
    store = tmp_path / "store"
    task_id = new_task(ledger)
    first_model, second_model = models(task_id)
    first = accept(ledger, store, task_id, first_model)
    wait_champion_seen(ledger, "Org2MSP", task_id, first)
    service = open_service(
        ledger.profile, "Org2MSP", task_id, open_store(store), follow="poll", poll_seconds=0.5
    )
    try:
        handler = make_handler(service)  # the cold start: the champion is loaded here
        answer = handler(_api_gateway_event("POST", "/predict", _json_rows(SAMPLE)), None)
        assert answer["statusCode"] == 200, answer
        body = json.loads(answer["body"])
        assert body["proposal_id"] == first
        assert answer["headers"]["x-fedledger-proposal"] == first
        assert len(body["predictions"]) == len(SAMPLE)

        second = accept(ledger, store, task_id, second_model)

        def serving_second() -> bool:  # once Org2's peer has the decision and the poll ran
            model = handler(_api_gateway_event("GET", "/model", None), None)
            return bool(json.loads(model["body"])["proposal_id"] == second)

        wait_for(serving_second, f"the Lambda app serving {second}", 30)

        http_api = handler(_http_api_event("GET", "/model"), None)  # API Gateway v2
        assert http_api["statusCode"] == 200
        assert json.loads(http_api["body"])["proposal_id"] == second

        refused = handler(_api_gateway_event("POST", "/predict", [{"nope": 1}]), None)
        assert refused["statusCode"] == 422
        assert "missing column" in refused["body"]

        dashboard = handler(_http_api_event("GET", "/dashboard"), None)
        assert dashboard["statusCode"] == 200
        assert f'data-proposal="{first}"' in dashboard["body"]
    finally:
        service.close()


def _by_sha(*blobs: bytes) -> list[tuple[str, bytes]]:
    import hashlib

    return [(hashlib.sha256(blob).hexdigest(), blob) for blob in blobs]


def _api_gateway_event(method: str, path: str, body: Any) -> dict[str, Any]:
    """A REST API (v1) proxy event, as API Gateway delivers it to Lambda."""
    headers = {
        "content-type": "application/json",
        "host": "abc.execute-api.eu-west-1.amazonaws.com",
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": "/prod" + path,
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def _http_api_event(method: str, path: str) -> dict[str, Any]:
    """An HTTP API (v2) event, as API Gateway delivers it to Lambda."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "abc.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "test"},
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }  # fmt: skip
