"""`fedledger task`: create and inspect tasks (model lines)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    acting_org,
    console,
    fail,
    load_profile,
    out,
    registry_for,
)
from fedledger.profile import ConnectionProfile, ProfileError
from fedledger.registry import Champion, Policy, ServingValidator, Task, Vote
from fedledger.schema.task_file import (
    POLICY_DEFAULTS,
    TaskFileCheck,
    TaskSpec,
    dump_yaml,
    read_task_file,
)

__all__ = ["POLICY_DEFAULTS", "task_app"]

task_app = typer.Typer(help="Create and inspect tasks.", no_args_is_help=True)

SpecFile = Annotated[Path, typer.Argument(help="Task file (YAML or JSON), docs/task-file.md.")]


@task_app.command()
def validate(
    spec_file: SpecFile,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Check a task file offline and print the task it describes, defaults filled in.

    Needs no network: the connection profile, when there is one, only supplies the default
    members. Exits 1 and lists every problem, each with its field path, if the file is wrong.
    """
    members, source, notes = _offline_members(run_dir, profile)
    check = read_task_file(spec_file, default_members=members, members_source=source)
    spec = _require_valid(check, notes)
    header = [
        f"{spec_file} is a valid task file; `fedledger task create` would submit this task,",
        "with every default filled in.",
        f"schema SHA-256: {spec.schema.sha256()}",
        *(f"note: {note}" for note in [*notes, *check.notes]),
    ]
    typer.echo("".join(f"# {line}\n" for line in header) + dump_yaml(spec.to_document()), nl=False)


@task_app.command()
def create(
    spec_file: SpecFile,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Create a task; the acting organisation must be one of its members.

    The task file gets the checks of `task validate` first; nothing is submitted unless it passes.
    """
    loaded = load_profile(run_dir, profile)
    creator = acting_org(loaded, org)
    check = read_task_file(
        spec_file,
        default_members=loaded.msp_ids,
        members_source=f"the connection profile ({', '.join(loaded.msp_ids)})",
    )
    if check.spec is not None and check.spec.members and creator not in check.spec.members:
        check = TaskFileCheck(
            check.source,
            None,
            (
                f"members does not include {creator}, the organisation creating the task "
                "(--org): add it to members or create the task as one of them",
            ),
            check.notes,
        )
    spec = _require_valid(check, [], creating=True)
    with registry_for(run_dir, profile, org) as registry:
        task = registry.create_task(
            spec.id,
            schema=spec.schema.to_dict(),
            metric=spec.metric,
            members=list(spec.members or loaded.msp_ids),
            policy=Policy.from_dict(spec.policy, f"{spec_file}: policy"),
            description=spec.description,
        )
    out.print(f"created task {task.id} (schema {task.schema_sha256[:12]}…)")


@task_app.command()
def init(
    from_file: Annotated[
        Path, typer.Option("--from", help="A training file (CSV or Parquet) to draft from.")
    ],
    target: Annotated[str, typer.Option(help="The column the model predicts.")],
    out_file: Annotated[Path, typer.Option("--out", help="The task file to write.")] = Path(
        "task.yaml"
    ),
    task_id: Annotated[
        str | None, typer.Option("--id", help="The task id (default: from the file name).")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="The metric (default: roc_auc, accuracy or rmse).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
) -> None:
    """Draft a task file from a training file, for the members to review.

    Each column becomes a feature with its type, the categories seen (a column named like
    "country" whose values are countries is declared iso3166-alpha2) and, in comments, the
    ranges observed; the file says what was inferred and what the members must decide.
    """
    from fedledger.schema.conform import read_cells
    from fedledger.schema.draft import checked, draft_task, task_id_from

    if out_file.exists() and not overwrite:
        fail(f"--out {out_file} exists: remove it, choose another name, or pass --overwrite")
    cells, _ = read_cells(from_file)
    draft = draft_task(
        cells,
        target,
        task_id or task_id_from(from_file.name.split(".")[0]),
        metric,
        from_file.name,
    )
    problems = checked(draft)
    if problems:
        fail(f"the draft is not a valid task file, nothing was written: {'; '.join(problems)}")
    header = [
        f"Drafted by `fedledger task init` from {from_file.name} ({len(cells)} rows).",
        "Inferred from the data:",
        *(f"  {line}" for line in draft.inferred),
        "For the members to decide before `fedledger task create`:",
        *(f"  {line}" for line in draft.decide),
    ]
    text = "".join(f"# {line}\n" for line in header) + dump_yaml(draft.document)
    out_file.write_text(text, encoding="utf-8")
    console.print(
        f"wrote {escape(str(out_file))}: {len(draft.document['schema']['features'])} features; "
        f"{len(draft.decide)} {'thing' if len(draft.decide) == 1 else 'things'} to decide are "
        "listed at its top; check it with "
        f"`fedledger task validate {escape(str(out_file))}`",
        highlight=False,
    )


def _offline_members(
    run_dir: Path, profile: Path | None
) -> tuple[list[str] | None, str, list[str]]:
    """The members `task create` would default to, if a connection profile is at hand."""
    path = profile or run_dir / "connection-profile.yaml"
    if profile is None and not path.exists():
        return None, "", []
    try:
        loaded = ConnectionProfile.load(path)
    except ProfileError as error:
        if profile is not None:
            fail(str(error))
        return (
            None,
            "",
            [f"the connection profile {path} cannot be read ({error}), so it is not used"],
        )
    return loaded.msp_ids, f"the connection profile {path} ({', '.join(loaded.msp_ids)})", []


def _require_valid(check: TaskFileCheck, notes: list[str], *, creating: bool = False) -> TaskSpec:
    """The checked task, or every problem on stderr and exit status 1."""
    if check.ok and check.spec is not None:
        return check.spec
    count = len(check.problems)
    console.print(
        f"[red]error:[/red] {escape(check.source)}: "
        f"{count} problem{'' if count == 1 else 's'}"
        + (", nothing was submitted" if creating else "")
    )
    for problem in check.problems:
        console.print(f"  - {escape(problem)}", highlight=False)
    for note in [*notes, *check.notes]:
        console.print(f"  note: {escape(note)}", highlight=False)
    raise typer.Exit(1)


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
    """A task, its schema, its policy, its champion (with each member's score on it) and each
    member's validator, as JSON."""
    with registry_for(run_dir, profile, org) as registry:
        task = registry.get_task(task_id)
        champion = registry.find_champion(task_id)
        validators = registry.list_validators(task_id)
    out.print_json(data=describe(task, champion, validators))


@task_app.command()
def scores(
    task_id: Annotated[str, typer.Argument(help="Task id.")],
    csv_path: Annotated[
        Path | None,
        typer.Option("--csv", help="Also write the matrix to this CSV file.", dir_okay=False),
    ] = None,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Every member's score of every proposal of a task (the cross-site matrix)."""
    from fedledger.registry.scores import score_matrix

    with registry_for(run_dir, profile, org) as registry:
        matrix = score_matrix(registry, task_id)
    table = Table("proposal", "status", "proposer", *matrix.organizations)
    table.title = f"{task_id}: each organisation's {matrix.task.metric} on its own holdout"
    for row in matrix.rows:
        cells = [_cell(row.votes.get(member)) for member in matrix.organizations]
        table.add_row(row.proposal.id, row.proposal.status, row.proposal.proposer, *cells)
    out.print(table)
    if csv_path is not None:
        try:
            with csv_path.open("w", encoding="utf-8", newline="") as stream:
                matrix.write_csv(stream)
        except OSError as error:
            fail(f"cannot write {csv_path}: {error.strerror}")
        console.print(f"wrote {csv_path}")


def _cell(vote: Vote | None) -> str:
    if vote is None:
        return "-"
    if vote.decision == "unavailable":  # no score: the model's bytes never reached it
        return "unavailable"
    if vote.decision == "abstain" or vote.score is None:
        return "abstain"
    return f"{vote.score:.4f}" + (" reject" if vote.decision == "reject" else "")


def describe(
    task: Task, champion: Champion | None, validators: Sequence[ServingValidator] = ()
) -> dict[str, Any]:
    """The task as `task show` prints it; `validators` maps each member to the validator it
    announced serving the task (null: none)."""
    serving = {v.organization: v for v in validators}
    return {
        "id": task.id,
        "description": task.description,
        "metric": task.metric,
        "higherIsBetter": task.higher_is_better,
        "members": list(task.members),
        "schemaSha256": task.schema_sha256,
        "schema": task.schema,
        "policy": task.policy.to_dict(),
        "champion": None if champion is None else describe_champion(task, champion),
        "validators": {m: describe_validator(serving.get(m)) for m in task.members},
    }


def describe_validator(validator: ServingValidator | None) -> dict[str, Any] | None:
    if validator is None:
        return None
    return {
        "servingSince": validator.since.isoformat(),
        "evaluatorVersion": validator.evaluator_version,
        "lastAnnounced": validator.announced_at.isoformat(),
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


@task_app.command()
def history(
    task_id: Annotated[str, typer.Argument(help="Task id.")],
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Every version of the task record and of its champion, oldest first, with what made it."""
    from fedledger.audit.trail import causes, task_events

    with registry_for(run_dir, profile, org) as registry:
        events = task_events(registry, task_id)
    print_events([e for e in events if e.kind in ("task", "champion")], causes(events))


def print_events(events: list[Any], why: dict[str, str]) -> None:
    """One line per event: time, event, what changed, and the decision that made it."""
    from fedledger.audit.trail import iso

    for event in events:
        cause = why.get(event.transaction_id, "")
        out.print(
            f"{iso(event.timestamp)}  {event.event:17} {event.summary}"
            + (f"  [{cause}]" if cause else "")
            + f"  tx {event.transaction_id}",
            highlight=False,
            markup=False,
        )
