"""The directory as CSV, for council staff to download."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.access import Principal, contact_scope
from portal.db import db, utcnow
from portal.models import Contact
from portal.phones import national
from portal.spreadsheets import text_cell, to_csv

CSV_COLUMNS = [
    "Name",
    "Job title",
    "Role",
    "Helps with",
    "Phone",
    "E-mail",
    "Out of hours",
    "Areas",
    "Last checked",
    "Last checked by",
]


def directory_csv(contacts: Iterable[Contact]) -> str:
    def row(contact: Contact) -> list[str]:
        return [
            text_cell(value)
            for value in (
                contact.name,
                contact.job_title or "",
                contact.role.label,
                contact.help_with,
                national(contact.phone),
                contact.email,
                contact.out_of_hours or "",
                contact.coverage,
                contact.last_checked_at.date().isoformat(),
                contact.last_checked_by.display_name if contact.last_checked_by else "",
            )
        ]

    return to_csv(CSV_COLUMNS, (row(contact) for contact in contacts))


@dataclass(frozen=True)
class Export:
    filename: str
    body: str


def export_directory(who: Principal, *, with_retired: bool) -> Export:
    """Every contact ``who`` may see as CSV, by role and name: the active ones, and the
    retired too if asked for by someone who may see them."""
    query = (
        select(Contact)
        .options(selectinload(Contact.last_checked_by))
        .where(contact_scope(who) if with_retired else Contact.retired_at.is_(None))
        .order_by(Contact.role, Contact.name, Contact.id)
    )
    body = directory_csv(db.session.scalars(query))
    return Export(f"contacts-{utcnow().date().isoformat()}.csv", body)
