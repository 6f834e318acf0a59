"""`fedledger change`: propose, vote on and inspect changes to a task (docs/governance.md).

A change (members, policy, revoking the champion) takes effect when every member approves it;
the chaincode decides, this module only asks and shows. Refusals reach the user as the
chaincode's own message through the command line's error handling.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, cast

import typer
from rich.table import Table

from fedledger.audit.trail import change_subject
from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    fail,
    out,
    registry_for,
)
from fedledger.registry import Change, ChangeStatus, Decision, Policy
from fedledger.schema.task_file import check_policy

change_app = typer.Typer(
    help="Propose, vote on and inspect changes to a task.", no_args_is_help=True
)
propose_app = typer.Typer(
    help="Propose a change to a task; it applies once every member approves.", no_args_is_help=True
)
change_app.add_typer(propose_app, name="propose")

CHANGE_STATUSES: tuple[ChangeStatus, ...] = ("PENDING", "APPLIED", "REJECTED", "EXPIRED")
TaskOption = Annotated[str, typer.Option("--task", help="Task id.")]
MemberOption = Annotated[str, typer.Option("--msp-id", help="The organisation's MSP ID.")]
ReasonOption = Annotated[str, typer.Option(help="Why, for the other members (256 characters).")]
ChangeId = Annotated[str, typer.Argument(help="Change id (c-…).")]


def _print_outcome(verb: str, change: Change) -> None:
    out.print(
        f"{verb} change {change.id} ({change_subject(change)}) on task {change.task_id}: "
        f"{change.status}"
        + (f" ({change.status_reason})" if change.status_reason else "")
        + (
            f"; voting until {change.deadline:%Y-%m-%d %H:%M:%S} UTC"
            if change.status == "PENDING"
            else ""
        ),
        highlight=False,
        markup=False,
    )


@propose_app.command("add-member")
def add_member(
    task_id: TaskOption,
    member: MemberOption,
    reason: ReasonOption = "",
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Propose that an organisation joins the task."""
    with registry_for(run_dir, profile, org) as registry:
        change = registry.propose_change(task_id, "addMember", member=member, reason=reason)
    _print_outcome("proposed", change)


@propose_app.command("remove-member")
def remove_member(
    task_id: TaskOption,
    member: MemberOption,
    reason: ReasonOption = "",
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Propose that an organisation leaves the task (it has no vote on its own removal)."""
    with registry_for(run_dir, profile, org) as registry:
        change = registry.propose_change(task_id, "removeMember", member=member, reason=reason)
    _print_outcome("proposed", change)


@propose_app.command("revoke-champion")
def revoke_champion(
    task_id: TaskOption,
    reason: ReasonOption = "",
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Propose revoking the champion; the task returns to the champion before it, or none."""
    with registry_for(run_dir, profile, org) as registry:
        change = registry.propose_change(task_id, "revokeChampion", reason=reason)
    _print_outcome("proposed", change)


def _bound(option: str, text: str) -> float | None:
    """An optional bound as typed: a number, or None for "none"."""
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        fail(f"{option} {text!r}: give a number, or none for no bound")


@propose_app.command("policy")
def policy(
    task_id: TaskOption,
    quorum: Annotated[int | None, typer.Option(help="Votes needed before a decision.")] = None,
    approval_threshold: Annotated[
        float | None, typer.Option(help="Share of approvals needed, in (0, 1].")
    ] = None,
    min_score: Annotated[str | None, typer.Option(help="Lowest acceptable score, or none.")] = None,
    max_regression: Annotated[
        str | None, typer.Option(help="Largest regression against the champion, or none.")
    ] = None,
    voting_period: Annotated[int | None, typer.Option(help="Voting period in seconds.")] = None,
    max_model_bytes: Annotated[int | None, typer.Option(help="Largest model in bytes.")] = None,
    max_open_proposals: Annotated[
        int | None, typer.Option(help="Open proposals allowed per organisation.")
    ] = None,
    reason: ReasonOption = "",
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Propose a new policy: the options given replace the task's current values."""
    given: dict[str, Any] = {
        "quorum": quorum,
        "approvalThreshold": approval_threshold,
        "votingPeriodSeconds": voting_period,
        "maxModelBytes": max_model_bytes,
        "maxOpenProposalsPerOrg": max_open_proposals,
    }
    updates = {name: value for name, value in given.items() if value is not None}
    for name, option, text in (
        ("minScore", "--min-score", min_score),
        ("maxRegression", "--max-regression", max_regression),
    ):
        if text is not None:
            updates[name] = _bound(option, text)
    if not updates:
        fail("give at least one policy option to change (see --help)")
    with registry_for(run_dir, profile, org) as registry:
        task = registry.get_task(task_id)
        proposed = Policy.from_dict(task.policy.to_dict() | updates, "the proposed policy")
        problems: list[str] = []
        check_policy(proposed.to_dict(), len(task.members), problems, metric=task.metric)
        if problems:
            fail(f"the proposed policy for task {task_id}: {'; '.join(problems)}")
        change = registry.propose_change(task_id, "updatePolicy", policy=proposed, reason=reason)
    _print_outcome("proposed", change)


@change_app.command()
def vote(
    change_id: ChangeId,
    decision: Annotated[str, typer.Argument(help="approve or reject.")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Approve or reject a change as the acting organisation."""
    if decision not in ("approve", "reject"):
        fail(f"decision {decision!r}: approve or reject")
    with registry_for(run_dir, profile, org) as registry:
        change = registry.vote_change(change_id, cast(Decision, decision))
    _print_outcome("approved" if decision == "approve" else "rejected", change)


@change_app.command("list")
def list_changes(
    task_id: Annotated[str | None, typer.Option("--task", help="Only this task's.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Changes (of one task, or of every task) with their status and approvals."""
    if status is not None and status not in CHANGE_STATUSES:
        fail(f"--status {status!r}: one of {', '.join(CHANGE_STATUSES)}")
    with registry_for(run_dir, profile, org) as registry:
        tasks = [task_id] if task_id else [t.id for t in registry.all_tasks()]
        changes = [c for t in tasks for c in registry.all_changes(t) if status in (None, c.status)]
    table = Table("change", "task", "what", "proposer", "status", "approvals", "deadline")
    for change in changes:
        table.add_row(
            change.id,
            change.task_id,
            change_subject(change),
            change.proposer,
            change.status,
            ", ".join(change.approvals),
            f"{change.deadline:%Y-%m-%d %H:%M:%S}",
        )
    out.print(table)


@change_app.command()
def show(
    change_id: ChangeId,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """A change as the ledger holds it, as JSON."""
    with registry_for(run_dir, profile, org) as registry:
        change = registry.get_change(change_id)
    typer.echo(json.dumps(describe_change(change), indent=2))


def describe_change(change: Change) -> dict[str, Any]:
    return {
        "id": change.id,
        "taskId": change.task_id,
        "type": change.type,
        "member": change.member,
        "policy": None if change.policy is None else change.policy.to_dict(),
        "reason": change.reason,
        "proposer": change.proposer,
        "approvals": list(change.approvals),
        "rejections": list(change.rejections),
        "status": change.status,
        "statusReason": change.status_reason,
        "createdAt": change.created_at.isoformat(),
        "deadline": change.deadline.isoformat(),
        "decidedAt": None if change.decided_at is None else change.decided_at.isoformat(),
        "txId": change.transaction_id,
    }


@change_app.command("close-expired")
def close_expired(
    task_id: Annotated[str | None, typer.Option("--task", help="Only this task's.")] = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Close the pending changes whose voting period is over."""
    from fedledger.cli.closing import close_for_member, report_closings
    from fedledger.registry.expiry import close_expired_changes

    closings = close_for_member(run_dir, profile, org, task_id, close_expired_changes)
    report_closings(closings, "change")
