"""Proposing a model: check it against the task, put it in the store, register it on-chain.

One function for the `fedledger propose` command and the demo. The ONNX checks are imported
when a model is proposed, so that importing this module (and the CLI) stays light.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from fedledger.registry import Proposal, Registry
from fedledger.registry.evaluation import evaluation_task
from fedledger.store.base import ModelStore


def propose_model(
    registry: Registry,
    store: ModelStore,
    task_id: str,
    model: bytes,
    *,
    metrics: Mapping[str, float] | None = None,
) -> Proposal:
    """Propose `model` for `task_id` with the task's champion (if any) as its parent.

    Raises ModelError when the model does not fit the task (nothing is stored or proposed),
    RegistryError and FabricError from the ledger, StoreError from the store."""
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model  # onnx: only when a model is proposed

    task = registry.get_task(task_id)
    check_model(model, evaluation_task(task), SandboxLimits())
    uri = store.put(model)
    champion = registry.find_champion(task_id)
    return registry.submit_proposal(
        task_id,
        model_sha256=hashlib.sha256(model).hexdigest(),
        uri=uri,
        size_bytes=len(model),
        metrics=dict(metrics or {}),
        parent=champion.proposal_id if champion else None,
    )
