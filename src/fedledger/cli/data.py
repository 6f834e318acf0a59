"""`fedledger data`: check and sanitise data files against a task's schema (docs/data.md).

The data stack (pandas, pycountry) is imported inside the commands, so that `--help` stays fast.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fedledger.cli.common import (
    DEFAULT_RUN_DIR,
    OrgOption,
    ProfileOption,
    RunDir,
    TaskOption,
    console,
    fail,
    load_task_schema,
    out,
)

if TYPE_CHECKING:
    from fedledger.schema.conform import Conformed

data_app = typer.Typer(
    help="Check and sanitise data files against a task's schema.", no_args_is_help=True
)

DataFile = Annotated[Path, typer.Argument(help="A CSV (or Parquet) file.")]
LimitOption = Annotated[
    int, typer.Option("--limit", min=0, help="List at most this many findings (0: all).")
]


@data_app.command()
def check(
    data_file: DataFile,
    task: TaskOption,
    limit: LimitOption = 50,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """List every row and field of a data file that is not in the task's agreed shape.

    Each line names the row (in a CSV file the header is row 1), the field, the value and the
    rule it breaks, or what `fedledger data sanitise` would write instead. Exits 1 if there is
    anything to list.
    """
    from fedledger.schema.conform import conform_file

    schema = load_task_schema(task, run_dir, profile, org)
    conformed = conform_file(data_file, schema, target="if present")
    findings = conformed.findings()
    for finding in findings if not limit else itertools.islice(findings, limit):
        out.print(str(finding), highlight=False, markup=False)
    hidden = conformed.refused + conformed.fixable - limit
    if limit and hidden > 0:
        out.print(f"... {hidden} more not listed (--limit {limit}; --limit 0 lists all)")
    out.print(_summary(conformed, data_file), highlight=False, markup=False)
    if conformed.refused or conformed.fixable:
        raise typer.Exit(1)


@data_app.command()
def sanitise(
    data_file: DataFile,
    task: TaskOption,
    output: Annotated[Path, typer.Option("--out", help="The sanitised CSV file to write.")],
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Write the rows that cannot be normalised here (as read, with their row "
            "number and problems) and the others to --out; without it nothing is written "
            "when any row cannot be normalised."
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out and --rejects if they exist.")
    ] = False,
    org: OrgOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Write a data file in the task's agreed shape; the input is never changed.

    Normalises countries declared iso3166-alpha2, case and whitespace of categories, numbers
    written with spaces, and boolean words; reports what it changed, per field and rule.
    """
    from fedledger.schema.sanitise import SanitiseError, sanitise_file

    schema = load_task_schema(task, run_dir, profile, org)
    try:
        result = sanitise_file(data_file, output, schema, rejects=rejects, overwrite=overwrite)
    except SanitiseError as error:
        if error.conformed is not None:
            for finding, _ in zip(error.conformed.findings(fixable=False), range(20), strict=False):
                console.print(f"  {finding}", highlight=False, markup=False)
        fail(str(error))
    changes = result.changes
    out.print(
        f"wrote {output}: {result.written} rows, "
        + (f"{sum(changes.values())} values changed:" if changes else "nothing changed"),
        highlight=False,
        markup=False,
    )
    for (field, rule), count in sorted(changes.items()):
        out.print(f"  {field}: {rule}: {count}", highlight=False, markup=False)
    if rejects is not None:
        out.print(
            f"set aside {result.rejected} row(s) that cannot be normalised in {rejects}",
            highlight=False,
            markup=False,
        )


def _summary(conformed: Conformed, data_file: Path) -> str:
    if not conformed.refused and not conformed.fixable:
        return f"{data_file}: {conformed.rows} rows, all in the task's agreed shape"
    return (
        f"{data_file}: {conformed.rows} rows; {conformed.refused} value(s) cannot be used "
        f"({int(conformed.refused_rows.sum())} rows), {conformed.fixable} value(s) "
        "`fedledger data sanitise` would normalise"
    )
