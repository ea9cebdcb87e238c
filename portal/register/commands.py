"""``flask --app portal register import FILE [--links FILE] [--apply]``, and
``flask --app portal register tidy [--older-than-days N]``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.clock import utcnow
from portal.register.jobs import FileRefused, import_now
from portal.register.jobs import tidy as tidy_imports
from portal.register.report import text_lines

register_cli = AppGroup("register", help="The schools register (the DfE's GIAS extract).")


@register_cli.command("import")
@click.argument("extract", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--links",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="GIAS links file, to find the successors of schools that close.",
)
@click.option(
    "--apply", "apply_changes", is_flag=True, help="Apply the changes (default: a dry run)."
)
def import_extract(extract: Path, links: Path | None, apply_changes: bool) -> None:
    """Check a GIAS establishment extract against the portal's schools, and print what it
    would change; with --apply, make those changes, all in one transaction."""
    try:
        report = import_now(
            extract.read_bytes(),
            extract.name,
            links.read_bytes() if links else None,
            apply=apply_changes,
        )
    except FileRefused as refused:
        for line in text_lines(refused.report, applied=False):
            click.echo(line, err=True)
        raise click.exceptions.Exit(1) from refused
    for line in text_lines(report, applied=apply_changes):
        click.echo(line)
    if not apply_changes:
        click.echo("Dry run: nothing has been changed. Run again with --apply to apply it.")


@register_cli.command("tidy")
@click.option(
    "--older-than-days",
    "days",
    type=click.IntRange(min=0),
    default=None,
    help="Days since the import finished (default: REGISTER_IMPORT_KEEP_DAYS).",
)
def tidy(days: int | None) -> None:
    """Remove the uploaded files of dry runs never applied, and of imports abandoned, over
    N days ago. The imports and their reports stay."""
    days = current_app.config["REGISTER_IMPORT_KEEP_DAYS"] if days is None else days
    count = tidy_imports(timedelta(days=days), utcnow())
    click.echo(
        f"Removed the uploaded files of {count} import{'s' if count != 1 else ''} "
        f"finished or abandoned over {days} day{'s' if days != 1 else ''} ago."
    )
