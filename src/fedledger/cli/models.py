"""`fedledger models`: make a model file fit a task (model_files.py), fetch a task's champion,
verified against the ledger, or find what the ledger knows of a file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    StoreOption,
    fail,
    model_store,
    out,
    registry_for,
)
from fedledger.cli.model_files import check, convert, train
from fedledger.registry import (
    ChaincodeRefusalError,
    Champion,
    RefusalCode,
    Registry,
    proposal_id_for,
)
from fedledger.store.base import ModelStore

models_app = typer.Typer(
    help="Convert, check, train, fetch and verify models.", no_args_is_help=True
)
models_app.command()(convert)
models_app.command()(check)
models_app.command()(train)


def fetch_champion(registry: Registry, store: ModelStore, task_id: str) -> tuple[Champion, bytes]:
    """The task's champion and its bytes, checked against the hash on the ledger (the store
    raises StoreError on a mismatch); ends the command when the task has no champion."""
    champion = registry.find_champion(task_id)
    if champion is None:
        fail(f"task {task_id} has no champion yet: no proposal has been accepted")
    return champion, store.get(champion.uri, champion.model_sha256)


@models_app.command()
def fetch(
    task_id: Annotated[str, typer.Option("--task", help="Task id.")],
    output: Annotated[Path | None, typer.Option("--out", help="Write the model here.")] = None,
    org: OrgOption = None,
    store: StoreOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Fetch the task's champion; its bytes are checked against the hash on the ledger."""
    with registry_for(run_dir, profile, org) as registry:
        champion, data = fetch_champion(registry, model_store(run_dir, store), task_id)
    target = output or Path(f"{task_id}-{champion.model_sha256[:12]}.onnx")
    target.write_bytes(data)
    out.print(
        f"{target}: champion of {task_id} ({champion.proposal_id}), sha256 "
        f"{champion.model_sha256} verified against the ledger"
    )


@models_app.command()
def verify(
    model: Annotated[Path, typer.Argument(help="A model file.")],
    task_id: Annotated[str, typer.Option("--task", help="Task id.")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Is this file the task's champion, a proposal of it, or unknown to the ledger?"""
    try:
        digest = hashlib.sha256(model.read_bytes()).hexdigest()
    except OSError as error:
        fail(f"cannot read {model}: {error}")
    with registry_for(run_dir, profile, org) as registry:
        champion = registry.find_champion(task_id)
        if champion is not None and champion.model_sha256 == digest:
            out.print(f"{model} is the champion of {task_id} ({champion.proposal_id})")
            return
        try:
            proposal = registry.get_proposal(proposal_id_for(task_id, digest))
        except ChaincodeRefusalError as refusal:
            if refusal.code is not RefusalCode.PROPOSAL_NOT_FOUND:
                raise
            fail(f"{model} (sha256 {digest}) was never proposed for task {task_id}")
    out.print(f"{model} is proposal {proposal.id} of {task_id}, status {proposal.status}")
    if proposal.status != "ACCEPTED" or champion is None:
        raise typer.Exit(2)
