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
    Proposal,
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
    accepted: Annotated[
        bool,
        typer.Option("--accepted", help="Exit 0 for any accepted model, superseded or not."),
    ] = False,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Is this file the task's current champion, another proposal of it, or unknown?

    Exit status: 0 when the file is the task's current champion (with --accepted: any model the
    task accepted, superseded since or not); 2 when the ledger knows it as something else (a
    superseded champion, named with what superseded it and when, or a pending, rejected,
    expired or revoked proposal); 1 when it was never proposed for the task or cannot be read.
    A deployment script can ship the file on exit status 0 alone.
    """
    try:
        digest = hashlib.sha256(model.read_bytes()).hexdigest()
    except OSError as error:
        fail(f"cannot read {model}: {error}")
    with registry_for(run_dir, profile, org) as registry:
        champion = registry.find_champion(task_id)
        if champion is not None and champion.model_sha256 == digest:
            out.print(f"{model} is the champion of {task_id} ({champion.proposal_id})")
            return
        proposal = _proposal_of(registry, task_id, digest, model)
        if proposal.status != "ACCEPTED":
            out.print(f"{model} is proposal {proposal.id} of {task_id}, status {proposal.status}")
            raise typer.Exit(2)
        superseded = _superseded(registry, champion, proposal.id)
    out.print(
        f"{model} is proposal {proposal.id} of {task_id}, status ACCEPTED, not the champion: "
        f"{superseded}"
    )
    if not accepted:
        raise typer.Exit(2)


def _proposal_of(registry: Registry, task_id: str, digest: str, model: Path) -> Proposal:
    """The proposal of the file for the task; ends the command when there is none."""
    try:
        return registry.get_proposal(proposal_id_for(task_id, digest))
    except ChaincodeRefusalError as refusal:
        if refusal.code is not RefusalCode.PROPOSAL_NOT_FOUND:
            raise
        fail(f"{model} (sha256 {digest}) was never proposed for task {task_id}")


def _superseded(registry: Registry, champion: Champion | None, proposal_id: str) -> str:
    """What took an accepted proposal's place: the next champion in the line, and when."""
    if champion is None:
        return "the task has no champion now"
    line = [*champion.lineage, champion.proposal_id]
    if proposal_id not in line:
        return f"the champion is {champion.proposal_id}"
    successor = registry.get_proposal(line[line.index(proposal_id) + 1])
    when = successor.decided_at.isoformat() if successor.decided_at else "an unknown time"
    return f"superseded by {successor.id} at {when} (the champion is {champion.proposal_id})"
