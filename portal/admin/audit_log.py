"""Searching the audit log: who did what, to which kind of record, when."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal.db import db
from portal.models import AuditEvent, User
from portal.pagination import Page, paginate
from portal.spreadsheets import text_cell
from portal.spreadsheets import to_csv as spreadsheet_csv

LONDON = ZoneInfo("Europe/London")
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditSearch:
    user: str = ""  # part of an e-mail address or name
    subject_type: str = ""  # a kind of record, e.g. Contact
    action: str = ""  # e.g. contact.updated, or contact. for every contact action
    date_from: date | None = None  # London dates, inclusive
    date_to: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> tuple[AuditSearch, dict[str, str]]:
        """The search, and a message for each date that could not be read."""
        errors = {}
        dates: dict[str, date | None] = {}
        for name in ("date_from", "date_to"):
            raw = args.get(name, "").strip()
            dates[name] = None
            if raw:
                try:
                    dates[name] = date.fromisoformat(raw)
                except ValueError:
                    errors[name] = "Enter a real date, like 2026-11-22"
        return (
            cls(
                user=args.get("user", "").strip()[:100],
                subject_type=args.get("subject_type", "").strip()[:40],
                action=args.get("action", "").strip()[:80],
                date_from=dates["date_from"],
                date_to=dates["date_to"],
                page=args.get("page", 1, type=int) or 1,
            ),
            errors,
        )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def query(search: AuditSearch) -> Select[tuple[AuditEvent]]:
    statement = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if search.user:
        statement = statement.where(
            AuditEvent.actor_id.in_(
                select(User.id).where(
                    User.email.icontains(search.user, autoescape=True)
                    | User.display_name.icontains(search.user, autoescape=True)
                )
            )
        )
    if search.subject_type:
        statement = statement.where(AuditEvent.subject_type == search.subject_type)
    if search.action:
        statement = statement.where(AuditEvent.action.startswith(search.action, autoescape=True))
    if search.date_from:
        statement = statement.where(AuditEvent.occurred_at >= _start_of(search.date_from))
    if search.date_to:
        statement = statement.where(
            AuditEvent.occurred_at < _start_of(search.date_to + timedelta(days=1))
        )
    return statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def search_page(search: AuditSearch) -> Page[AuditEvent]:
    return paginate(query(search), search.page, PAGE_SIZE)


def subject_types() -> list[str]:
    return [
        t
        for t in db.session.scalars(
            select(AuditEvent.subject_type).distinct().order_by(AuditEvent.subject_type)
        )
        if t
    ]


CSV_COLUMNS = [
    "When (UK time)",
    "Who",
    "E-mail",
    "Action",
    "Record",
    "Record id",
    "Address",
    "Detail",
]


def to_csv(events: Iterable[AuditEvent]) -> str:
    def row(event: AuditEvent) -> list[str]:
        return [
            text_cell(str(value))
            for value in (
                event.occurred_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor.display_name if event.actor else "",
                event.actor.email if event.actor else "",
                event.action,
                event.subject_type or "",
                event.subject_id or "",
                event.ip_address or "",
                json.dumps(event.detail, sort_keys=True, default=str),
            )
        ]

    return spreadsheet_csv(CSV_COLUMNS, (row(event) for event in events))
