"""Searching the audit log: who did what, to which kind of record, when."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, literal, null, select, union_all
from sqlalchemy.orm import selectinload

from portal.admin.audit_words import KINDS, RECORDS, TOPICS, kind_words, record_words
from portal.clock import LONDON, financial_year_label
from portal.db import db
from portal.models import (
    Area,
    AuditEvent,
    BuybackChoice,
    BuybackWindow,
    Cohort,
    Contact,
    MembershipInvitation,
    PriceOption,
    RegisterImport,
    School,
    Service,
    ServiceOffer,
    SupportRequest,
    Trust,
    User,
)
from portal.pagination import Page, paginate
from portal.spreadsheets import text_cell
from portal.spreadsheets import to_csv as spreadsheet_csv

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
    if search.action.endswith("."):
        # A topic ("contact."): every kind of event under it.
        statement = statement.where(AuditEvent.action.startswith(search.action, autoescape=True))
    elif search.action:
        # One kind, and only that kind: "auth.sign_in" is not "auth.sign_in_failed".
        statement = statement.where(AuditEvent.action == search.action)
    if search.date_from:
        statement = statement.where(AuditEvent.occurred_at >= _start_of(search.date_from))
    if search.date_to:
        statement = statement.where(
            AuditEvent.occurred_at < _start_of(search.date_to + timedelta(days=1))
        )
    return statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def search_page(search: AuditSearch) -> Page[AuditEvent]:
    return paginate(query(search), search.page, PAGE_SIZE)


# --- naming records as people know them ------------------------------------------------------

# Each kind of record an event can be about: the query that fetches what names it (its id and
# up to three texts) and how those texts read. A kind of record not here is shown by its
# plain kind and id.
_Columns = tuple[Any, Any, Any, Any]


def _year(value: str | None) -> str:
    return financial_year_label(int(value)) if value and value.isdigit() else ""


def _cohort(value: str | None) -> str:
    return Cohort(value).label if value in Cohort._value2member_map_ else ""


_NAMES: dict[str, tuple[Callable[[], Select[Any]], Callable[[str, str, str], str]]] = {
    "User": (
        lambda: select(User.id, User.display_name, User.email, null()),
        lambda name, _email, _: f"{name} (user)",
    ),
    "MembershipInvitation": (
        lambda: select(
            MembershipInvitation.id,
            MembershipInvitation.invited_name,
            MembershipInvitation.email,
            None,
        ),
        lambda name, email, _: f"Invitation to {name} ({email})",
    ),
    "Contact": (
        lambda: select(Contact.id, Contact.name, None, null()),
        lambda name, _, __: f"{name} (contact)",
    ),
    "Service": (
        lambda: select(Service.id, Service.name, None, null()),
        lambda name, _, __: f"{name} (service)",
    ),
    "ServiceOffer": (
        lambda: select(ServiceOffer.id, Service.name, ServiceOffer.year, null()).join(
            ServiceOffer.service
        ),
        lambda service, year, _: f"{service}: the offer for {_year(year)}",
    ),
    "PriceOption": (
        lambda: (
            select(PriceOption.id, PriceOption.name, Service.name, ServiceOffer.year)
            .join(PriceOption.offer)
            .join(ServiceOffer.service)
        ),
        lambda option, service, year: f"{service}: price “{option}” for {_year(year)}",
    ),
    "BuybackWindow": (
        lambda: select(BuybackWindow.id, BuybackWindow.year, BuybackWindow.cohort, null()),
        lambda year, cohort, _: f"Buy-back window for {_year(year)} ({_cohort(cohort)})",
    ),
    "BuybackChoice": (
        lambda: (
            select(BuybackChoice.id, School.name, BuybackWindow.year, null())
            .join(BuybackChoice.school)
            .join(BuybackChoice.window)
        ),
        lambda school, year, _: f"{school}'s buy-back choice for {_year(year)}",
    ),
    "School": (
        lambda: select(School.id, School.name, School.urn, null()),
        lambda name, urn, _: f"{name} (school, URN {urn})",
    ),
    "Trust": (
        lambda: select(Trust.id, Trust.name, None, null()),
        lambda name, _, __: f"{name} (trust)",
    ),
    "Area": (
        lambda: select(Area.id, Area.name, None, null()),
        lambda name, _, __: f"{name} area",
    ),
    "RegisterImport": (
        lambda: select(RegisterImport.id, RegisterImport.filename, None, null()),
        lambda filename, _, __: f"Register import of {filename}",
    ),
    "SupportRequest": (
        lambda: select(SupportRequest.id, SupportRequest.reference, None, null()),
        lambda reference, _, __: f"CAF request {reference}",
    ),
}

# Names for a CSV of the whole log are fetched this many events at a time.
NAMING_CHUNK = 500


def _names_query(wanted: dict[str, set[int]]) -> Any:
    """One statement for every record named on a page, whatever kinds they are: each kind's
    query, its texts as text, all in one UNION ALL."""
    parts = []
    for kind, ids in sorted(wanted.items()):
        base = _NAMES[kind][0]()
        id_column, *texts = base.selected_columns
        parts.append(
            base.with_only_columns(
                cast(literal(kind), String(40)).label("kind"),
                id_column.label("id"),
                *(cast(text, String).label(f"text{n}") for n, text in enumerate(texts)),
            ).where(id_column.in_(sorted(ids)))
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _removed(event: AuditEvent) -> str:
    """A record that is gone: named from what the event kept of it, if anything."""
    detail = event.detail or {}
    values = detail.get("values") if isinstance(detail.get("values"), dict) else {}
    label = next(
        (
            str(value)
            for value in (
                detail.get("name"),
                detail.get("reference"),
                detail.get("email"),
                values.get("name"),
            )
            if value
        ),
        "",
    )
    kind = record_words(event.subject_type or "")
    return (
        f"{kind} “{label}” (since removed)"
        if label
        else f"{kind} {event.subject_id} (since removed)"
    )


def record_names(events: Sequence[AuditEvent]) -> dict[int, str]:
    """What each event is about, as people know it, by event id: one query for them all."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.subject_type in _NAMES and event.subject_id is not None:
            wanted.setdefault(event.subject_type, set()).add(event.subject_id)
    found: dict[tuple[str, int], str] = {}
    if wanted:
        for kind, record_id, *texts in db.session.execute(_names_query(wanted)):
            found[(kind, record_id)] = _NAMES[kind][1](*(text or "" for text in texts))
    names = {}
    for event in events:
        if not event.subject_type:
            continue
        if event.subject_type in _NAMES:
            key = (event.subject_type, event.subject_id)
            names[event.id] = found[key] if key in found else _removed(event)
        else:
            names[event.id] = f"{record_words(event.subject_type)} {event.subject_id or ''}".strip()
    return names


@dataclass(frozen=True)
class AuditLine:
    """An event as the log shows it: what happened, and to which record, in plain words."""

    event: AuditEvent
    what: str
    record: str


def described(events: Sequence[AuditEvent]) -> list[AuditLine]:
    names = record_names(events)
    return [AuditLine(event, kind_words(event.action), names.get(event.id, "")) for event in events]


def action_items(selected: str) -> list[dict[str, Any]]:
    """The "what happened" filter: each topic as a whole, then each of its kinds, in words.
    A code typed into the address that is not one of them stays chosen, shown as it is."""
    items: list[dict[str, Any]] = [{"value": "", "text": "Anything"}]
    for topic, topic_name in TOPICS.items():
        prefix = f"{topic}."
        items.append(
            {"value": prefix, "text": f"{topic_name} (all)", "selected": selected == prefix}
        )
        items.extend(
            {"value": kind, "text": words, "selected": selected == kind}
            for kind, words in KINDS.items()
            if kind.startswith(prefix)
        )
    if selected and not any(item["value"] == selected for item in items):
        items.append({"value": selected, "text": kind_words(selected), "selected": True})
    return items


def record_items(selected: str) -> list[dict[str, Any]]:
    """The "kind of record" filter, in words: every kind of record an event can be about."""
    items: list[dict[str, Any]] = [{"value": "", "text": "Any kind of record"}]
    items.extend(
        {"value": kind, "text": words, "selected": kind == selected}
        for kind, words in sorted(RECORDS.items(), key=lambda item: item[1])
    )
    if selected and selected not in RECORDS:
        items.append({"value": selected, "text": selected, "selected": True})
    return items


CSV_COLUMNS = [
    "When (UK time)",
    "Who",
    "E-mail",
    "What happened",
    "Record",
    "Action code",
    "Kind of record",
    "Record id",
    "Address",
    "Detail",
]


def to_csv(events: Sequence[AuditEvent]) -> str:
    """The events as CSV, each record named as on the page (a query per NAMING_CHUNK events)."""

    def rows() -> Iterable[list[str]]:
        for start in range(0, len(events), NAMING_CHUNK):
            for line in described(events[start : start + NAMING_CHUNK]):
                event = line.event
                yield [
                    text_cell(str(value))
                    for value in (
                        event.occurred_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S"),
                        event.actor.display_name if event.actor else "",
                        event.actor.email if event.actor else "",
                        line.what,
                        line.record,
                        event.action,
                        event.subject_type or "",
                        event.subject_id or "",
                        event.ip_address or "",
                        json.dumps(event.detail, sort_keys=True, default=str),
                    )
                ]

    return spreadsheet_csv(CSV_COLUMNS, rows())


def search_csv(search: AuditSearch) -> str:
    """Every event ``search`` finds, as CSV (:func:`to_csv`)."""
    return to_csv(db.session.scalars(query(search)).all())
