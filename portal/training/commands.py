"""``flask --app portal training ...``: training's daily and frequent tasks. ``remind`` is
here; the waiting list's ``offers`` joins the same group from offer_commands.py."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.training.reminders import REMINDER_DAYS, remind

training_cli = AppGroup("training", help="Training: reminders, evaluations and offers.")


@training_cli.command("remind")
@click.option(
    "--days",
    type=click.IntRange(min=1, max=14),
    default=REMINDER_DAYS,
    show_default=True,
    help="Remind attendees of sessions starting within this many days.",
)
def remind_command(days: int) -> None:
    """E-mail a reminder to each confirmed attendee of a session starting soon, and ask each
    attendee marked attended for their evaluation: each once per booking, so running it
    twice sends nothing more."""
    report = remind(days)
    reminded = report.reminders.sent
    asked = report.evaluation_requests.sent
    click.echo(f"Reminded {reminded} attendee{'s' if reminded != 1 else ''}.")
    click.echo(f"Asked {asked} attendee{'s' if asked != 1 else ''} for an evaluation.")


# offer_commands attaches its command to training_cli when imported.
from portal.training import offer_commands  # noqa: E402, F401
