"""Readiness from what the nodes report (operations endpoints, metrics), never from sleeping."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


class NotReadyError(TimeoutError):
    """A node did not become ready in time; the message names it and what was awaited."""


def healthz(port: int, timeout: float = 1.0) -> bool:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)")


def metric(port: int, name: str, labels: dict[str, str], timeout: float = 1.0) -> float | None:
    """One sample of a Prometheus metric from a node's operations endpoint, or None."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout).text
    except httpx.HTTPError:
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
    """Poll `check` until it returns something truthy; raise naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise NotReadyError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
