"""Finding a course: the upcoming sessions of published courses, listed by date (what a
school business manager plans by), searched and filtered, a page at a time, each with the
price a place costs the school looking.

A school's own area is its default filter; sessions with no area are the whole council's
and are always shown. Council staff see every area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import contains_eager

from portal.access import Principal, course_scope, training_schools
from portal.clock import from_london, utcnow
from portal.db import db
from portal.models import (
    Area,
    Course,
    CourseSession,
    CourseStatus,
    School,
    SessionStatus,
    StaffLevel,
)
from portal.numbers import record_id
from portal.pagination import Page, paginate
from portal.training.prices import SchoolPrices

PAGE_SIZE = 20
ALL_AREAS = "all"
FREE, CHARGED = "free", "charged"


@dataclass(frozen=True)
class TrainingSearch:
    """What someone asked for: words, an area ('all', an id, or '' for their own), London
    dates from and to, a staff level, free or charged, only sessions with places left."""

    query: str = ""
    area: str = ""
    date_from: date | None = None
    date_to: date | None = None
    staff_level: StaffLevel | None = None
    cost: str = ""
    places_left: bool = False
    school: int | None = None
    page: int = 1
    # Field name -> message, for what could not be read (the filter is then left out).
    errors: dict[str, str] = field(default_factory=dict)
    # What was typed into the date fields, shown back as typed.
    typed_from: str = ""
    typed_to: str = ""

    @classmethod
    def from_args(cls, args: Any) -> TrainingSearch:
        errors: dict[str, str] = {}
        typed_from = args.get("from", "").strip()[:20]
        typed_to = args.get("to", "").strip()[:20]
        date_from = _date(typed_from, "from", "Enter the first date as a real date", errors)
        date_to = _date(typed_to, "to", "Enter the last date as a real date", errors)
        if date_from and date_to and date_to < date_from:
            errors["to"] = "The last date must be the same as or after the first date"
            date_to = None
        level = args.get("level", "")
        area = args.get("area", "")
        if area != ALL_AREAS and record_id(area) is None:
            area = ""
        cost = args.get("cost", "")
        return cls(
            query=" ".join(args.get("q", "").split())[:100],
            area=area,
            date_from=date_from,
            date_to=date_to,
            staff_level=StaffLevel(level) if level in StaffLevel._value2member_map_ else None,
            cost=cost if cost in (FREE, CHARGED) else "",
            places_left=args.get("places") == "1",
            school=record_id(args.get("school", "")),
            page=args.get("page", 1, type=int) or 1,
            errors=errors,
            typed_from=typed_from,
            typed_to=typed_to,
        )

    def link_args(self) -> dict[str, Any]:
        """The search as a link's arguments (for the pages of its results)."""
        return {
            "q": self.query or None,
            "area": self.area or None,
            "from": self.typed_from or None,
            "to": self.typed_to or None,
            "level": self.staff_level.value if self.staff_level else None,
            "cost": self.cost or None,
            "places": "1" if self.places_left else None,
            "school": self.school,
        }


def _date(text: str, name: str, message: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = message
        return None


@dataclass(frozen=True)
class SessionRow:
    session: CourseSession
    price_pence: int

    @property
    def course(self) -> Course:
        return self.session.course


@dataclass(frozen=True)
class Found:
    search: TrainingSearch
    page: Page[SessionRow]
    # The school whose prices are shown (None: the council's view, the list prices).
    school: School | None
    schools: list[School]
    areas: list[Area]
    # The area the list is filtered to (None: every area).
    area_id: int | None


def upcoming_sessions() -> Any:
    """Scheduled sessions of published courses that have not started."""
    return (
        select(CourseSession)
        .join(Course, Course.id == CourseSession.course_id)
        .outerjoin(Area, Area.id == CourseSession.area_id)
        .options(contains_eager(CourseSession.course), contains_eager(CourseSession.area))
        .where(
            Course.status == CourseStatus.PUBLISHED,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at > utcnow(),
        )
    )


def choose_school(schools: list[School], school_id: int | None) -> School | None:
    """The school a person looks and books for: the one asked for if theirs, else their
    first (None for council staff, who book for no school)."""
    for school in schools:
        if school.id == school_id:
            return school
    return schools[0] if schools else None


def find_sessions(who: Principal, search: TrainingSearch) -> Found:
    schools = training_schools(who)
    school = choose_school(schools, search.school)
    areas = list(db.session.scalars(select(Area).order_by(Area.name)))
    if school is not None:
        # The school's own area first.
        areas.sort(key=lambda area: area.id != school.area_id)
    area_id: int | None
    if search.area == ALL_AREAS:
        area_id = None
    elif search.area:
        area_id = int(search.area)
    else:
        area_id = school.area_id if school is not None else None
    statement = upcoming_sessions().where(course_scope(who), *_filters(search, area_id, school))
    statement = statement.order_by(CourseSession.starts_at, CourseSession.id)
    found = paginate(statement, search.page, PAGE_SIZE)
    prices = SchoolPrices.read(
        school.id if school else None,
        bool(school and school.is_academy),
        [(s.course, s.starts_at) for s in found.items],
    )
    rows = [SessionRow(s, prices.price(s.course, s.starts_at)) for s in found.items]
    page = Page(items=rows, number=found.number, per_page=found.per_page, total=found.total)
    return Found(search, page, school, schools, areas, area_id)


def _filters(
    search: TrainingSearch, area_id: int | None, school: School | None
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    for word in search.query.split():
        filters.append(
            or_(
                Course.title.icontains(word, autoescape=True),
                Course.description.icontains(word, autoescape=True),
                Course.audience.icontains(word, autoescape=True),
            )
        )
    if area_id is not None:
        filters.append(or_(CourseSession.area_id.is_(None), CourseSession.area_id == area_id))
    if search.date_from is not None:
        filters.append(CourseSession.starts_at >= from_london(search.date_from, "00:00"))
    if search.date_to is not None:
        day_after = search.date_to + timedelta(days=1)
        filters.append(CourseSession.starts_at < from_london(day_after, "00:00"))
    if search.staff_level is not None:
        filters.append(Course.staff_level == search.staff_level)
    if search.cost:
        # The list price for this kind of school (an academy's own, when the course sets one).
        listed: Any = Course.price_pence
        if school is not None and school.is_academy:
            listed = func.coalesce(Course.academy_price_pence, Course.price_pence)
        filters.append(listed == 0 if search.cost == FREE else listed > 0)
    if search.places_left:
        filters.append(CourseSession.places_taken < CourseSession.capacity)
    return filters
