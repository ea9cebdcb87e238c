"""A course's page: what it is, what a place costs the school looking (and the rules of the
price and of cancelling late), and its upcoming sessions with places left and the size of
each waiting list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.access import Principal, get_course_or_404, training_schools
from portal.clock import utcnow
from portal.db import db
from portal.models import (
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    School,
    SessionStatus,
)
from portal.training.finding import choose_school
from portal.training.prices import SchoolPrices, late_charge_rule, price_rules


@dataclass(frozen=True)
class SessionOffer:
    session: CourseSession
    price_pence: int
    waiting: int


@dataclass(frozen=True)
class CoursePage:
    course: Course
    school: School | None
    schools: list[School]
    sessions: list[SessionOffer]
    rules: list[str]
    late_rule: str


def course_page(who: Principal, course_id: int, school_id: int | None) -> CoursePage:
    course = get_course_or_404(who, course_id)
    schools = training_schools(who)
    school = choose_school(schools, school_id)
    sessions = list(
        db.session.scalars(
            select(CourseSession)
            .where(
                CourseSession.course_id == course.id,
                CourseSession.status == SessionStatus.SCHEDULED,
                CourseSession.starts_at > utcnow(),
            )
            .order_by(CourseSession.starts_at, CourseSession.id)
        )
    )
    waiting = waiting_counts([s.id for s in sessions])
    prices = SchoolPrices.read(
        school.id if school else None,
        bool(school and school.is_academy),
        [(course, s.starts_at) for s in sessions],
    )
    offers = [
        SessionOffer(s, prices.price(course, s.starts_at), waiting.get(s.id, 0)) for s in sessions
    ]
    # The price now, for the rule of cancelling late (a session's own price is on its row).
    shown_price = offers[0].price_pence if offers else course.price_pence
    service = course.member_service.name if course.member_service is not None else None
    return CoursePage(
        course=course,
        school=school,
        schools=schools,
        sessions=offers,
        rules=price_rules(course, service),
        late_rule=late_charge_rule(shown_price, course.late_charge_pence, course.cancellation_days),
    )


def waiting_counts(session_ids: list[int]) -> dict[int, int]:
    """How many are on each session's waiting list, in one query."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Booking.session_id, func.count())
        .where(Booking.session_id.in_(session_ids), Booking.status == BookingStatus.WAITING)
        .group_by(Booking.session_id)
    ).all()
    return {session_id: count for session_id, count in rows}
