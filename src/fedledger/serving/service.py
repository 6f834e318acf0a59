"""Composing the service from a connection profile: one gateway connection for the service's
life, the task read (and its schema checked against the ledger's hash) once at start, and the
champion followed by events (`follow="events"`, a server) or by polling (`follow="poll"`, a
Lambda).

    service = open_service(profile, "Org1MSP", "credit-risk-1", store)
    service.start()            # the champion is loaded in the background
    app = service_app(service) # the champion's API and the task's dashboard
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import structlog

from fedledger.audit.ledger import AuditLedger
from fedledger.dashboard.live import LiveUpdates
from fedledger.fabric import Backoff, Gateway, Network, connect
from fedledger.fabric.qscc import LedgerQueries
from fedledger.profile import ConnectionProfile
from fedledger.registry import Registry
from fedledger.registry.evaluation import evaluation_task
from fedledger.serving.app import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_ROWS, ServingState
from fedledger.serving.champion import ChampionHolder
from fedledger.serving.follower import ChampionPoller, EventFollower
from fedledger.serving.metrics import ServingMetrics
from fedledger.serving.model import load_model
from fedledger.store.base import ModelStore

log = structlog.get_logger("fedledger.serving")

Follow = Literal["events", "poll"]
DEFAULT_POLL_SECONDS = 30.0


@dataclass
class ChampionService:
    """The state the app serves, and what keeps its champion current."""

    state: ServingState
    gateway: Gateway
    follower: EventFollower | None
    poller: ChampionPoller | None
    audit: Callable[[], AbstractContextManager[AuditLedger]]
    """The task's records and their blocks, read over the service's own connection (the
    dashboard's source)."""
    ledger: AuditLedger
    """The same, kept for the dashboard's cache of the task's view."""
    live: LiveUpdates | None
    """The dashboard's open pages, told of each event the follower reads (None when polling:
    a Lambda cannot stream)."""

    def start(self) -> None:
        """Start following the champion (events: a background thread; poll: a first check
        now, as a Lambda's cold start does). Raises nothing: failures are logged, counted and
        retried."""
        if self.follower is not None:
            self.follower.start()
        if self.poller is not None:
            self.poller.check()

    def close(self) -> None:
        """End the dashboard's event streams, stop following and close the gateway connection.
        Raises nothing."""
        if self.live is not None:
            self.live.close()
        if self.follower is not None:
            self.follower.stop()
        self.gateway.close()


def open_service(
    profile: ConnectionProfile,
    org: str,
    task_id: str,
    store: ModelStore,
    *,
    follow: Follow = "events",
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> ChampionService:
    """The service of `task_id`'s champion acting as `org`, not started.

    Raises ProfileError or MspFolderError when the organisation's identity cannot be read,
    FabricError when the ledger cannot be reached, RegistryError when the task does not exist
    or its schema does not hash to the ledger's record.
    """
    gateway = connect(profile, org)
    try:
        network = gateway.network(profile.channel)
        registry = Registry(network.contract(profile.chaincode))
        task = evaluation_task(registry.get_task(task_id))
    except BaseException:
        gateway.close()
        raise
    metrics = ServingMetrics()
    holder = ChampionHolder(
        task_id,
        lambda: registry.find_champion(task_id),
        lambda champion: load_model(champion, task, store, _utc_now, time.perf_counter),
        metrics,
    )
    follower = poller = live = None
    if follow == "events":
        live = LiveUpdates(task_id)
        follower = _follower(holder, network, profile.chaincode, metrics, live)
    else:
        poller = ChampionPoller(holder, poll_seconds, metrics)
    following = (lambda: follower.connected) if follower is not None else (lambda: True)
    state = ServingState(task.schema, holder, metrics, following, max_rows, max_body_bytes)
    log.info(
        "serving",
        task_id=task_id,
        org=org,
        follow=follow,
        max_rows=max_rows,
        max_body_bytes=max_body_bytes,
    )
    audit = AuditLedger(registry, LedgerQueries(network), profile.channel, profile.chaincode)
    return ChampionService(
        state, gateway, follower, poller, lambda: nullcontext(audit), audit, live
    )


def _follower(
    holder: ChampionHolder,
    network: Network,
    chaincode: str,
    metrics: ServingMetrics,
    live: LiveUpdates,
) -> EventFollower:
    """The process's one follower of the ledger's events: the champion's, and the dashboard's
    open pages'."""
    backoff = Backoff()
    follower = EventFollower(
        holder,
        lambda start: network.chaincode_events(chaincode, start_block=start, backoff=backoff),
        network.block_height,
        metrics,
        backoff,
        listeners=[live.offer],
        interrupted=[live.interrupt],
    )
    live.available = lambda: follower.connected
    return follower


def _utc_now() -> datetime:
    return datetime.now(UTC)
