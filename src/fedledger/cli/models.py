"""`fedledger models`: fetch a task's champion, verified against the ledger, or check a file."""

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
from fedledger.registry import ChaincodeRefusalError, RefusalCode, proposal_id_for

models_app = typer.Typer(help="Fetch and verify models.", no_args_is_help=True)


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
        champion = registry.find_champion(task_id)
        if champion is None:
            fail(f"task {task_id} has no champion yet: no proposal has been accepted")
        data = model_store(run_dir, store).get(champion.uri, champion.model_sha256)
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
