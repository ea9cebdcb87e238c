"""``flask --app portal training offers``: lapse offers from waiting lists past their expiry,
and offer each freed place to the next person waiting (portal/training/waiting_list.py).

Run every few minutes (deploy/'s timer): nothing depends on it for being right, since pages
and answers treat an expired offer as lapsed the moment it expires; it moves the place on to
the next person, and tells the person whose offer lapsed.
"""

from __future__ import annotations

import click

from portal.training.commands import training_cli
from portal.training.waiting_list import lapse_expired_offers


@training_cli.command("offers")
def offers() -> None:
    """Lapse the offers of places not accepted in time; offer each place to the next person."""
    count = lapse_expired_offers()
    click.echo(f"Lapsed {count} offer{'s' if count != 1 else ''} not accepted in time.")
