"""Local contacts: who serves which schools, finding them, and keeping them up to date."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.orm import selectinload

from portal import audit, versions
from portal.db import db, driver_rows, utcnow
from portal.models import (
    CONTACT_ROLE_LABELS,
    Area,
    Contact,
    ContactGroup,
    ContactRole,
    User,
    contact_area,
    contact_directory,
)
from portal.numbers import record_id
from portal.pagination import Page, page_of, paginate
from portal.phones import national
from portal.spreadsheets import text_cell, to_csv

PAGE_SIZE = 20
COUNTYWIDE = "countywide"


@dataclass(frozen=True)
class ContactSearch:
    """What someone asked the directory for: words, a role, an area (or 'countywide')."""

    query: str = ""
    role: ContactRole | None = None
    area: int | str | None = None
    page: int = 1
    # Only those who keep the directory may ask for retired contacts (see the view).
    include_retired: bool = False

    @property
    def is_active(self) -> bool:
        return bool(self.query or self.role or self.area or self.include_retired)

    @classmethod
    def from_args(cls, args: Any) -> ContactSearch:
        role_value = args.get("role", "")
        area_value = args.get("area", "")
        role = ContactRole(role_value) if role_value in ContactRole._value2member_map_ else None
        area: int | str | None = None
        if area_value == COUNTYWIDE:
            area = COUNTYWIDE
        elif (area_id := record_id(area_value)) is not None:
            area = area_id
        return cls(
            # Spaces made single: a search for words, never for a line break (which
            # Contact.search_text puts between the parts it searches).
            query=" ".join(args.get("q", "").split())[:100],
            role=role,
            area=area,
            page=args.get("page", 1, type=int) or 1,
            include_retired=args.get("retired") == "1",
        )


def active_contacts() -> Select[tuple[Contact]]:
    return select(Contact).where(Contact.retired_at.is_(None))


# How many of one role a school's own contacts page shows, and its poster: the key people.
# A large council may have dozens of, say, educational psychologists serving one area; the
# rest are a search away (the page links to them), and a poster must stay near one A4 page.
# Four, because a county's specialist teams are each a different service.
PAGE_PER_ROLE = 5
POSTER_PER_ROLE = 4
# A poster is one A4 sheet: however many roles a council has, its contacts' rows take at most
# this many millimetres of it (each role's first before any role's second), the rest a search
# away. tests/contacts/test_browser.py prints an area that fills it, with rows as tall as rows
# get, and one with as many rows as fit.
POSTER_ROOM_MM = 148.0


def poster_row_mm(contact: Contact) -> float:
    """A contact's row on a printed poster (council.scss), as Chromium prints it: who and
    what about, each cut to one line, with the row's padding and rule; and any out-of-hours
    line."""
    return 8.2 + 2.9 * bool(contact.out_of_hours)


class ContactCard(NamedTuple):
    """A contact as the directory's cards show it, read as a plain row with the names of the
    areas it serves rather than as a Contact with its areas: a school's page shows fifty.
    Hashable, so that a card is drawn once per version of what it shows (display.py); a
    tuple, since a page makes and hashes fifty of them (a frozen dataclass's are slower)."""

    id: int
    name: str
    job_title: str | None
    role: ContactRole
    help_with: str
    phone: str
    email: str
    out_of_hours: str | None
    coverage: str
    is_retired: bool
    last_checked_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactCard:
        return cls(
            contact.id,
            contact.name,
            contact.job_title,
            contact.role,
            contact.help_with,
            contact.phone,
            contact.email,
            contact.out_of_hours,
            contact.coverage,
            contact.is_retired,
            contact.last_checked_at,
        )


# What a card shows, as columns (with the names of the areas, from _with_area_names).
_CARD_COLUMNS = (
    Contact.id,
    Contact.name,
    Contact.job_title,
    Contact.role,
    Contact.help_with,
    Contact.phone,
    Contact.email,
    Contact.out_of_hours,
    Contact.countywide,
    Contact.retired_at,
    Contact.last_checked_at,
)


def _with_area_names(found: Subquery) -> Select[Any]:
    """Every column of ``found`` (_CARD_COLUMNS and more, of the contacts to show), with the
    name of each area its contact serves: a row per area (one, with none, for a contact that
    serves none)."""
    return (
        select(found, Area.name.label("area_name"))
        .outerjoin(contact_area, contact_area.c.contact_id == found.c.id)
        .outerjoin(Area, Area.id == contact_area.c.area_id)
    )


def _cards(rows: Iterable[Any]) -> dict[int, tuple[ContactCard, Any]]:
    """Each contact's card from its rows (one per area it serves), in the rows' order, with
    its first row (for what else the query read)."""
    found: dict[int, tuple[Any, list[str]]] = {}
    for row in rows:
        _, area_names = found.setdefault(row.id, (row, []))
        if row.area_name is not None:
            area_names.append(row.area_name)
    cards = {}
    for contact_id, (row, area_names) in found.items():
        # As Contact.coverage says it, the areas in name order.
        coverage = "Countywide" if row.countywide else ", ".join(sorted(area_names))
        card = ContactCard(
            contact_id,
            row.name,
            row.job_title,
            row.role,
            row.help_with,
            row.phone,
            row.email,
            row.out_of_hours,
            coverage,
            row.retired_at is not None,
            row.last_checked_at,
        )
        cards[contact_id] = (card, row)
    return cards


@dataclass
class ContactGroupView:
    group: ContactGroup
    contacts: list[Contact | ContactCard] = field(default_factory=list)
    # Roles with more contacts than are shown: how many in all, and whether all are
    # countywide (so that "see all" can search the countywide ones, not the area's).
    more: dict[ContactRole, tuple[int, bool]] = field(default_factory=dict)


@cache
def _key_contacts_query() -> Select[Any]:
    """key_contacts' query, made once with the areas and the number per role bound: making it
    afresh each time cost more than the database took to run it."""
    role = Contact.role
    in_area = exists().where(
        contact_area.c.contact_id == Contact.id,
        contact_area.c.area_id.in_(bindparam("area_ids", expanding=True)),
    )
    ranked = (
        select(
            *_CARD_COLUMNS,
            func.row_number()
            .over(partition_by=role, order_by=(Contact.name, Contact.id))
            .label("rank"),
            func.count().over(partition_by=role).label("total"),
            func.min(cast(Contact.countywide, Integer))
            .over(partition_by=role)
            .label("all_countywide"),
        )
        .where(Contact.retired_at.is_(None), or_(Contact.countywide.is_(True), in_area))
        .subquery()
    )
    return _with_area_names(ranked).where(ranked.c.rank <= bindparam("per_role"))


def key_contacts(
    area_ids: Iterable[int], per_role: int, version: int | None = None
) -> list[ContactGroupView]:
    """The active contacts who serve these areas (and the countywide ones), grouped by what
    they help with: the first ``per_role`` of each role by name, and how many more there are.

    One query however many there are: the database ranks each role's contacts and counts
    them, and only the shown ones come back, as cards. Given the directory's ``version``
    (:func:`directory_version`), worked out once for it and every school of these areas.
    """
    ids = sorted(set(area_ids))

    def work() -> list[ContactGroupView]:
        rows = db.session.execute(
            _key_contacts_query(), {"area_ids": ids, "per_role": per_role}
        ).all()
        return _grouped(
            [
                _Ranked(card, row.rank, row.total, row.all_countywide)
                for card, row in _cards(rows).values()
            ]
        )

    if version is None:
        return work()
    return _worked_out.once(("key contacts", version, tuple(ids), per_role), work)


class AreaName(NamedTuple):
    id: int
    name: str


def area_names(version: int) -> list[AreaName]:
    """Each area's id and name, in name order, for the directory's ``version``."""

    def work() -> list[AreaName]:
        query = select(Area.id, Area.name).order_by(Area.name)
        return [AreaName(*row) for row in db.session.execute(query)]

    return _worked_out.once(("areas", version), work)


def directory_version() -> int:
    """The directory's version now: a number the database replaces with one never used
    before in the statement of any change to contacts, the areas they serve or the areas'
    names, whoever makes it (contact_directory, migration 0021). On a signed-in page, as
    read with the person (portal/versions.py): no round trip of its own."""
    return versions.current(versions.DIRECTORY)


# What is worked out from the directory, once per version for everyone (the areas; the key
# contacts of a set of areas): shared by every school of the same areas, nothing personal.
# Never stale: it is kept under the version it was worked out at, and a version is never
# used again once the directory changes (nor after a change rolled back), so a request
# that reads the version now is given what the directory holds now. Per process: a few
# dozen entries (sets of areas, times the versions in use at once).
_worked_out = versions.Kept(at_most=256)


def key_contacts_by_area(
    area_ids: Iterable[int],
    per_role: int,
    room: float | None = None,
    size: Callable[[Contact], float] = lambda contact: 1,
) -> dict[int, list[ContactGroupView]]:
    """For each area, what :func:`key_contacts` gives for it alone, every area in one query:
    a page of posters or letters for a whole council costs the same as one.

    ``room`` caps what each area shows, for a sheet of paper that holds no more: contacts
    are taken while their ``size`` (on paper) fits, each role's first before any role's
    second, so every role that has someone keeps them before any role gets two.
    """
    ids = sorted(set(area_ids))
    if not ids:
        return {}
    # Who serves each area: its own contacts, and every countywide one.
    served = union(
        select(
            contact_area.c.area_id.label("area_id"), contact_area.c.contact_id.label("contact_id")
        ).where(contact_area.c.area_id.in_(ids)),
        select(Area.id, Contact.id)
        .join(Contact, Contact.countywide.is_(True))
        .where(Area.id.in_(ids)),
    ).subquery()
    by = (served.c.area_id, Contact.role)
    ranked = (
        select(
            served.c.area_id,
            Contact.id,
            func.row_number()
            .over(partition_by=by, order_by=(Contact.name, Contact.id))
            .label("rank"),
            func.count().over(partition_by=by).label("total"),
            func.min(cast(Contact.countywide, Integer)).over(partition_by=by).label("countywide"),
        )
        .join(Contact, Contact.id == served.c.contact_id)
        .where(Contact.retired_at.is_(None))
        .subquery()
    )
    rows = db.session.execute(
        select(ranked.c.area_id, Contact, ranked.c.rank, ranked.c.total, ranked.c.countywide)
        .join(ranked, ranked.c.id == Contact.id)
        .where(ranked.c.rank <= per_role)
    ).all()
    per_area: dict[int, list[_Ranked]] = {area_id: [] for area_id in ids}
    for area_id, *ranked_row in rows:
        per_area[area_id].append(_Ranked(*ranked_row))
    return {area_id: _grouped(found, room, size) for area_id, found in per_area.items()}


class _Ranked(NamedTuple):
    contact: Contact | ContactCard
    rank: int  # by name among the contacts of its role
    total: int  # how many of its role there are
    countywide: bool | int  # whether all of its role are countywide


_ROLE_ORDER = {role: index for index, role in enumerate(ContactRole)}


def _grouped(
    rows: list[_Ranked],
    room: float | None = None,
    size: Callable[[Contact], float] = lambda contact: 1,
) -> list[ContactGroupView]:
    if room is not None:
        chosen = []
        for row in sorted(rows, key=lambda row: (row.rank, _ROLE_ORDER[row.contact.role])):
            room -= size(row.contact)
            if room < 0:
                break
            chosen.append(row)
        rows = chosen
    shown = Counter(row.contact.role for row in rows)
    by_group = {group: ContactGroupView(group) for group in ContactGroup}
    for row in sorted(
        rows, key=lambda row: (_ROLE_ORDER[row.contact.role], row.contact.name, row.contact.id)
    ):
        contact = row.contact
        view = by_group[contact.role.group]
        view.contacts.append(contact)
        if row.total > shown[contact.role]:
            view.more[contact.role] = (int(row.total), bool(row.countywide))
    return [view for view in by_group.values() if view.contacts]


def _roles_matching(words: str) -> list[ContactRole]:
    lowered = words.lower()
    return [role for role, (label, _) in CONTACT_ROLE_LABELS.items() if lowered in label.lower()]


_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Listing:
    """Contacts in the order a search lists them (the database's order of role, name and
    id), and what a search finds them by, as positions in that order: each one's stored
    search text (Contact.search_text, its parts as the database lower-cases them), and
    those of each role, of each area, and the countywide ones."""

    cards: tuple[ContactCard, ...]
    texts: tuple[str, ...]
    by_role: dict[ContactRole, frozenset[int]]
    by_area: dict[int, frozenset[int]]
    countywide: frozenset[int]

    @classmethod
    def of(cls, contacts: list[tuple[ContactCard, str, frozenset[int], bool]]) -> _Listing:
        by_role: dict[ContactRole, set[int]] = {}
        by_area: dict[int, set[int]] = {}
        countywide = set()
        for position, (card, _, area_ids, is_countywide) in enumerate(contacts):
            by_role.setdefault(card.role, set()).add(position)
            for area_id in area_ids:
                by_area.setdefault(area_id, set()).add(position)
            if is_countywide:
                countywide.add(position)
        return cls(
            tuple(card for card, *_ in contacts),
            tuple(text for _, text, *_ in contacts),
            {role: frozenset(found) for role, found in by_role.items()},
            {area_id: frozenset(found) for area_id, found in by_area.items()},
            frozenset(countywide),
        )


class _Directory(NamedTuple):
    """Every contact, and those not retired, as searches list them; the areas' names as the
    database lower-cases them."""

    version: int | None
    everyone: _Listing
    active: _Listing
    area_names: tuple[tuple[int, str], ...]


def _directory(version: int | None) -> _Directory:
    """The directory as it is at ``version`` (or, should it have changed since, as it is
    now: kept under the version read with it, in the same statement, so never stale)."""
    held: _Directory | None = _worked_out.get("directory")
    if held is not None and held.version == version:
        return held
    rows = db.session.execute(_DIRECTORY_QUERY).all()
    if rows:
        version = rows[0].version
    # Each contact's rows (one per area it serves) come together, in the listing's order.
    cards = _cards(rows)
    areas: dict[int, set[int]] = {contact_id: set() for contact_id in cards}
    lowered: dict[int, str] = {}
    for row in rows:
        if row.area_id is not None:
            areas[row.id].add(row.area_id)
            lowered[row.area_id] = row.area_lowered
    contacts = [
        (card, row.search_text, frozenset(areas[card.id]), row.countywide)
        for card, row in cards.values()
    ]
    found = _Directory(
        version,
        _Listing.of(contacts),
        _Listing.of([contact for contact in contacts if not contact[0].is_retired]),
        tuple(sorted(lowered.items())),
    )
    # One directory kept, the newest asked for: at a large council's scale a few megabytes
    # a process, replaced (not added to) when the directory changes. Not without a
    # version (a database without the directory's number) to keep it under.
    if version is not None:
        _worked_out.put("directory", found)
    return found


_DIRECTORY_QUERY = (
    select(
        *_CARD_COLUMNS,
        Contact.search_text,
        contact_area.c.area_id,
        Area.name.label("area_name"),
        func.lower(Area.name).label("area_lowered"),
        # Read in the same statement as the rows, so what is kept under it is what the
        # directory held at it.
        select(contact_directory.c.version).scalar_subquery().label("version"),
    )
    .outerjoin(contact_area, contact_area.c.contact_id == Contact.id)
    .outerjoin(Area, Area.id == contact_area.c.area_id)
    .order_by(Contact.role, Contact.name, Contact.id)
)

# The directory's version now, and the words searched for as the database lower-cases them
# (as it lower-cased Contact.search_text and lower-cases the areas' names for ILIKE).
_VERSION_AND_WORDS = select(
    select(contact_directory.c.version).scalar_subquery(),
    func.lower(bindparam("words", type_=String)),
)


@dataclass(frozen=True)
class Found:
    """A page of a search's cards, and the version of the directory they were found in."""

    page: Page[ContactCard]
    version: int  # as directory_version() gives it


def search(criteria: ContactSearch) -> Found:
    """The contacts that match every part of ``criteria``, a page of cards at a time.

    Asked for while someone types, so it costs one small statement: the directory's version
    (and the words lower-cased by the database). The directory itself is read once per
    version and searched here, exactly as the database would search it (tests compare them):
    the words in any of the contact's name, job title, what they help with or e-mail address
    (Contact.search_text, as LIKE finds them), in the name of an area it serves (as ILIKE),
    in its role's label, or "countywide" for the countywide ones.
    """
    ((version, words),) = driver_rows(_VERSION_AND_WORDS, {"words": criteria.query})
    directory = _directory(version)
    listing = directory.everyone if criteria.include_retired else directory.active
    # The positions chosen so far; None for every one.
    chosen: frozenset[int] | set[int] | None = None
    if criteria.query:
        chosen = {position for position, text in enumerate(listing.texts) if words in text}
        for role in _roles_matching(criteria.query):
            chosen |= listing.by_role.get(role, _NONE)
        if len(criteria.query) >= 4 and "countywide".startswith(criteria.query.lower()):
            chosen |= listing.countywide
        for area_id, name in directory.area_names:
            if words in name:
                chosen |= listing.by_area.get(area_id, _NONE)

    def narrowed(to: frozenset[int]) -> frozenset[int] | set[int]:
        return to if chosen is None else chosen & to

    if criteria.role is not None:
        chosen = narrowed(listing.by_role.get(criteria.role, _NONE))
    if criteria.area == COUNTYWIDE:
        chosen = narrowed(listing.countywide)
    elif isinstance(criteria.area, int):
        chosen = narrowed(listing.by_area.get(criteria.area, _NONE))
    positions = range(len(listing.cards)) if chosen is None else sorted(chosen)
    found = page_of(positions, criteria.page, PAGE_SIZE)
    cards = [listing.cards[position] for position in found.items]
    return Found(replace(found, items=cards), int(directory.version or 0))


# --- keeping contacts up to date ------------------------------------------------------------

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


# --- the directory as CSV ---------------------------------------------------------------------

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
