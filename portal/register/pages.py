"""What the register's pages read: recent imports, areas with their schools, and the schools
flagged for review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.db import db
from portal.models import Area, RegisterImport, School, SchoolStatus
from portal.pagination import Page, paginate

RECENT_IMPORTS = 20
REVIEWS_PER_PAGE = 25


@dataclass(frozen=True)
class Imports:
    """The latest imports, newest first, and how many schools wait to be reviewed."""

    recent: Sequence[RegisterImport]
    reviews: int


def imports() -> Imports:
    recent = db.session.scalars(
        select(RegisterImport).order_by(RegisterImport.id.desc()).limit(RECENT_IMPORTS)
    ).all()
    reviews = db.session.scalar(
        select(func.count(School.id)).where(School.review_note.is_not(None))
    )
    return Imports(recent, reviews or 0)


def get_import(import_id: int) -> RegisterImport | None:
    return db.session.get(RegisterImport, import_id)


@dataclass(frozen=True)
class Areas:
    """Every area, by name, with how many open schools each has (by area id)."""

    areas: Sequence[Area]
    open_schools: dict[int, int]


def areas() -> Areas:
    counts = db.session.execute(
        select(School.area_id, func.count(School.id))
        .where(School.status == SchoolStatus.OPEN)
        .group_by(School.area_id)
    ).all()
    listed = db.session.scalars(select(Area).order_by(Area.name)).all()
    return Areas(listed, {area_id: count for area_id, count in counts})


def get_area(area_id: int) -> Area | None:
    return db.session.get(Area, area_id)


def reviews(page: int) -> Page[School]:
    """A page of the schools flagged for review, by name: a year's register can close and
    reopen hundreds of schools at once."""
    flagged = select(School).where(School.review_note.is_not(None)).order_by(School.name, School.id)
    return paginate(flagged, page, REVIEWS_PER_PAGE)


def get_school(school_id: int) -> School | None:
    return db.session.get(School, school_id)
