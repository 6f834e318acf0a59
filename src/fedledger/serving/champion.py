"""The champion in service, and the one place it changes.

`ChampionHolder.current` is a single reference to an immutable ServedModel (or None). A request
reads it once and scores with what it read; `refresh` loads a new champion off to the side and
then replaces the reference in one assignment, so a request never sees half a swap and no two
rows of one response come from different models. Refreshes are serialised: two decisions in
quick succession load at most what the ledger says last.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from fedledger.registry.records import Champion
from fedledger.serving.metrics import ServingMetrics
from fedledger.serving.model import ServedModel

log = structlog.get_logger("fedledger.serving")

ChampionLookup = Callable[[], Champion | None]
ModelLoader = Callable[[Champion], ServedModel]


class ChampionHolder:
    def __init__(
        self, task_id: str, lookup: ChampionLookup, load: ModelLoader, metrics: ServingMetrics
    ) -> None:
        self.task_id = task_id
        self._lookup = lookup
        self._load = load
        self._metrics = metrics
        self._refreshing = threading.Lock()
        self.current: ServedModel | None = None
        self.checked = False  # the ledger's champion was read at least once

    def refresh(self) -> ServedModel | None:
        """Read the task's champion from the ledger and, if it is not the model in service,
        load it and swap it in (a task whose champion was revoked to none serves nothing).

        Raises what the lookup and the loader raise (FabricError, RegistryError, StoreError,
        ModelError); the model in service is then unchanged.
        """
        with self._refreshing:
            champion = self._lookup()
            self.checked = True
            served = self.current
            if champion is None:
                if served is not None:
                    self._swap(None, f"task {self.task_id} has no champion any more")
                return None
            if served is not None and (served.proposal_id, served.sha256) == (
                champion.proposal_id,
                champion.model_sha256,
            ):
                return served
            with self._metrics.load_seconds.time():
                loaded = self._load(champion)
            self._swap(loaded, "champion loaded")
            return loaded

    def _swap(self, model: ServedModel | None, why: str) -> None:
        previous = self.current
        self.current = model  # the swap: one reference assignment
        self._metrics.swaps.inc()
        self._metrics.serving.set(0 if model is None else 1)
        log.info(
            why,
            task_id=self.task_id,
            proposal_id=None if model is None else model.proposal_id,
            sha256=None if model is None else model.sha256,
            load_seconds=None if model is None else round(model.load_seconds, 3),
            previous=None if previous is None else previous.proposal_id,
        )

    def no_champion_message(self) -> str:
        """Why there is nothing to serve, for a 503."""
        if not self.checked:
            return f"the champion of task {self.task_id} is being loaded: retry shortly"
        return (
            f"task {self.task_id} has no champion yet: no proposal has been accepted (or the "
            "champion was revoked); predictions resume as soon as one is"
        )
