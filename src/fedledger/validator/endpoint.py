"""`<stateDir>/endpoint.json`: where a running validator can be reached, for status and tests.

Written atomically once the server listens and removed on a clean stop; it lives in its own
module so that reading it costs no import of the evaluation stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ENDPOINT_FILE = "endpoint.json"


def write_endpoint(state_dir: Path, document: dict[str, Any]) -> None:
    path = state_dir / ENDPOINT_FILE
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(document))
    temporary.replace(path)


def remove_endpoint(state_dir: Path) -> None:
    (state_dir / ENDPOINT_FILE).unlink(missing_ok=True)


def read_endpoint(state_dir: Path) -> dict[str, Any]:
    """What a running validator wrote at start-up: its gRPC and metrics addresses, its PID.

    Raises FileNotFoundError, saying how to start one, when none is recorded.
    """
    path = state_dir / ENDPOINT_FILE
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no running validator recorded in {state_dir} (no {ENDPOINT_FILE}): "
            "start one with `fedledger validator serve --config …`"
        ) from None
    return document
