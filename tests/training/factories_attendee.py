"""Courses, sessions and bookings for the attendee's tests (calendar files, e-mails,
reminders, evaluations), written through the session given. Until finding and booking's
tests/training/factories.py is here; the lead folds the two together."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import from_london
from portal.models import (
    Attendance,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    CourseStatus,
    School,
    StaffLevel,
    User,
)
from tests.conftest import ROLE_ACCOUNTS


def known_role(role: str) -> None:
    """Skip a case for a demo role the suite does not know yet (the training coordinator's
    account comes with another part of training's work)."""
    if role not in ROLE_ACCOUNTS:
        pytest.skip(f"no demo account for {role} in this branch")


def school(session: Session, urn: int = 125601) -> School:
    return session.scalars(select(School).where(School.urn == urn)).one()


def user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def make_course(session: Session, **values: Any) -> Course:
    course = Course(
        **{
            "title": "Designated safeguarding lead: new to the role",
            "description": "Two days for new designated safeguarding leads.",
            "audience": "New designated safeguarding leads",
            "staff_level": StaffLevel.DESIGNATED_LEADS,
            "learning_outcomes": "Know the duties of the role\nRecord and refer concerns",
            "duration_minutes": 180,
            "price_pence": 9500,
            "cancellation_days": 10,
            "status": CourseStatus.PUBLISHED,
            **values,
        }
    )
    session.add(course)
    session.flush()
    return course


def make_session(
    session: Session,
    course: Course,
    day: date | None = None,
    starts: str = "09:30",
    ends: str = "12:30",
    **values: Any,
) -> CourseSession:
    day = day or date(2027, 3, 2)
    run = CourseSession(
        **{
            "course": course,
            "starts_at": from_london(day, starts),
            "ends_at": from_london(day, ends),
            "venue": "Shire Hall, Warwick",
            "capacity": 20,
            "trainer": "Dana Trainer",
            **values,
        }
    )
    session.add(run)
    session.flush()
    return run


def make_booking(
    session: Session,
    run: CourseSession,
    at: School | None = None,
    status: BookingStatus = BookingStatus.CONFIRMED,
    attendee: User | None = None,
    booked_by: User | None = None,
    **values: Any,
) -> Booking:
    at = at or school(session)
    booking = Booking(
        **{
            "session": run,
            "school": at,
            "attendee_name": attendee.display_name if attendee else "Casey Colleague",
            "attendee_email": attendee.email if attendee else "casey@oakfield.example",
            "attendee_user_id": attendee.id if attendee else None,
            "booked_by_id": booked_by.id if booked_by else None,
            "status": status,
            "price_pence": run.course.price_pence,
            "charge_pence": run.course.price_pence,
            **values,
        }
    )
    if status.holds_place:
        run.places_taken += 1
    session.add(booking)
    session.flush()
    return booking


def attended(session: Session, booking: Booking) -> Booking:
    booking.attendance = Attendance.ATTENDED
    session.flush()
    return booking


def days_from(moment: datetime, days: float) -> datetime:
    return moment + timedelta(days=days)
