"""Ordering: submitted envelopes cut into batches by count or by BatchTimeout, as Fabric's
block cutter does, and handed one batch at a time to the committer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("fedledger.embedded.orderer")


class BlockCutter:
    def __init__(
        self,
        max_message_count: int,
        batch_timeout: float,
        commit: Callable[[list[bytes]], Awaitable[None]],
    ) -> None:
        self.max_message_count = max_message_count
        self.batch_timeout = batch_timeout
        self._commit = commit
        self._pending: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._batches: asyncio.Queue[list[bytes] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def enqueue(self, envelope: bytes) -> None:
        self._pending.append(envelope)
        if len(self._pending) >= self.max_message_count:
            self.cut()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.batch_timeout, self.cut)

    def cut(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            batch, self._pending = self._pending, []
            self._batches.put_nowait(batch)

    async def stop(self) -> None:
        """Cut what is pending, commit every batch already cut, then stop."""
        self.cut()
        self._batches.put_nowait(None)
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while (batch := await self._batches.get()) is not None:
            try:
                await self._commit(batch)
            except Exception:
                # A block that cannot be written (disk full, database locked) stops the ledger
                # rather than leaving clients to wait for commits that will never come.
                log.exception("block commit failed; stopping the ledger")
                raise
