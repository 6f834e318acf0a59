"""One uploaded object → at most one proposal, and an Outcome saying what happened.

Exactly once rests on the ledger, not on this process: the chaincode derives a proposal's id
from the task and the model's SHA-256 and refuses the same model twice (ALREADY_PROPOSED), so
a model already on the ledger (proposed by this watcher before a restart, by another watcher,
by hand, or uploaded again under another key) is an "already-proposed" success.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from fedledger.fabric.errors import FabricError
from fedledger.models.errors import ModelError
from fedledger.proposing import propose_model
from fedledger.registry import ChaincodeRefusalError, Registry, proposal_id_for
from fedledger.registry.refusals import RefusalCode
from fedledger.store.base import ModelStore
from fedledger.store.errors import StoreError
from fedledger.upload.archive import model_bytes
from fedledger.upload.errors import NotAModelError, UploadSourceError
from fedledger.upload.objects import TASK_METADATA, Fetched, UploadedObject

PROPOSED = "proposed"
ALREADY_PROPOSED = "already-proposed"
REFUSED = "refused"
FAILED = "failed"  # transient: not recorded, tried again
RECORDED = (PROPOSED, ALREADY_PROPOSED, REFUSED)

# Refusals that depend on ledger state that changes by itself: tried again, not recorded.
RETRIED_CODES = frozenset(
    {
        RefusalCode.TOO_MANY_OPEN_PROPOSALS,
        RefusalCode.PARENT_NOT_CHAMPION,
        RefusalCode.LEDGER_ERROR,
        RefusalCode.INTERNAL,
    }
)


@dataclass(frozen=True)
class Outcome:
    location: str
    etag: str
    outcome: str
    task: str | None = None
    sha256: str | None = None
    proposal_id: str | None = None
    code: str = ""
    detail: str = ""

    def line(self) -> str:
        """One line for a person: what happened to the object and why."""
        what = self.outcome + (f" {self.proposal_id}" if self.proposal_id else "")
        task = f" (task {self.task})" if self.task else ""
        why = f": {self.code + ' ' if self.code else ''}{self.detail}" if self.detail else ""
        return f"{self.location}{task}: {what}{why}"


class Proposer:
    """Proposes uploaded objects as one organisation (`registry`) into `store`.

    `task` fixes the task; without it an object's task is its `fedledger-task` metadata, or
    else the first folder of its key below the watched prefix (`<task>/.../model.tar.gz`)."""

    def __init__(
        self, registry: Registry, store: ModelStore, *, task: str | None, max_bytes: int
    ) -> None:
        self.registry = registry
        self.store = store
        self.task = task
        self.max_bytes = max_bytes

    def task_for(self, key: str, metadata: Mapping[str, str]) -> str:
        """The task the object is for.

        Raises NotAModelError when metadata names another task than the fixed one, or when
        neither metadata nor key names one."""
        named = metadata.get(TASK_METADATA, "").strip() or None
        if self.task is not None:
            if named is not None and named != self.task:
                raise NotAModelError(
                    f"its metadata names task {named}, this watcher proposes for {self.task} only"
                )
            return self.task
        if named is not None:
            return named
        folder, slash, _ = key.partition("/")
        if slash and folder:
            return folder
        raise NotAModelError(
            f"no task: put it under <prefix>/<task>/, set metadata {TASK_METADATA}, or run "
            "the watcher with --task"
        )

    def handle(self, uploaded: UploadedObject) -> Outcome:
        """What became of `uploaded`; never raises for a problem of the object or the ledger
        (an Outcome says it). Raises nothing of its own."""
        try:
            fetched = uploaded.fetch()
        except UploadSourceError as error:
            return Outcome(uploaded.location, uploaded.etag, FAILED, detail=str(error))
        try:
            task = self.task_for(uploaded.key, fetched.metadata)
        except NotAModelError as error:
            return Outcome(uploaded.location, uploaded.etag, REFUSED, detail=str(error))
        return self._propose(uploaded, fetched, task)

    def _propose(self, uploaded: UploadedObject, fetched: Fetched, task: str) -> Outcome:
        def outcome(
            kind: str,
            *,
            sha256: str | None = None,
            proposal_id: str | None = None,
            code: str = "",
            detail: str = "",
        ) -> Outcome:
            return Outcome(
                uploaded.location, uploaded.etag, kind, task, sha256, proposal_id, code, detail
            )

        try:
            model = model_bytes(uploaded.key, fetched.data, self.max_bytes)
        except NotAModelError as error:
            return outcome(REFUSED, detail=str(error))
        sha256 = hashlib.sha256(model).hexdigest()
        expected = proposal_id_for(task, sha256)
        try:
            if self._on_ledger(expected):
                return outcome(ALREADY_PROPOSED, sha256=sha256, proposal_id=expected)
            proposal = propose_model(self.registry, self.store, task, model)
        except ModelError as error:
            return outcome(REFUSED, sha256=sha256, code="MODEL_MISFIT", detail=str(error))
        except ChaincodeRefusalError as error:
            if error.code == RefusalCode.ALREADY_PROPOSED:
                return outcome(ALREADY_PROPOSED, sha256=sha256, proposal_id=expected)
            kind = FAILED if error.code in RETRIED_CODES else REFUSED
            return outcome(kind, sha256=sha256, code=error.code.value, detail=error.message)
        except (FabricError, StoreError) as error:
            # Another watcher's submit of the same model may have won a conflict with ours.
            if self._quietly_on_ledger(expected):
                return outcome(ALREADY_PROPOSED, sha256=sha256, proposal_id=expected)
            return outcome(FAILED, sha256=sha256, detail=str(error))
        return outcome(PROPOSED, sha256=sha256, proposal_id=proposal.id)

    def _on_ledger(self, proposal_id: str) -> bool:
        try:
            proposal = self.registry.get_proposal(proposal_id)
        except ChaincodeRefusalError as error:
            if error.code == RefusalCode.PROPOSAL_NOT_FOUND:
                return False
            raise
        # An EXPIRED proposal is reopened by proposing the model again (docs/governance.md).
        return proposal.status != "EXPIRED"

    def _quietly_on_ledger(self, proposal_id: str) -> bool:
        try:
            return self._on_ledger(proposal_id)
        except (ChaincodeRefusalError, FabricError):
            return False
