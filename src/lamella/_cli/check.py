"""`lamella check [--repair] [--reindex]`: a summary table; exit code 1 while problems remain."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from lamella._setup.check import check as check_instance
from lamella._setup.check_report import KINDS

EXIT_PROBLEMS = 1
_SHOWN = 20  # problems listed one by one; the table counts all of them


@click.command()
@click.option("--repair", is_flag=True, help="Move orphaned files aside and clean up interrupted saves.")
@click.option(
    "--reindex",
    is_flag=True,
    help="Register the stored files that have no record (after losing the database).",
)
@click.option("--name", default=None, help="The instance to check; the current one if omitted.")
def check(repair: bool, reindex: bool, name: str | None) -> None:
    """Check the database, every stored artifact's bytes, orphaned files and interrupted saves."""

    report = check_instance(name, repair=repair, reindex=reindex)
    console = Console(highlight=False, soft_wrap=True)  # long paths stay on one line
    hashed_mb = report.bytes_hashed / 1e6
    console.print(
        f"instance {report.instance}: {report.artifacts_checked} artifact(s) checked "
        f"({hashed_mb:.1f} MB hashed), {report.files_seen} stored file(s) seen in {report.seconds:.1f} s"
    )
    if report.problems:
        table = Table("problem", "found", "repaired", "remaining")
        for kind in KINDS:
            found = [p for p in report.problems if p.kind == kind]
            if found:
                repaired = sum(p.repaired for p in found)
                table.add_row(kind, str(len(found)), str(repaired), str(len(found) - repaired))
        console.print(table)
    for problem in report.problems[:_SHOWN]:
        mark = "repaired" if problem.repaired else "problem"
        console.print(f"{mark}  {problem.kind}  {problem.subject}: {problem.detail}")
        if not problem.repaired:
            console.print(f"          fix: {problem.fix}")
    if len(report.problems) > _SHOWN:
        console.print(f"... and {len(report.problems) - _SHOWN} more (ln.setup.check() returns them all)")
    for note in report.notes:
        console.print(f"note: {note}")
    if report.ok:
        console.print("→ ok" if not report.problems else "→ ok after repairs")
        return
    console.print(f"→ {len(report.remaining)} problem(s) remain")
    sys.exit(EXIT_PROBLEMS)
