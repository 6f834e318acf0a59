"""Closing expired proposals and changes from the command line: which tasks, and what to say."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from fedledger.cli.common import acting_org, fail, load_profile, out, registry_for
from fedledger.registry import Registry
from fedledger.registry.expiry import Closing

Closer = Callable[[Registry, list[str], datetime], Iterable[Closing]]


def close_for_member(
    run_dir: Path, profile: Path | None, org: str | None, task_id: str | None, close: Closer
) -> list[Closing]:
    """Run `close` (registry, task ids, now) on the task, or on every task `org` is a member of."""
    me = acting_org(load_profile(run_dir, profile), org)
    with registry_for(run_dir, profile, org) as registry:
        tasks = [task_id] if task_id else [t.id for t in registry.all_tasks() if me in t.members]
        return list(close(registry, tasks, datetime.now(UTC)))


def report_closings(closings: list[Closing], kind: str) -> None:
    """One line per record closed; `error:` and exit status 1 naming each refused one."""
    for closing in closings:
        if closing.result != "refused":
            out.print(
                f"{closing.result} {closing.record_id} (task {closing.task_id}, voting ended "
                f"{closing.deadline:%Y-%m-%d %H:%M:%S} UTC)",
                highlight=False,
                markup=False,
            )
    if not closings:
        out.print(f"no pending {kind} is past its deadline")
    refused = [c for c in closings if c.result == "refused"]
    if refused:
        fail("; ".join(f"{c.record_id}: {c.message}" for c in refused))
