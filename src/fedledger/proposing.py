"""Proposing a model: check it against the task, put it in the store, register it on-chain,
and wait for the members' decision.

One place for the `fedledger propose` command and the demo. The ONNX checks are imported
when a model is proposed, so that importing this module (and the CLI) stays light.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fedledger.registry import ChaincodeRefusalError, Proposal, Registry, Task
from fedledger.registry.errors import RegistryError
from fedledger.registry.evaluation import evaluation_task
from fedledger.store.base import ModelStore

POLL_SECONDS = 0.25
# Validators announce every 6 hours (validator/announcer.py): four missed announcements.
STALE_ANNOUNCEMENT = timedelta(days=1)


class DecisionTimeoutError(RegistryError):
    """A proposal was still pending when the caller stopped waiting; it may yet be decided."""


def propose_model(
    registry: Registry,
    store: ModelStore,
    task_id: str,
    model: bytes,
    *,
    metrics: Mapping[str, float] | None = None,
    warn: Callable[[str], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Proposal:
    """Propose `model` for `task_id` with the task's champion (if any) as its parent; `warn`
    hears of each member whose validator may not vote (`unserved_members`), which does not stop
    the proposal.

    The chaincode is asked first (an evaluated SubmitProposal), so a proposal it refuses stores
    nothing; if it refuses the submit all the same (the ledger changed in between), the object
    this call uploaded is removed again, never one that was there before (another proposal may
    name it).

    Raises ModelError when the model does not fit the task (nothing is stored or proposed),
    ChaincodeRefusalError (a RegistryError) and FabricError from the ledger, StoreError from
    the store."""
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model  # onnx: only when a model is proposed

    task = registry.get_task(task_id)
    check_model(model, evaluation_task(task), SandboxLimits())
    if warn is not None:
        for warning in unserved_members(registry, task, now()):
            warn(warning)
    sha256 = hashlib.sha256(model).hexdigest()
    champion = registry.find_champion(task_id)
    fields: dict[str, Any] = {
        "model_sha256": sha256,
        "size_bytes": len(model),
        "metrics": dict(metrics or {}),
        "parent": champion.proposal_id if champion else None,
    }
    registry.check_proposal(task_id, uri=store.uri_for(sha256), **fields)
    existed = store.exists(sha256)
    uri = store.put(model)
    try:
        return registry.submit_proposal(task_id, uri=uri, **fields)
    except ChaincodeRefusalError:
        if not existed:
            store.delete(sha256)
        raise


def unserved_members(registry: Registry, task: Task, now: datetime) -> list[str]:
    """A sentence for each member of the task whose validator has not announced serving it, or
    not within STALE_ANNOUNCEMENT of `now`: their votes may never come.

    Raises FabricError when the ledger cannot be reached; a chaincode that cannot list
    validators (an older version) is itself the one sentence."""
    try:
        serving = {v.organization: v for v in registry.list_validators(task.id)}
    except RegistryError as error:
        return [f"cannot tell which members' validators serve task {task.id}: {error}"]
    warnings = []
    for member in task.members:
        validator = serving.get(member)
        if validator is None:
            warnings.append(
                f"{member} has no validator serving task {task.id} (none announced): its vote "
                "may not come before the deadline"
            )
        elif now - validator.announced_at > STALE_ANNOUNCEMENT:
            warnings.append(
                f"{member}'s validator last announced serving task {task.id} "
                f"{describe_age(now - validator.announced_at)} ago "
                f"({validator.announced_at:%Y-%m-%d %H:%M} UTC): it may be down"
            )
    return warnings


def describe_age(age: timedelta) -> str:
    """An age in the unit a person would use: "40 minutes", "30 hours", "3 days"."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60)} days"


def votes_in(proposal: Proposal) -> int:
    tally = proposal.tally
    return tally.approve + tally.reject + tally.abstain


def wait_for_decision(
    registry: Registry,
    proposal_id: str,
    timeout: float,
    on_votes: Callable[[Proposal], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Proposal:
    """The proposal once it is no longer pending, read every POLL_SECONDS; `on_votes` sees it
    each time another vote is in.

    Raises DecisionTimeoutError, with the votes in so far, after `timeout` seconds, and the
    registry's and the ledger's errors (RegistryError, FabricError)."""
    deadline = clock() + timeout
    shown = -1
    while True:
        proposal = registry.get_proposal(proposal_id)
        if on_votes is not None and votes_in(proposal) != shown:
            shown = votes_in(proposal)
            on_votes(proposal)
        if not proposal.pending:
            return proposal
        if clock() > deadline:
            raise DecisionTimeoutError(
                f"{proposal_id} was still PENDING after {timeout:.0f} s with "
                f"{votes_in(proposal)} of {len(proposal.electorate)} votes in; `fedledger "
                f"proposal show {proposal_id}` follows it (are the members' validators running?)"
            )
        sleep(POLL_SECONDS)
