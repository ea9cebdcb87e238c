"""Take-up of training for the Schools Forum: per course and per area, over a period of
London dates, the sessions held, their places, the places booked, attended and not attended,
the cancellations, and how many of the council's open schools had someone trained.

What is counted, and why:

- a session counts if it starts in the period and was not cancelled (held, or to be held);
  its capacity is its places;
- a booking counts by its session's date, and only on a session that counts. *Booked* is a
  place held (awaiting approval, offered or confirmed: attended and absent places stay
  confirmed) or attended; a waiting list is not a place;
- a *no-show* is a booking marked absent; a *late* cancellation is one made after the last
  free day, as schools are charged (portal/training/charges.py: London dates, the course's
  ``cancellation_days`` before the session's); the rest were *in time* (one with no time
  recorded counts as in time);
- the *share of schools* is of the open schools (in the area, or the council's); a school is
  *trained* when someone from it attended. *People trained per school* is attendances per
  open school.

Sessions are counted by the area they are for (a session for every area is its own row);
booked, attended and the rest by the area of the school the person works at, since those are
the area's schools' figures. Choosing an area counts its sessions, and its schools' places on
any session.

Every figure comes from three GROUP BY statements however many sessions and bookings there
are, after two for the courses and areas (see :func:`take_up_page`). PostgreSQL reads the
period's sessions by ix_course_session_starts_at and, for a short period, their bookings by
ix_training_booking_session; for a whole year of a large council's it hashes the bookings
(60,000 in some tens of milliseconds), which is cheaper than looking each session's up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)

from portal import clock
from portal.charts import BarChart, bar_chart
from portal.db import db
from portal.models import (
    PLACE_HOLDING,
    Area,
    Attendance,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    School,
    SchoolStatus,
    SessionStatus,
)
from portal.training.report_forms import Choice, TakeUpChoices, TakeUpFilter, TakeUpForm

# The row of the area table for sessions open to every area's schools.
EVERY_AREA = "Sessions for every area"


@dataclass(frozen=True)
class TakeUpRow:
    """One course's, one area's, or every one's figures. ``schools`` is how many open schools
    the share is of; None where the row has no schools of its own (sessions for every area),
    and then the booking figures are None too (they are counted in the schools' areas)."""

    label: str
    sessions: int = 0
    places: int = 0
    booked: int | None = 0
    attended: int | None = 0
    no_shows: int | None = 0
    cancelled_late: int | None = 0
    cancelled_in_time: int | None = 0
    schools: int | None = 0
    schools_trained: int | None = 0

    @property
    def cancellations(self) -> int | None:
        if self.cancelled_late is None or self.cancelled_in_time is None:
            return None
        return self.cancelled_late + self.cancelled_in_time

    @property
    def share_trained(self) -> Decimal | None:
        """Percent of the open schools with someone trained, to one decimal place."""
        if not self.schools or self.schools_trained is None:
            return None
        return _one_place(Decimal(100 * self.schools_trained) / self.schools)

    @property
    def trained_per_school(self) -> Decimal | None:
        """People trained (attendances) per open school, to two decimal places."""
        if not self.schools or self.attended is None:
            return None
        return (Decimal(self.attended) / self.schools).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


def _one_place(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TakeUp:
    chosen: TakeUpFilter
    courses: list[TakeUpRow]
    areas: list[TakeUpRow]
    total: TakeUpRow
    course_name: str | None = None
    area_name: str | None = None


@dataclass(frozen=True)
class TakeUpPage:
    """The filter as asked for, and its figures (None while the form has errors)."""

    form: TakeUpForm
    report: TakeUp | None


def take_up_page(args: Mapping[str, Any]) -> TakeUpPage:
    """The take-up report the request's arguments ask for (the current financial year, every
    course and every area, when they ask for nothing): five statements."""
    choices = take_up_choices()
    form = TakeUpForm(formdata=args, choices=choices, today=clock.today_in_london(clock.now()))
    return TakeUpPage(form, take_up(form.chosen, choices) if form.validate() else None)


def take_up_choices() -> TakeUpChoices:
    """Every course and every area, with each area's open schools: two statements."""
    courses = [
        Choice(course_id, title)
        for course_id, title in db.session.execute(select(Course.id, Course.title))
    ]
    rows = db.session.execute(
        select(Area.id, Area.name, func.count(School.id))
        .outerjoin(School, and_(School.area_id == Area.id, School.status == SchoolStatus.OPEN))
        .group_by(Area.id, Area.name)
    ).all()
    # Sorted here, not in SQL: PostgreSQL's collation and SQLite's order names differently.
    return TakeUpChoices(
        courses=_by_name(courses),
        areas=_by_name(Choice(area_id, name) for area_id, name, _ in rows),
        open_schools={area_id: count for area_id, _, count in rows},
    )


def _by_name(choices: Iterable[Choice]) -> list[Choice]:
    return sorted(choices, key=lambda choice: (choice.name.casefold(), choice.name, choice.id))


def take_up(chosen: TakeUpFilter, choices: TakeUpChoices) -> TakeUp:
    """The figures for ``chosen``, in three statements (with ``choices``' two, five)."""
    start, end = chosen.period.bounds()
    held = [
        CourseSession.status != SessionStatus.CANCELLED,
        CourseSession.starts_at >= start,
        CourseSession.starts_at < end,
    ]
    if chosen.course_id is not None:
        held.append(CourseSession.course_id == chosen.course_id)
    from_area: list[ColumnElement[bool]] = []
    if chosen.area_id is not None:
        from_area.append(School.area_id == chosen.area_id)

    sessions = _session_counts(held, chosen.area_id)
    bookings = _booking_counts(held, from_area)
    trained = _schools_trained(held, from_area)

    course_names = {choice.id: choice.name for choice in choices.courses}
    open_schools = choices.open_schools
    if chosen.area_id is not None:
        open_schools = {chosen.area_id: open_schools.get(chosen.area_id, 0)}
    all_open = sum(open_schools.values())

    course_ids = {course for course, _ in sessions} | {course for course, _ in bookings}
    courses = [
        _row(
            course_names.get(course_id, ""),
            [figures for (course, _), figures in sessions.items() if course == course_id],
            [figures for (course, _), figures in bookings.items() if course == course_id],
            schools=all_open,
            trained=trained.get(("course", course_id), 0),
        )
        for course_id in course_ids
    ]
    courses.sort(key=lambda row: (row.label.casefold(), row.label))

    areas = [
        _row(
            choice.name,
            [figures for (_, area), figures in sessions.items() if area == choice.id],
            [figures for (_, area), figures in bookings.items() if area == choice.id],
            schools=open_schools.get(choice.id, 0),
            trained=trained.get(("area", choice.id), 0),
        )
        for choice in choices.areas
        if choice.id in open_schools
    ]
    every_area = [figures for (_, area), figures in sessions.items() if area is None]
    if every_area:
        areas.append(_row(EVERY_AREA, every_area, [], schools=None, trained=None, of_schools=False))

    total = _row(
        "Total",
        list(sessions.values()),
        list(bookings.values()),
        schools=all_open,
        trained=trained.get(("all", 0), 0),
    )
    return TakeUp(
        chosen=chosen,
        courses=courses,
        areas=areas,
        total=total,
        course_name=course_names.get(chosen.course_id) if chosen.course_id else None,
        area_name=next((a.name for a in choices.areas if a.id == chosen.area_id), None),
    )


def _row(
    label: str,
    sessions: list[tuple[int, ...]],
    bookings: list[tuple[int, ...]],
    *,
    schools: int | None,
    trained: int | None,
    of_schools: bool = True,
) -> TakeUpRow:
    held, places = (sum(column) for column in zip(*sessions, strict=True)) if sessions else (0, 0)
    if not of_schools:
        return TakeUpRow(
            label,
            sessions=held,
            places=places,
            booked=None,
            attended=None,
            no_shows=None,
            cancelled_late=None,
            cancelled_in_time=None,
            schools=None,
            schools_trained=None,
        )
    booked, attended, absent, cancelled, late = (
        (sum(column) for column in zip(*bookings, strict=True)) if bookings else (0,) * 5
    )
    return TakeUpRow(
        label,
        sessions=held,
        places=places,
        booked=booked,
        attended=attended,
        no_shows=absent,
        cancelled_late=late,
        cancelled_in_time=cancelled - late,
        schools=schools,
        schools_trained=trained,
    )


def _session_counts(
    held: list[ColumnElement[bool]], area_id: int | None
) -> dict[tuple[int, int | None], tuple[int, int]]:
    """Sessions and places by (course, the area the session is for)."""
    query = select(
        CourseSession.course_id,
        CourseSession.area_id,
        func.count(),
        func.coalesce(func.sum(CourseSession.capacity), 0),
    ).where(*held)
    if area_id is not None:
        query = query.where(CourseSession.area_id == area_id)
    rows = db.session.execute(query.group_by(CourseSession.course_id, CourseSession.area_id))
    return {(course, area): (int(count), int(places)) for course, area, count, places in rows}


def _counted(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _booking_counts(
    held: list[ColumnElement[bool]], from_area: list[ColumnElement[bool]]
) -> dict[tuple[int, int], tuple[int, int, int, int, int]]:
    """Booked, attended, absent, cancelled and cancelled late, by (course, the school's area).

    Read from each counted session's bookings (ix_training_booking_session)."""
    cancelled = Booking.status == BookingStatus.CANCELLED
    rows = db.session.execute(
        select(
            CourseSession.course_id,
            School.area_id,
            _counted(
                Booking.status.in_(PLACE_HOLDING) | (Booking.attendance == Attendance.ATTENDED)
            ),
            _counted(Booking.attendance == Attendance.ATTENDED),
            _counted(Booking.attendance == Attendance.ABSENT),
            _counted(cancelled),
            _counted(and_(cancelled, _cancelled_late())),
        )
        .select_from(CourseSession)
        .join(Booking, Booking.session_id == CourseSession.id)
        .join(Course, Course.id == CourseSession.course_id)
        .join(School, School.id == Booking.school_id)
        .where(*held, *from_area)
        .group_by(CourseSession.course_id, School.area_id)
    )
    return {
        (course, area): (int(booked), int(attended), int(absent), int(cancelled), int(late))
        for course, area, booked, attended, absent, cancelled, late in rows
    }


def _cancelled_late() -> ColumnElement[bool]:
    """Cancelled after the last free day: the rule schools are charged by
    (portal/training/charges.py), in SQL. The London date it was cancelled on is later than
    the London date of the session less the course's cancellation days.

    Neither time zones nor date arithmetic are portable SQL: PostgreSQL converts with its
    time zone data; SQLite has none, so London's rule (summer time from 01:00 UTC on the last
    Sunday of March to 01:00 UTC on the last Sunday of October) is written out for it, and
    dates are compared as Julian day numbers."""
    days = Course.cancellation_days
    if db.session.get_bind().dialect.name == "sqlite":
        return (
            func.julianday(_sqlite_london_date(Booking.cancelled_at))
            > func.julianday(_sqlite_london_date(CourseSession.starts_at)) - days
        )
    return _london_date(Booking.cancelled_at) > _london_date(CourseSession.starts_at) - days


def _london_date(moment: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(func.timezone(clock.LONDON.key, moment), Date)


def _sqlite_london_date(moment: ColumnElement[Any]) -> ColumnElement[Any]:
    year = func.strftime("%Y", moment)
    # The last Sunday of a month of 31 days is the first Sunday on or after its 25th.
    summer_from = func.datetime(func.date(year.concat("-03-25"), "weekday 0"), "+1 hour")
    summer_to = func.datetime(func.date(year.concat("-10-25"), "weekday 0"), "+1 hour")
    return case(
        (and_(moment >= summer_from, moment < summer_to), func.date(moment, "+1 hour")),
        else_=func.date(moment),
    )


def _schools_trained(
    held: list[ColumnElement[bool]], from_area: list[ColumnElement[bool]]
) -> dict[tuple[str, int], int]:
    """Open schools with someone who attended: per course, per area and in all, in one
    statement (a school trained on two courses is one school in its area's count)."""
    trained = (
        select(
            Booking.school_id.label("school_id"),
            CourseSession.course_id.label("course_id"),
            School.area_id.label("area_id"),
        )
        .select_from(CourseSession)
        .join(Booking, Booking.session_id == CourseSession.id)
        .join(School, School.id == Booking.school_id)
        .where(
            *held,
            *from_area,
            Booking.attendance == Attendance.ATTENDED,
            School.status == SchoolStatus.OPEN,
        )
        .cte("trained")
    )
    schools = func.count(trained.c.school_id.distinct())
    rows = db.session.execute(
        union_all(
            select(literal("course"), trained.c.course_id, schools).group_by(trained.c.course_id),
            select(literal("area"), trained.c.area_id, schools).group_by(trained.c.area_id),
            select(literal("all"), cast(literal(0), Integer), schools),
        )
    )
    return {(kind, key): int(count) for kind, key, count in rows}


# The most courses the chart draws: the table beside it has every one.
CHART_COURSES = 12


def take_up_charts(report: TakeUp) -> dict[str, BarChart]:
    """The page's charts, by the name the template looks them up with. ``bar_chart`` draws
    whole numbers, so the share of schools is to the whole percent (the table is exact)."""
    courses = report.courses
    if len(courses) > CHART_COURSES:
        courses = sorted(courses, key=lambda row: -(row.booked or 0))[:CHART_COURSES]
        title = f"Attended and no-shows, the {CHART_COURSES} courses with most booked"
    else:
        title = "Attended and no-shows by course"
    attendance = []
    for row in courses:
        # Named by the kind of figure first: the chart cuts long labels short at the end.
        attendance.append((f"Attended: {row.label}", row.attended or 0))
        attendance.append((f"No-shows: {row.label}", row.no_shows or 0))
    share = [
        (row.label, int(row.share_trained.to_integral_value(ROUND_HALF_UP)))
        for row in report.areas
        if row.share_trained is not None
    ]
    return {
        "attendance": bar_chart(title, attendance),
        "share": bar_chart("Share of open schools with someone trained, by area (%)", share),
    }
