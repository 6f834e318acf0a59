"""`fedledger task`: create and inspect tasks (model lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    fail,
    load_profile,
    out,
    registry_for,
)
from fedledger.registry import Champion, Policy, Task
from fedledger.schema.types import Schema, SchemaError

task_app = typer.Typer(help="Create and inspect tasks.", no_args_is_help=True)

POLICY_DEFAULTS: dict[str, Any] = {
    "approvalThreshold": 0.5,
    "minScore": None,
    "maxRegression": None,
    "votingPeriodSeconds": 3600,
    "maxModelBytes": 64 * 1024 * 1024,
    "maxOpenProposalsPerOrg": 3,
}


def read_spec(path: Path, members: list[str]) -> dict[str, Any]:
    """A task file (YAML or JSON): id, description, schema (inline or a file), metric, policy."""
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        fail(f"cannot read the task file {path}: {error}")
    if not isinstance(spec, dict):
        fail(f"{path}: a task file is a mapping with id, schema, metric and policy")
    for field in ("id", "schema", "metric"):
        if field not in spec:
            fail(f"{path}: `{field}` is missing")
    schema = spec["schema"]
    if isinstance(schema, str):
        schema_path = (path.parent / schema).resolve()
        try:
            schema = json.loads(schema_path.read_text())
        except (OSError, ValueError) as error:
            fail(f"{path}: schema file {schema_path}: {error}")
    try:
        Schema.from_dict(schema)
    except SchemaError as error:
        fail(f"{path}: schema: {error}")
    chosen = spec.get("members", members)
    policy = {**POLICY_DEFAULTS, "quorum": len(chosen), **spec.get("policy", {})}
    return {**spec, "schema": schema, "members": chosen, "policy": policy}


@task_app.command()
def create(
    spec_file: Annotated[Path, typer.Argument(help="Task file (YAML or JSON).")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Create a task; the acting organisation must be one of its members."""
    members = load_profile(run_dir, profile).msp_ids
    spec = read_spec(spec_file, members)
    with registry_for(run_dir, profile, org) as registry:
        task = registry.create_task(
            spec["id"],
            schema=spec["schema"],
            metric=spec["metric"],
            members=spec["members"],
            policy=Policy.from_dict(spec["policy"], f"{spec_file}: policy"),
            description=spec.get("description", ""),
        )
    out.print(f"created task {task.id} (schema {task.schema_sha256[:12]}…)")


@task_app.command("list")
def list_tasks(
    org: OrgOption = None, run_dir: RunDir = DEFAULT_RUN_DIR, profile: ProfileOption = None
) -> None:
    """Every task on the ledger."""
    with registry_for(run_dir, profile, org) as registry:
        tasks = [(task, registry.find_champion(task.id)) for task in registry.all_tasks()]
    table = Table("task", "metric", "members", "quorum", "champion")
    for task, champion in tasks:
        table.add_row(
            task.id,
            task.metric,
            ", ".join(task.members),
            str(task.policy.quorum),
            champion.proposal_id if champion else "-",
        )
    out.print(table)


@task_app.command()
def show(
    task_id: Annotated[str, typer.Argument(help="Task id.")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """A task, its policy and its champion (with each member's score on it), as JSON."""
    with registry_for(run_dir, profile, org) as registry:
        task = registry.get_task(task_id)
        champion = registry.find_champion(task_id)
    out.print_json(data=describe(task, champion))


def describe(task: Task, champion: Champion | None) -> dict[str, Any]:
    return {
        "id": task.id,
        "description": task.description,
        "metric": task.metric,
        "higherIsBetter": task.higher_is_better,
        "members": list(task.members),
        "schemaSha256": task.schema_sha256,
        "policy": task.policy.to_dict(),
        "champion": None if champion is None else describe_champion(task, champion),
    }


def describe_champion(task: Task, champion: Champion) -> dict[str, Any]:
    """The champion, its members' scores (the base of their vetoes) and who has none yet."""
    return {
        "proposalId": champion.proposal_id,
        "modelSha256": champion.model_sha256,
        "uri": champion.uri,
        "since": champion.since.isoformat(),
        "scores": dict(sorted(champion.scores.items())),
        "unscored": [m for m in task.members if m not in champion.scores],
        "lineage": list(champion.lineage),
    }
