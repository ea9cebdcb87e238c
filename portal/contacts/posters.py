"""The key contacts poster, one A4 sheet per school for the staffroom wall: a school's own, a
chosen school's, or every school's in an area, a batch at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.access import (
    Principal,
    get_school_or_404,
    school_scope,
    visible_area_ids,
    visible_schools,
)
from portal.contacts.keeping import all_areas
from portal.contacts.key_contacts import (
    POSTER_PER_ROLE,
    POSTER_ROOM_MM,
    ContactGroupView,
    key_contacts_by_area,
    poster_row_mm,
)
from portal.db import db
from portal.models import Area, School
from portal.pagination import Page, paginate


def areas_to_choose(who: Principal, areas: list[Area]) -> list[Area]:
    """Of ``areas``, those whose posters or letters ``who`` prints: their own areas, or every
    one for council-wide staff (and anyone whose areas are none of these)."""
    area_ids = visible_area_ids(who)
    own = [] if area_ids is None else [area for area in areas if area.id in area_ids]
    return own or areas


@dataclass(frozen=True)
class ChooseArea:
    """Council staff choose which area's posters to print."""

    areas: list[Area]


@dataclass(frozen=True)
class Posters:
    # Each school with its area's key contacts.
    posters: list[tuple[School, list[ContactGroupView]]]
    # For an area: which batch of its schools (None for one school, or one's own).
    batch: Page[School] | None = None


def posters(
    who: Principal, *, school_id: int | None, area_id: int | None, page: int, per_print: int
) -> Posters | ChooseArea | None:
    """The posters ``who`` asked for: one school's (404 outside their scope), ``per_print``
    at a time of an area's schools that they may see, or, asking for neither, their own
    schools'; council staff choose an area instead. None: an area with no school to print."""
    batch = None
    if school_id is not None:
        schools = [get_school_or_404(who, school_id)]
    elif area_id is not None:
        # A large council's area has a thousand schools: printed a batch at a time.
        batch = paginate(
            select(School)
            .where(School.area_id == area_id, school_scope(who))
            .order_by(School.name, School.id),
            page,
            per_print,
        )
        if not batch.total:
            return None
        schools = list(batch.items)
    elif who.has_council_view:
        return ChooseArea(areas_to_choose(who, all_areas()))
    else:
        schools = list(db.session.scalars(visible_schools(who)))
    # Every school in an area has the same contacts: one query for every area on the page.
    by_area = key_contacts_by_area(
        {school.area_id for school in schools}, POSTER_PER_ROLE, POSTER_ROOM_MM, poster_row_mm
    )
    return Posters([(school, by_area[school.area_id]) for school in schools], batch)
