"""Live updates of the dashboard as Server-Sent Events, fed by the service's one event follower.

`fedledger serve` already follows the ledger's chaincode events to keep its champion current
(serving/follower.py); that follower hands every event to `LiveUpdates.offer`, which tells each
open page that the task changed. So a thousand open pages cost the peer nothing more than the
one stream the service holds anyway, and a page learns of a change as soon as the service does.

Each page has its own bounded queue. A message only says "the ledger has something new for
this task, up to block N": a page whose queue is full already has a message waiting that will
make it read the views again, so a further one is dropped, never queued without end behind a
slow client. A comment line every `heartbeat` seconds keeps proxies from closing an idle stream
and lets the server notice a page that went away; a closed page's queue is removed when its
stream ends.

When the follower's stream breaks, events may be missed until it is open again: `interrupt`
ends every page's stream, and a page that asks again is refused while the follower is not
connected (`available`), so it falls back to polling rather than wait for messages that may
never come; a page that reconnects once the follower is back reads the views again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable

from fedledger.fabric import ChaincodeEvent

# `retry`: a page whose stream ended asks again after a second (browsers wait ~3 s).
HELLO = "retry: 1000\nevent: hello\ndata: {}\n\n"
HEARTBEAT = ": heartbeat\n\n"
DEFAULT_QUEUE = 8
DEFAULT_HEARTBEAT = 15.0

_Client = tuple[asyncio.AbstractEventLoop, "asyncio.Queue[str | None]"]


def concerns_task(event: ChaincodeEvent, task_id: str) -> bool:
    """Whether `event` may have changed what the dashboard of `task_id` shows: its payload names
    the task (`taskId`, or `taskIds` for a validator's announcement). An unreadable payload
    counts as yes: a needless refresh costs one cheap read. Raises nothing."""
    try:
        payload = json.loads(event.payload)
    except ValueError:
        return True
    if not isinstance(payload, dict):
        return True
    return payload.get("taskId") == task_id or task_id in (payload.get("taskIds") or ())


class LiveUpdates:
    """The open pages of one task's dashboard, and what tells them the ledger changed."""

    def __init__(
        self,
        task_id: str,
        *,
        queue_size: int = DEFAULT_QUEUE,
        heartbeat: float = DEFAULT_HEARTBEAT,
        available: Callable[[], bool] = lambda: True,
    ) -> None:
        self.task_id = task_id
        self.available = available
        """Whether the events are being followed now (the follower is connected)."""
        self.queue_size = queue_size
        self.heartbeat = heartbeat
        self._clients: set[_Client] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the service is stopping (a new page is then told to poll)."""
        return self._closed

    @property
    def clients(self) -> int:
        """The number of open streams."""
        with self._lock:
            return len(self._clients)

    def offer(self, event: ChaincodeEvent) -> None:
        """Tell every open page about `event` if it concerns the task. Called from the
        follower's thread. Raises nothing."""
        if not concerns_task(event, self.task_id):
            return
        data = json.dumps({"block": event.block_number, "event": event.event_name})
        self._send(f"event: ledger\ndata: {data}\n\n")

    def interrupt(self) -> None:
        """End every open stream, the pages will ask again (the follower's stream broke:
        what they would have heard meanwhile is lost). Raises nothing."""
        self._send(None)

    def close(self) -> None:
        """End every open stream (the service is stopping); later streams end at once.
        Raises nothing."""
        with self._lock:
            self._closed = True
        self._send(None)

    def _send(self, message: str | None) -> None:
        with self._lock:
            clients = list(self._clients)
        for loop, queue in clients:
            try:
                loop.call_soon_threadsafe(_put, queue, message)
            except RuntimeError:  # that page's event loop is closed: the server stopped
                self._remove((loop, queue))

    def _remove(self, client: _Client) -> None:
        with self._lock:
            self._clients.discard(client)

    async def stream(self) -> AsyncIterator[str]:
        """The event stream of one page: a hello (the page is then subscribed: nothing
        committed after it is missed), a message per change, a heartbeat comment when idle.
        Ends when the service closes; the page's queue goes with it. Raises nothing."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(self.queue_size)
        client = (asyncio.get_running_loop(), queue)
        with self._lock:
            if self._closed:
                return
            self._clients.add(client)
        try:
            yield HELLO
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), self.heartbeat)
                except TimeoutError:
                    yield HEARTBEAT
                    continue
                if message is None:
                    return
                yield message
        finally:
            self._remove(client)


def _put(queue: asyncio.Queue[str | None], message: str | None) -> None:
    if message is None:  # the end of the stream must arrive, even behind a full queue
        while queue.full():
            queue.get_nowait()
    if not queue.full():
        queue.put_nowait(message)
