"""A session for its coordinator: its bookings, its waiting list in order, and its register.

Taking the register marks each confirmed place attended or not, once the session has
started. Attending costs the place's price (frozen when it was booked); not attending
costs the course's late charge, by the same rule as a late cancellation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from portal import audit, clock
from portal.db import db
from portal.models import (
    Attendance,
    Booking,
    BookingStatus,
    CourseSession,
    SessionStatus,
    User,
)
from portal.pricing import pounds
from portal.spreadsheets import text_cell, to_csv
from portal.training import changes
from portal.training.charges import late_charge_for


@dataclass(frozen=True)
class SessionBookings:
    session: CourseSession
    # Every booking but the waiting list: places held, and those given up or refused.
    bookings: list[Booking]
    # The waiting list, first in line first.
    waiting: list[Booking]
    # The places the register marks.
    confirmed: list[Booking]
    # Whether the register can be taken now: the session has started and was not cancelled.
    register_open: bool
    # Each booking's status in words, as it is at this moment (by booking id).
    labels: dict[int, str]


def session_bookings(session: CourseSession) -> SessionBookings:
    """``session``'s bookings with their schools, in one query."""
    found = list(
        db.session.scalars(
            select(Booking)
            .options(joinedload(Booking.school))
            .where(Booking.session_id == session.id)
            .order_by(Booking.created_at, Booking.id)
        )
    )
    waiting = sorted(
        (b for b in found if b.status is BookingStatus.WAITING),
        key=lambda b: (b.joined_list_at or b.created_at, b.id),
    )
    return SessionBookings(
        session=session,
        bookings=[b for b in found if b.status is not BookingStatus.WAITING],
        waiting=waiting,
        confirmed=[b for b in found if b.status is BookingStatus.CONFIRMED],
        register_open=register_open(session),
        labels={b.id: status_now(b) for b in found},
    )


def status_now(booking: Booking) -> str:
    """A booking's status as it stands now: an offered place whose time to accept has
    passed is no longer offered, even before the offers command has lapsed it."""
    status = changes.status_now(booking, clock.now())
    if status is BookingStatus.OFFERED and booking.offer_expires_at is not None:
        return f"{status.label} until {clock.london_time(booking.offer_expires_at)}"
    return status.label


def register_open(session: CourseSession) -> bool:
    return session.status is SessionStatus.SCHEDULED and session.starts_at <= clock.now()


def registers_to_take(limit: int) -> list[CourseSession]:
    """Sessions held whose register nobody has taken yet, the latest first: up to ``limit``
    and one more, so that the coordinator's home page knows there are more (one query)."""
    return list(
        db.session.scalars(
            select(CourseSession)
            .options(joinedload(CourseSession.course))
            .where(
                CourseSession.status == SessionStatus.SCHEDULED,
                CourseSession.starts_at <= clock.now(),
                CourseSession.register_taken_at.is_(None),
            )
            .order_by(CourseSession.starts_at.desc(), CourseSession.id)
            .limit(limit + 1)
        )
    )


@dataclass(frozen=True)
class RegisterTaken:
    attended: int
    absent: int


@dataclass(frozen=True)
class RegisterRefused:
    reason: str
    # The bookings left unmarked, for the messages beside them.
    unmarked: tuple[int, ...] = ()


@dataclass(frozen=True)
class RegisterConflict:
    """A booking changed while the register was being taken: nothing was saved."""


def take_register(
    session: CourseSession, marks: Mapping[int, Attendance], actor: User
) -> RegisterTaken | RegisterRefused | RegisterConflict:
    """Mark each confirmed place on ``session`` attended or absent (``marks``, by booking
    id), with what each then costs; every confirmed place needs a mark. Marking again
    corrects the register."""
    if session.status is SessionStatus.CANCELLED:
        return RegisterRefused("This session was cancelled: it has no register")
    if session.starts_at > clock.now():
        return RegisterRefused("The register can be taken once the session has started")
    confirmed = session_bookings(session).confirmed
    if not confirmed:
        return RegisterRefused("Nobody has a confirmed place on this session")
    unmarked = tuple(b.id for b in confirmed if b.id not in marks)
    if unmarked:
        return RegisterRefused("Mark everyone as attended or did not attend", unmarked)
    changes = {}
    for booking in confirmed:
        mark = marks[booking.id]
        charge = booking.price_pence if mark is Attendance.ATTENDED else late_charge_for(booking)
        if (booking.attendance, booking.charge_pence) != (mark, charge):
            changes[booking.id] = [
                booking.attendance.value if booking.attendance else None,
                mark.value,
            ]
        booking.attendance = mark
        booking.charge_pence = charge
    session.register_taken_at = clock.utcnow()
    attended = sum(1 for b in confirmed if b.attendance is Attendance.ATTENDED)
    audit.record(
        "training.register_taken",
        actor=actor,
        subject=session,
        course=session.course.title,
        attended=attended,
        absent=len(confirmed) - attended,
        changes=changes,
    )
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(session)
        return RegisterConflict()
    return RegisterTaken(attended=attended, absent=len(confirmed) - attended)


REGISTER_COLUMNS = [
    "Attendee",
    "E-mail address",
    "Job title",
    "School",
    "URN",
    "Booking",
    "Attendance",
    "Price (£)",
    "Charge (£)",
]


def register_csv(session: CourseSession) -> str:
    """The session's places (not its waiting list) as CSV, one row a booking."""
    return to_csv(
        REGISTER_COLUMNS,
        (
            [
                text_cell(booking.attendee_name),
                text_cell(booking.attendee_email),
                text_cell(booking.attendee_job_title),
                text_cell(booking.school.name),
                booking.school.urn,
                status_now(booking),
                booking.attendance.label if booking.attendance else "",
                pounds(booking.price_pence),
                pounds(booking.charge_pence),
            ]
            for booking in session_bookings(session).bookings
        ),
    )
