"""Keeping contacts up to date: adding, changing, retiring and reinstating them, marking
them checked, the ones not checked for too long, and a contact's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import selectinload

from portal import audit
from portal.access import Capability, Principal, get_contact_or_404
from portal.db import db, utcnow
from portal.models import Area, AuditEvent, Contact, ContactRole, User
from portal.pagination import Page, paginate

PAGE_SIZE = 20
# The most of a contact's history its page shows, newest first.
HISTORY_SHOWN = 50


def active_contacts() -> Select[tuple[Contact]]:
    return select(Contact).where(Contact.retired_at.is_(None))


def all_areas() -> list[Area]:
    """Every area, by name: those a contact may serve, or letters and posters be printed for."""
    return list(db.session.scalars(select(Area).order_by(Area.name)))


# The fields a publisher edits, in the order the audit log lists their changes.
EDITABLE = ("name", "job_title", "role", "help_with", "phone", "email", "out_of_hours")


@dataclass(frozen=True)
class ContactDetails:
    name: str
    job_title: str | None
    role: ContactRole
    help_with: str
    phone: str
    email: str
    out_of_hours: str | None
    countywide: bool
    area_ids: frozenset[int]


def _snapshot(contact: Contact) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(contact, name) for name in EDITABLE}
    values["role"] = contact.role.value if contact.role else None
    values["coverage"] = (
        "Countywide" if contact.countywide else sorted(a.name for a in contact.areas)
    )
    return values


def _apply(contact: Contact, details: ContactDetails) -> None:
    for name in EDITABLE:
        setattr(contact, name, getattr(details, name))
    contact.countywide = details.countywide
    contact.areas = (
        []
        if details.countywide
        else list(db.session.scalars(select(Area).where(Area.id.in_(details.area_ids))))
    )


def create_contact(details: ContactDetails, actor: User) -> Contact:
    contact = Contact(last_checked_by=actor, last_checked_at=utcnow())
    _apply(contact, details)
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.created", actor=actor, subject=contact, values=_snapshot(contact))
    db.session.commit()
    return contact


def update_contact(contact: Contact, details: ContactDetails, actor: User) -> dict[str, Any]:
    """Change a contact; returns (and audits) what changed, as {field: [from, to]}."""
    before = _snapshot(contact)
    _apply(contact, details)
    after = _snapshot(contact)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changes:
        # Editing a contact is checking it: the publisher has just looked at every field.
        contact.last_checked_at = utcnow()
        contact.last_checked_by = actor
        audit.record("contact.updated", actor=actor, subject=contact, changes=changes)
    db.session.commit()
    return changes


def retire_contact(contact: Contact, actor: User) -> None:
    if contact.retired_at is None:
        contact.retired_at = utcnow()
        audit.record("contact.retired", actor=actor, subject=contact, name=contact.name)
        db.session.commit()


def reinstate_contact(contact: Contact, actor: User) -> None:
    if contact.retired_at is not None:
        contact.retired_at = None
        audit.record("contact.reinstated", actor=actor, subject=contact, name=contact.name)
        db.session.commit()


def mark_checked(contact: Contact, actor: User) -> None:
    previous = contact.last_checked_at
    contact.last_checked_at = utcnow()
    contact.last_checked_by = actor
    audit.record(
        "contact.checked",
        actor=actor,
        subject=contact,
        previously_checked=previous.isoformat() if previous else None,
    )
    db.session.commit()


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def not_checked_for(months: int) -> ColumnElement[bool]:
    """A condition on :class:`Contact`: last checked more than ``months`` months ago."""
    return Contact.last_checked_at < months_before(utcnow(), months)


def needing_check(months: int, page: int) -> Page[Contact]:
    query = (
        active_contacts()
        .options(selectinload(Contact.last_checked_by))
        .where(not_checked_for(months))
    )
    return paginate(query.order_by(Contact.last_checked_at, Contact.id), page, PAGE_SIZE)


@dataclass(frozen=True)
class ContactPage:
    """A contact as its page shows it, with its history for those who keep the directory."""

    contact: Contact
    history: Sequence[AuditEvent]


def contact_page(who: Principal, contact_id: int) -> ContactPage:
    """The contact ``who`` asked for (404 if they may not see it), and, for those who keep
    the directory, what was done to it, newest first."""
    contact = get_contact_or_404(who, contact_id)
    history: Sequence[AuditEvent] = []
    if who.can(Capability.EDIT_CONTACTS):
        history = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_type == "Contact", AuditEvent.subject_id == contact.id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(HISTORY_SHOWN)
        ).all()
    return ContactPage(contact, history)
