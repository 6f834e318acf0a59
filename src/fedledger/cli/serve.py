"""`fedledger serve`: an HTTP service scoring rows with the task's champion (docs/serving.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    StoreOption,
    acting_org,
    fail,
    load_profile,
    model_store,
    out,
)
from fedledger.task_source import is_task_file

DEFAULT_PORT = 8080


SHUTDOWN_SECONDS = 3


def serve(
    task: Annotated[str, typer.Option("--task", help="Task id on the ledger.")],
    org: OrgOption = None,
    host: Annotated[str, typer.Option(help="Listen on this address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen on this port.")] = DEFAULT_PORT,
    max_rows: Annotated[int, typer.Option(help="Refuse requests with more rows (413).")] = 100_000,
    max_body_mb: Annotated[
        int, typer.Option(help="Refuse request bodies over this many MiB (413).")
    ] = 64,
    store: StoreOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Serve predictions of the task's champion over HTTP, swapped when the ledger decides.

    POST /predict takes rows as JSON (a list of objects) or CSV (text/csv), checked against the
    task's schema, and answers the scores with the proposal id and SHA-256 of the model that
    made them. The champion is fetched from the store and verified against the ledger's hash;
    a new one (accepted, or restored by a revocation) is loaded in the background and swapped
    in atomically. Also GET /model, /healthz, /readyz, /metrics, /docs (OpenAPI) and
    /dashboard (the task's history).
    """
    from fedledger.serving.app import service_app
    from fedledger.serving.service import open_service

    if is_task_file(task):
        fail(f"serve uses the champion on the ledger: give the task's id, not {task}")
    if max_rows < 1:
        fail(f"--max-rows must be at least 1, not {max_rows}")
    if max_body_mb < 1:
        fail(f"--max-body-mb must be at least 1, not {max_body_mb}")
    loaded = load_profile(run_dir, profile)
    service = open_service(
        loaded,
        acting_org(loaded, org),
        task,
        model_store(run_dir, store),
        max_rows=max_rows,
        max_body_bytes=max_body_mb * 2**20,
    )
    try:
        service.start()
        server = _server(service_app(service), host, port)
        out.print(f"serving the champion of {task} on http://{host}:{port} (API at /docs)")
        try:
            server.run()
        except SystemExit:  # uvicorn's way of saying it could not bind, after logging why
            fail(f"cannot listen on {host}:{port} (the reason is logged above)")
    finally:
        service.close()


def _server(app: Any, host: str, port: int) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # An open dashboard's event stream never ends by itself: give it this long.
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)
