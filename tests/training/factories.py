"""Training test data: a course, a session of it, a booking on the session.

Plain functions with sensible defaults for every column, so a test names only what it is
about. They write through ``portal.db.db.session`` (inside an app context) unless given
the test's own ``session`` (the ``session`` fixture), and flush, so the rows have ids.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import from_london, utcnow
from portal.db import db
from portal.models import School, User
from portal.models.training import (
    PLACE_HOLDING,
    Attendance,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    CourseStatus,
    SessionStatus,
    StaffLevel,
)
from portal.training import emails

# The demo schools the tests use most.
OAKFIELD = 125601  # maintained primary, North; head_teacher and school_staff
RIVERSIDE = 140201  # academy in the Meadow trust; academy_head and trust_lead

_numbers = itertools.count(1)


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def school_by_urn(urn: int, *, session: Session | None = None) -> School:
    """A demo school by its URN."""
    return _session(session).scalars(select(School).where(School.urn == urn)).one()


def make_course(*, session: Session | None = None, **values: Any) -> Course:
    """A published course, free unless given a price; any column may be given."""
    number = next(_numbers)
    fields: dict[str, Any] = {
        "title": f"Test course {number}",
        "description": "What the course covers, for the tests.",
        "audience": "Anyone at a school",
        "staff_level": StaffLevel.ALL_STAFF,
        "learning_outcomes": "Know the first thing\nKnow the second thing",
        "duration_minutes": 180,
        "price_pence": 0,
        "cancellation_days": 10,
        "status": CourseStatus.PUBLISHED,
    }
    fields.update(values)
    course = Course(**fields)
    database = _session(session)
    database.add(course)
    database.flush()
    return course


def make_session(
    course: Course,
    *,
    starts_at: datetime | None = None,
    day: date | None = None,
    starts: str = "09:30",
    ends: str | None = None,
    session: Session | None = None,
    **values: Any,
) -> CourseSession:
    """A scheduled session of ``course``: in 30 days (a whole morning) unless given
    ``starts_at``, or a London ``day`` and times (``starts``, and ``ends`` or as long as
    the course), 20 places, countywide (area None), at a venue."""
    if day is not None:
        start = from_london(day, starts)
        end = from_london(day, ends) if ends else start + timedelta(minutes=course.duration_minutes)
    else:
        start = starts_at or (utcnow() + timedelta(days=30)).replace(microsecond=0)
        end = start + timedelta(minutes=course.duration_minutes)
    fields: dict[str, Any] = {
        "course": course,
        "starts_at": start,
        "ends_at": end,
        "venue": "Shire Hall, Warwick",
        "online_link": None,
        "area_id": None,
        "capacity": 20,
        "places_taken": 0,
        "trainer": "A. Trainer",
        "status": SessionStatus.SCHEDULED,
    }
    fields.update(values)
    course_session = CourseSession(**fields)
    database = _session(session)
    database.add(course_session)
    database.flush()
    return course_session


def make_booking(
    course_session: CourseSession,
    school: School,
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
    attendee_name: str | None = None,
    attendee_email: str | None = None,
    attendee: User | None = None,
    booked_by: User | None = None,
    take_place: bool = True,
    session: Session | None = None,
    **values: Any,
) -> Booking:
    """A booking for one person at ``school``, confirmed unless told otherwise: for the
    ``attendee`` with an account (their name, address and account), or someone named, or
    else an invented person; made by ``booked_by`` if given.

    A status that holds a place adds one to the session's ``places_taken`` (as booking
    does), unless ``take_place=False``; a waiting booking gets ``joined_list_at`` now.
    """
    number = next(_numbers)
    if attendee is not None:
        attendee_name = attendee_name or attendee.display_name
        attendee_email = attendee_email or attendee.email
    fields: dict[str, Any] = {
        "session": course_session,
        "school": school,
        "attendee_name": attendee_name or f"Attendee {number}",
        "attendee_email": (attendee_email or f"attendee{number}@school.example").lower(),
        "attendee_user_id": attendee.id if attendee is not None else None,
        "booked_by_id": booked_by.id if booked_by is not None else None,
        "attendee_job_title": "Teacher",
        "status": status,
        "price_pence": course_session.course.price_pence,
        "charge_pence": (
            course_session.course.price_pence if status == BookingStatus.CONFIRMED else 0
        ),
        "joined_list_at": utcnow() if status == BookingStatus.WAITING else None,
    }
    fields.update(values)
    booking = Booking(**fields)
    database = _session(session)
    database.add(booking)
    if take_place and status in PLACE_HOLDING:
        course_session.places_taken += 1
    database.flush()
    return booking


def attended(booking: Booking, *, session: Session | None = None) -> Booking:
    """``booking`` marked attended on the register."""
    booking.attendance = Attendance.ATTENDED
    _session(session).flush()
    return booking


def user_by_email(email: str, *, session: Session | None = None) -> User:
    """A demo account by its e-mail address."""
    return _session(session).scalars(select(User).where(User.email == email)).one()


# The booking e-mails (portal/training/emails.py), each recorded as (name, booking id).
BOOKING_EMAILS = (
    "booking_confirmed",
    "approval_needed",
    "place_offered",
    "offer_lapsed",
    "booking_cancelled",
    "attendee_swapped",
)


def record_emails(monkeypatch: Any) -> list[tuple[str, int]]:
    """Stand in for the booking e-mails: what was sent, as (function, booking id), in order."""
    sent: list[tuple[str, int]] = []
    for name in BOOKING_EMAILS:

        def record(booking: Booking, *_: Any, _name: str = name) -> None:
            sent.append((_name, booking.id))

        monkeypatch.setattr(emails, name, record)
    return sent
