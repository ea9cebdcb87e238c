"""``flask --app portal seed-demo`` and ``flask --app portal seed-scale``: added to the
portal's command line by ``portal.cli``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.auth.two_factor import DEMO_TOTP_SECRET
from portal.config import PRODUCTION


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the fictional council's demo data. Safe to run again; refused in production."""
    if current_app.config["PORTAL_ENV"] == PRODUCTION:
        raise click.ClickException("seed-demo refuses to run when PORTAL_ENV=production")
    # Imported when the command runs: every app adds these commands, and only a seed needs
    # the generators and their data.
    from portal_seed.demo import seed

    counts = seed()
    click.echo(
        "Demo data ready: "
        + ", ".join(f"{count} {name}" for name, count in counts.items())
        + ". Password for every demo account: portal-demo-2026. Council demo accounts' "
        + f"authenticator secret: {DEMO_TOTP_SECRET}"
    )


@click.command("seed-scale")
@click.option(
    "--factor",
    type=float,
    default=1.0,
    show_default=True,
    help="1 is about 600 schools and 6,000 users; 10 is the benchmark's 6,000 schools.",
)
@with_appcontext
def seed_scale(factor: float) -> None:
    """Generate a large council's invented data on top of the demo, for load tests. Refused
    in production, and on a database where it has already run."""
    # Imported when the command runs, as seed-demo's are.
    from portal_seed.scale import Refused, describe, generate, plan_for

    try:
        plan_for(factor)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--factor") from error
    try:
        counts = generate(factor, progress=click.echo)
    except Refused as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Generated: {describe(counts)}. Password for every account: portal-demo-2026.")
