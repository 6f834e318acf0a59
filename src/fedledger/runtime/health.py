"""Readiness from what the nodes report (operations endpoints, metrics), never from sleeping.

The operations endpoints are plain HTTP on loopback, so the standard library's client serves:
an HTTP library would cost an import and a CA bundle load per call that `network status` pays.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

from fedledger.runtime.errors import RuntimeLayerError

T = TypeVar("T")


class NotReadyError(RuntimeLayerError, TimeoutError):
    """A node did not become ready in time; the message names it and what was awaited."""


def _get(port: int, path: str, timeout: float) -> str | None:
    """The body of a 200 answer from the operations endpoint on `port`, or None."""
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with direct.open(f"http://127.0.0.1:{port}{path}", timeout=timeout) as reply:
            return str(reply.read().decode()) if reply.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def healthz(port: int, timeout: float = 1.0) -> bool:
    return _get(port, "/healthz", timeout) is not None


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)")


def metric(port: int, name: str, labels: dict[str, str], timeout: float = 1.0) -> float | None:
    """One sample of a Prometheus metric from a node's operations endpoint, or None."""
    text = _get(port, "/metrics", timeout)
    if text is None:
        return None
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match.group("name") != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group("labels") or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group("value"))
    return None


def wait_for(check: Callable[[], T | None], what: str, timeout: float, interval: float = 0.1) -> T:
    """Poll `check` until it returns something truthy.

    Raises NotReadyError, naming `what`, when `timeout` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise NotReadyError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
