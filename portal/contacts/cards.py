"""How the directory's contacts are read to be shown: as cards, plain rows with the names of
the areas each contact serves; the areas' names; and what is worked out from the directory,
kept once per version of it (directory_version)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, Subquery, select

from portal import versions
from portal.db import db
from portal.models import Area, Contact, ContactRole, contact_area


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


# What a card shows, as columns (with the names of the areas, from with_area_names).
CARD_COLUMNS = (
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


def with_area_names(found: Subquery) -> Select[Any]:
    """Every column of ``found`` (CARD_COLUMNS and more, of the contacts to show), with the
    name of each area its contact serves: a row per area (one, with none, for a contact that
    serves none)."""
    return (
        select(found, Area.name.label("area_name"))
        .outerjoin(contact_area, contact_area.c.contact_id == found.c.id)
        .outerjoin(Area, Area.id == contact_area.c.area_id)
    )


def cards_of(rows: Iterable[Any]) -> dict[int, tuple[ContactCard, Any]]:
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


class AreaName(NamedTuple):
    id: int
    name: str


def area_names(version: int) -> list[AreaName]:
    """Each area's id and name, in name order, for the directory's ``version``."""

    def work() -> list[AreaName]:
        query = select(Area.id, Area.name).order_by(Area.name)
        return [AreaName(*row) for row in db.session.execute(query)]

    return cards_cache.once(("areas", version), work)


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
cards_cache = versions.Cache(at_most=256)
