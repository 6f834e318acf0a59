"""The chaincode server process: started, dialled, supervised and restarted by the ledger.

The chaincode runs as a service (`fabric-chaincode-node server`) from its source folder,
started through the one supervisor (`runtime.processes`) in the ledger's process group and
recorded in the run folder's process table, so that `network down` and the next `up` find it
even when the ledger itself was killed. If it exits, every transaction in flight on it fails
at once with Fabric's "chaincode stream terminated" error, and the process is started again;
transactions arriving meanwhile wait a bounded time for it rather than failing on a restart
that is about to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import structlog

from fedledger.embedded.chaincode_protocol import (
    ChaincodeError,
    ChaincodeStream,
    Invocation,
    Outcome,
)
from fedledger.embedded.config import EmbeddedConfig
from fedledger.embedded.errors import ChaincodeNotBuiltError
from fedledger.embedded.simulator import TxSimulator
from fedledger.runtime import processes
from fedledger.runtime.chaincode_server import NODE_SERVER, chaincode_server_command
from fedledger.runtime.processes import ProcessRecord, ProcessSpec, ProcessTable

CHAINCODE = "chaincode"

log = structlog.get_logger("fedledger.embedded.chaincode")


def check_built(source: Path) -> None:
    """Raises ChaincodeNotBuiltError, naming what is missing, unless `source` is built."""
    missing = [p for p in (source / "dist", source / NODE_SERVER) if not p.exists()]
    if missing:
        raise ChaincodeNotBuiltError(
            f"the chaincode in {source} is not built ({', '.join(str(p) for p in missing)} "
            f"missing): run `npm ci && npm run build` in {source}"
        )


class ChaincodeRunner:
    def __init__(
        self,
        config: EmbeddedConfig,
        log_path: Path,
        table: ProcessTable,
        *,
        transaction_timeout: float = 30.0,
        restart_wait: float = 10.0,
    ) -> None:
        self.config = config
        self.log_path = log_path
        self.table = table
        self.transaction_timeout = transaction_timeout
        self.restart_wait = restart_wait
        self.address = f"127.0.0.1:{config.chaincode_port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._record: ProcessRecord | None = None
        self._stream: ChaincodeStream | None = None
        self._connected = asyncio.Event()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self, timeout: float = 20.0) -> None:
        check_built(self.config.chaincode_source)
        await self._launch(timeout)
        self._supervisor = asyncio.create_task(self._supervise())

    async def execute(self, invocation: Invocation, simulator: TxSimulator) -> Outcome:
        """Run one transaction on the chaincode. Raises ChaincodeError when the chaincode is not
        running within `restart_wait` (it is restarting), or as `ChaincodeStream.execute` does.
        """
        if not self._connected.is_set():
            try:
                await asyncio.wait_for(self._connected.wait(), self.restart_wait)
            except TimeoutError:
                raise ChaincodeError(
                    f"chaincode {self.config.chaincode_id} is not running (restarting for "
                    f"{self.restart_wait:g} s, see {self.log_path})"
                ) from None
        assert self._stream is not None
        return await self._stream.execute(invocation, simulator, self.transaction_timeout)

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._stream is not None:
            await self._stream.close()
        await self._terminate()
        self.table.remove([CHAINCODE])

    def _spec(self) -> ProcessSpec:
        source = self.config.chaincode_source
        command = chaincode_server_command(
            shutil.which("node") or "node", source, self.address, self.config.chaincode_id
        )
        # The shim logs every transaction at INFO, which costs a fifth of its throughput.
        levels = ("CORE_CHAINCODE_LOGGING_LEVEL", "CORE_CHAINCODE_LOGGING_SHIM")
        quiet = {name: os.environ.get(name, "warning") for name in levels}
        return ProcessSpec(CHAINCODE, command, self.log_path, source, env=quiet, own_session=False)

    async def _launch(self, timeout: float) -> None:
        spec = self._spec()
        process = processes.spawn(spec)
        self._process = process
        self._record = processes.record_of(spec, process)
        self.table.add(self._record)
        log.info("chaincode started", pid=process.pid, address=self.address)
        stream = ChaincodeStream(self.address)
        opening = asyncio.create_task(stream.open(timeout))
        exited = asyncio.create_task(processes.exit_status(process))
        done, _ = await asyncio.wait({opening, exited}, return_when=asyncio.FIRST_COMPLETED)
        if opening not in done:
            opening.cancel()
            raise ChaincodeError(
                f"the chaincode server exited with status {process.returncode} before "
                f"it answered; see {self.log_path}"
            )
        exited.cancel()
        opening.result()
        self._stream = stream
        self._connected.set()

    async def _supervise(self) -> None:
        delay = 0.2
        while not self._stopping:
            assert self._process is not None
            assert self._stream is not None
            exited = asyncio.create_task(processes.exit_status(self._process))
            closed = asyncio.create_task(self._stream.closed.wait())
            await asyncio.wait({exited, closed}, return_when=asyncio.FIRST_COMPLETED)
            self._connected.clear()
            exited.cancel()
            closed.cancel()
            if self._stopping:
                return
            await self._stream.close()
            await self._terminate()
            log.warning(
                "chaincode exited; restarting",
                status=self._process.returncode,
                restarts=self.restarts,
            )
            while not self._stopping:
                await asyncio.sleep(delay)
                try:
                    await self._launch(timeout=20.0)
                    self.restarts += 1
                    delay = 0.2
                    break
                except ChaincodeError as error:
                    await self._terminate()
                    log.exception("chaincode restart failed", error=str(error))
                    delay = min(delay * 2, 5.0)

    async def _terminate(self) -> None:
        """Stop the current process (SIGTERM, SIGKILL after 5 s) without blocking the loop."""
        if self._record is not None:
            await asyncio.to_thread(processes.stop, self._record, 5.0)
