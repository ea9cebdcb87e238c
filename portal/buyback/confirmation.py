"""The confirmation of a submission: its invoice schedule and its e-mail."""

from __future__ import annotations

import calendar
from datetime import datetime
from fractions import Fraction

from flask import current_app

from portal.models import (
    BuybackChoice,
    BuybackSubmission,
)
from portal.outbox import email_body, queue_email
from portal.pricing import (
    format_pence,
)

# --- the confirmation -------------------------------------------------------------------------


def invoice_schedule(total_pence: int, year: int) -> list[tuple[str, Fraction, int]]:
    """The invoices for the total of the financial year starting in April of ``year``: each
    month (with its year, "April 2027") and its share, in whole pence. Every share is rounded
    down but the last, which takes what is left, so they add up exactly."""
    parts = []
    for item in current_app.config["BUYBACK_INVOICE_SCHEDULE"].split(","):
        month, _, share = item.partition(":")
        parts.append((_month_of_year(month.strip(), year), Fraction(share.strip())))
    schedule = []
    remaining = total_pence
    for index, (month, share) in enumerate(parts):
        amount = remaining if index == len(parts) - 1 else int(total_pence * share)
        remaining -= amount
        schedule.append((month, share, amount))
    return schedule


def _month_of_year(month: str, year: int) -> str:
    """ "April" in the financial year from April ``year``: "April 2027"; January to March are
    in the year after. A name that is no month is left as it is."""
    for form in ("%B", "%b"):
        try:
            number = datetime.strptime(month, form).month
        except ValueError:
            continue
        return f"{calendar.month_name[number]} {year if number >= 4 else year + 1}"
    return month


def email_confirmation(choice: BuybackChoice, submission: BuybackSubmission) -> None:
    queue_email(
        submission.submitted_by.email,
        f"Buy-back confirmation: {choice.school.name}, {choice.window.year_label}",
        email_body(
            "email/buyback/confirmation.txt",
            school=choice.school,
            window=choice.window,
            submission=submission,
            schedule=invoice_schedule(
                submission.net_pence + submission.vat_pence, choice.window.year
            ),
            format_pence=format_pence,
        ),
    )
