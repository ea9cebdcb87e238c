"""The key contacts of a school's areas, the first few of each role: for a school's own
contacts page, its poster and its letter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, cast, exists, func, or_, select, union

from portal.contacts.cards import CARD_COLUMNS, ContactCard, cards_cache, cards_of, with_area_names
from portal.db import db
from portal.models import Area, Contact, ContactGroup, ContactRole, contact_area

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
            *CARD_COLUMNS,
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
    return with_area_names(ranked).where(ranked.c.rank <= bindparam("per_role"))


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
                for card, row in cards_of(rows).values()
            ]
        )

    if version is None:
        return work()
    return cards_cache.once(("key contacts", version, tuple(ids), per_role), work)


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
