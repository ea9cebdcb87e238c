from __future__ import annotations

from sqlalchemy import String, cast, or_
from sqlalchemy.orm import joinedload

from portal.access import Principal, own_school, visible_schools
from portal.db import db
from portal.models import School
from portal.pagination import Page, paginate

PAGE_SIZE = 25


def school_page(who: Principal, *, query: str = "", page: int = 1) -> Page[School]:
    """The schools ``who`` may see, filtered by name, URN or postcode, one page of them."""
    # Each row names its area and trust: joined, so a page costs the same however many areas.
    statement = visible_schools(who).options(joinedload(School.area), joinedload(School.trust))
    if query:
        # What people type is text to find, not a pattern: autoescape makes % and _ literal.
        statement = statement.where(
            or_(
                School.name.icontains(query, autoescape=True),
                cast(School.urn, String).contains(query, autoescape=True),
                School.postcode.icontains(query, autoescape=True),
            )
        )
    return paginate(statement, page, PAGE_SIZE)


def own_schools(who: Principal) -> list[School]:
    """The schools a school's person works for (a trust lead's: the trust's academies), by
    name; none for council staff, who work with many and whose home names none."""
    if who.has_council_view:
        return []
    if len(who.school_ids) == 1 and not (who.trust_ids or who.area_ids):
        # One school, read with the person: no query.
        return [own_school(who, next(iter(who.school_ids)))]
    # Their facts name the area and trust: joined, rather than read one by one.
    return list(
        db.session.scalars(
            visible_schools(who).options(joinedload(School.area), joinedload(School.trust))
        )
    )
