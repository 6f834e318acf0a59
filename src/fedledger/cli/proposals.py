"""`fedledger propose` and `fedledger proposal`: register models and follow their votes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    StoreOption,
    console,
    fail,
    model_store,
    out,
    registry_for,
)
from fedledger.models.errors import ModelError
from fedledger.proposing import propose_model, votes_in, wait_for_decision
from fedledger.registry import PROPOSAL_STATUSES, Proposal, ProposalStatus, Registry, Vote

proposal_app = typer.Typer(help="Inspect proposals and their votes.", no_args_is_help=True)


def parse_metrics(pairs: list[str]) -> dict[str, float]:
    metrics = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            metrics[name.strip()] = float(value)
        except ValueError:
            fail(f"--metric {pair!r}: write it as name=number, e.g. roc_auc=0.81")
    return metrics


def propose(
    model: Annotated[Path, typer.Argument(help="The ONNX model file.")],
    task_id: Annotated[str, typer.Option("--task", help="Task id.")],
    metric: Annotated[
        list[str] | None, typer.Option(help="Your own metric, name=value (repeatable).")
    ] = None,
    org: OrgOption = None,
    store: StoreOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Wait for the members' decision and show it: exit status 0 when accepted, "
            "1 otherwise.",
        ),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="With --wait: stop waiting after this many seconds (default: until "
            "the voting deadline)."
        ),
    ] = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Check a model against the task, put it in the store and register its hash on-chain."""
    try:
        model_bytes = model.read_bytes()
    except OSError as error:
        fail(f"cannot read {model}: {error}")
    own_metrics = parse_metrics(metric or [])
    with registry_for(run_dir, profile, org) as registry:
        try:
            proposal = propose_model(
                registry,
                model_store(run_dir, store),
                task_id,
                model_bytes,
                metrics=own_metrics,
                warn=lambda text: console.print(f"warning: {text}", markup=False, highlight=False),
            )
        except ModelError as error:
            fail(f"{model} does not fit task {task_id}, nothing was proposed: {error}")
        out.print(
            f"proposed {proposal.id} (sha256 {proposal.model_sha256[:12]}…), voting until "
            f"{proposal.deadline:%Y-%m-%d %H:%M:%S} UTC; follow it with "
            f"`fedledger proposal show {proposal.id}`"
        )
        if wait:
            await_decision(registry, proposal, timeout)


def await_decision(registry: Registry, proposal: Proposal, timeout: float | None) -> None:
    """Wait for the decision, show it with the votes, and exit 1 unless it is ACCEPTED."""
    if timeout is None:
        timeout = max(0.0, (proposal.deadline - dt.datetime.now(dt.UTC)).total_seconds()) + 5
    decided = wait_for_decision(
        registry,
        proposal.id,
        timeout,
        lambda p: console.print(f"  {votes_in(p)} of {len(p.electorate)} votes in"),
    )
    out.print(describe(decided))
    out.print(votes_table(decided, registry.get_votes(decided.id)))
    if decided.status != "ACCEPTED":
        raise typer.Exit(1)


@proposal_app.command("list")
def list_proposals(
    task_id: Annotated[str | None, typer.Option("--task", help="Only this task's.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Proposals with their status and tally."""
    if status is not None and status not in PROPOSAL_STATUSES:
        fail(f"--status {status!r}: one of {', '.join(PROPOSAL_STATUSES)}")
    chosen: ProposalStatus | None = status
    with registry_for(run_dir, profile, org) as registry:
        proposals = list(registry.all_proposals(task_id=task_id, status=chosen))
    table = Table("proposal", "task", "proposer", "status", "approve", "reject", "abstain")
    for p in proposals:
        table.add_row(
            p.id,
            p.task_id,
            p.proposer,
            p.status,
            str(p.tally.approve),
            str(p.tally.reject),
            str(p.tally.abstain),
        )
    out.print(table)


@proposal_app.command()
def show(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (p-…).")],
    history: Annotated[bool, typer.Option(help="Also every state it went through.")] = False,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """A proposal, each organisation's vote and, with --history, its audit trail."""
    with registry_for(run_dir, profile, org) as registry:
        proposal = registry.get_proposal(proposal_id)
        votes = registry.get_votes(proposal_id)
        states = registry.proposal_history(proposal_id) if history else ()
    out.print(describe(proposal))
    out.print(votes_table(proposal, votes))
    for state in states:
        tally = state.tally
        out.print(
            f"  {state.transaction_id[:12]}…  {state.status:9} approve {tally.approve} "
            f"reject {tally.reject} abstain {tally.abstain}"
            + (f" unavailable {tally.unavailable}" if tally.unavailable else "")
        )


def votes_table(proposal: Proposal, votes: Sequence[Vote]) -> Table:
    table = Table("organisation", "decision", proposal.metric, "rows", "reason")
    for vote in votes:
        score = vote.metrics.get(proposal.metric)
        table.add_row(
            vote.voter,
            vote.decision,
            "-" if score is None else f"{score:.4f}",
            str(vote.holdout_rows),
            vote.reason,
        )
    return table


def describe(proposal: Proposal) -> str:
    return (
        f"{proposal.id}  task {proposal.task_id}  proposed by {proposal.proposer}\n"
        f"  model sha256 {proposal.model_sha256}  ({proposal.size_bytes:,} bytes)\n"
        f"  {proposal.uri}\n"
        f"  status {proposal.status}"
        + (f" ({proposal.status_reason})" if proposal.status_reason else "")
        + f"  deadline {proposal.deadline:%Y-%m-%d %H:%M:%S} UTC"
    )


@proposal_app.command()
def decide(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (p-…).")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Settle a proposal as its recorded votes decide (validators also do this)."""
    with registry_for(run_dir, profile, org) as registry:
        decided = registry.decide(proposal_id)
        votes = registry.get_votes(proposal_id)
    out.print(describe(decided))
    out.print(votes_table(decided, votes))


@proposal_app.command("close-expired")
def close_expired(
    task_id: Annotated[str | None, typer.Option("--task", help="Only this task's.")] = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Close the pending proposals whose voting period is over (validators also do this)."""
    from fedledger.cli.closing import close_for_member, report_closings
    from fedledger.registry.expiry import close_expired as close_all

    closings = close_for_member(run_dir, profile, org, task_id, close_all)
    report_closings(closings, "proposal")
