"""Command-line tasks: ``flask --app portal db upgrade``, ``flask --app portal seed-demo``,
``flask --app portal outbox deliver``, ``flask --app portal worker``, ``flask --app portal
training remind``."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

# The outbox module itself, its functions looked up when called: a test stands a worker that
# stops after one pass in place of deliver_due.
from portal import outbox
from portal.buyback.closed_figures import keep_closed_windows
from portal.buyback.reminders import send_reminders
from portal.buyback.windows import parse_days
from portal.db import db
from portal.jobs import QUEUES, run_worker
from portal.outbox import MAIL_BACKENDS, DeliveryReport
from portal.register.commands import register_cli
from portal.support.retention import anonymise_closed
from portal.training.commands import training_cli
from portal_seed.commands import seed_demo, seed_scale

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)

db_cli = AppGroup("db", help="Database migrations (Alembic).")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config interpolates %: a URL with an encoded character (a password, say)
    # must have its % doubled to arrive unchanged.
    config.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    return config


def upgrade_database(revision: str = "head") -> None:
    command.upgrade(alembic_config(), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (the latest by default)."""
    upgrade_database(revision)


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ('base' empties it)."""
    command.downgrade(alembic_config(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def revision(message: str, autogenerate: bool) -> None:
    """Write a new migration, by default from the difference between models and database."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@db_cli.command("current")
def current() -> None:
    """Show the database's revision."""
    command.current(alembic_config())


outbox_cli = AppGroup("outbox", help="The e-mail outbox.")
# Messages per pass of the worker: small, so a SIGTERM is answered soon.
PASS_LIMIT = 50


@outbox_cli.command("deliver")
@click.option("--once", is_flag=True, help="Run one pass, say what it did, and stop.")
def deliver(once: bool) -> None:
    """Send the e-mail that is due; without --once, keep at it until stopped (SIGTERM).

    With REDIS_URL set, `flask worker` sends the mail and only --once runs here.
    """
    _check_mail_backend()
    if once:
        click.echo(f"Outbox: {outbox.deliver_due()}.")
        return
    if current_app.config["REDIS_URL"]:
        # Two ways of sending side by side would hide a worker that is not running; and on
        # SQLite, which has no row locks, they could send a message twice.
        raise click.ClickException(
            "REDIS_URL is set, so the job queue sends e-mail: run `flask --app portal worker`"
            " (or `outbox deliver --once` for one pass here and now)."
        )
    _run_outbox_worker(current_app._get_current_object())


def _check_mail_backend() -> None:
    backend = current_app.config["MAIL_BACKEND"]
    if backend not in MAIL_BACKENDS:
        # Said once, at start-up, rather than logged by every pass of a worker.
        raise click.ClickException(f"MAIL_BACKEND must be one of {MAIL_BACKENDS}, not {backend!r}")


def _run_outbox_worker(app: Flask) -> None:
    poll = app.config["OUTBOX_POLL_SECONDS"]
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        # Finish the message in hand rather than leave it sent but not marked as sent.
        stop.set()

    # Signal handlers can only be set from the main thread (not so under some test runners).
    handle_signals = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, request_stop) if handle_signals else None
    click.echo(f"Outbox worker started: a pass every {poll}s; stop it with SIGTERM or Ctrl-C.")
    try:
        while not stop.is_set():
            report = DeliveryReport()
            try:
                # A fresh context per pass: a new session that sees other workers' changes,
                # and whose connection goes back to the pool between passes.
                with app.app_context():
                    report = outbox.deliver_due(limit=PASS_LIMIT)
            except Exception:
                # The database may well come back: keep the worker alive and try again later.
                log.exception("outbox pass failed; trying again in %ss", poll)
            handled = report.sent + report.retried + report.failed
            if handled:
                click.echo(f"Outbox: {report}.")
            # A full pass may have left more due: go again at once rather than sleep.
            if handled < PASS_LIMIT:
                stop.wait(poll)
    except KeyboardInterrupt:
        pass
    finally:
        if handle_signals:
            signal.signal(signal.SIGTERM, previous)
    click.echo("Outbox worker stopped.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Do the jobs that are waiting, then stop.")
@with_appcontext
def worker(burst: bool) -> None:
    """With REDIS_URL: work the job queue (e-mail, register imports) until stopped (SIGTERM
    or Ctrl-C finish the job in hand; a second one stops it at once)."""
    if not current_app.config["REDIS_URL"]:
        raise click.ClickException(
            "REDIS_URL is not set, so there is no job queue: e-mail is sent by"
            " `flask --app portal outbox deliver` and imports run in the web process."
        )
    _check_mail_backend()
    click.echo(
        f"Worker started on {', '.join(QUEUES)}, with the scheduler; stop it with SIGTERM or"
        " Ctrl-C."
    )
    run_worker(current_app._get_current_object(), burst=burst)
    click.echo("Worker stopped.")


support_cli = AppGroup("support", help="CAF officer support requests.")


@support_cli.command("anonymise")
@click.option(
    "--older-than",
    "months",
    type=click.IntRange(min=1),
    default=None,
    help="Months since the request was closed (default: SUPPORT_RETENTION_MONTHS).",
)
def anonymise(months: int | None) -> None:
    """Remove the child's details and free text from long-closed requests."""
    months = months or current_app.config["SUPPORT_RETENTION_MONTHS"]
    count = anonymise_closed(months)
    click.echo(
        f"Anonymised {count} request{'s' if count != 1 else ''} closed over {months} months ago."
    )


buyback_cli = AppGroup("buyback", help="Buy-back windows and reminders.")


@buyback_cli.command("remind")
@click.option(
    "--days",
    default=None,
    help="Days before the deadline, like 14,3, for every window (else each window's own, "
    "else BUYBACK_REMINDER_DAYS).",
)
def remind(days: str | None) -> None:
    """E-mail the people who submit for schools that have not submitted: each reminder once
    per school and window. Lists the schools nobody could be sent to, to telephone."""
    try:
        chosen = parse_days(days) if days is not None else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--days") from error
    report = send_reminders(chosen)
    count = report.reminded
    click.echo(f"Reminded {count} school{'s' if count != 1 else ''}.")
    for run in report.runs:
        click.echo(
            f"  {run.window.cohort.label}, {run.window.year_label}, {run.days_before} "
            f"day{'s' if run.days_before != 1 else ''} before the deadline: "
            f"{len(run.schools)} reminded, {len(run.unreachable)} could not be"
        )
    unreachable = report.unreachable
    if unreachable:
        click.echo(
            f"Could not remind {len(unreachable)} school{'s' if len(unreachable) != 1 else ''}: "
            "nobody to send to (no head teacher account, nor a trust lead for an academy). "
            "Telephone them:"
        )
        for window, school in unreachable:
            click.echo(f"  {school.name} (URN {school.urn}), {window.cohort.label.lower()}")


@buyback_cli.command("keep-figures")
def keep_figures() -> None:
    """Keep the analysis figures of every window past its deadline that has none kept, as
    they stand now: run daily, so that nothing done after a deadline (an offer withdrawn, a
    service's eligibility changed) can move a closed window's figures before anyone looks."""
    count = keep_closed_windows()
    db.session.commit()
    click.echo(f"Kept the figures of {count} closed window{'s' if count != 1 else ''}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(register_cli)
    app.cli.add_command(buyback_cli)
    app.cli.add_command(support_cli)
    app.cli.add_command(training_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(seed_scale)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(worker)
