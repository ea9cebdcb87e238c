"""Booking a place on a session, for oneself or a colleague, once.

A place is taken by places.take_place (a conditional UPDATE: the last place cannot go
twice); a full session puts the person on its waiting list, if they chose to join it. A
school whose bookings need approval holds the place while its approver decides. The price
is frozen on the booking; what the school owes is the price once the place is confirmed.
The same form sent twice (its submission key) books once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from portal import audit
from portal.access import (
    Principal,
    booking_scope,
    get_course_session_or_404,
    may_approve_booking,
    training_schools,
)
from portal.clock import utcnow
from portal.db import db
from portal.models import (
    LIVE_BOOKING,
    Approver,
    Booking,
    BookingStatus,
    CourseSession,
    Membership,
    Role,
    School,
    SchoolTrainingSettings,
    SessionStatus,
    User,
)
from portal.training import emails, places
from portal.training.prices import SchoolPrices


@dataclass(frozen=True)
class Attendee:
    """Who will attend: the person booking (with their account), or a colleague."""

    name: str
    email: str
    job_title: str = ""
    user_id: int | None = None


@dataclass(frozen=True)
class Booked:
    booking_id: int
    status: BookingStatus


@dataclass(frozen=True)
class AlreadyBooked:
    """The person already has a live booking on the session (or the form was sent before)."""

    booking_id: int


@dataclass(frozen=True)
class Full:
    """No place left, and the person did not ask to join the waiting list."""


@dataclass(frozen=True)
class Closed:
    """The session has started or was cancelled: it cannot be booked."""


@dataclass(frozen=True)
class Busy:
    """The database was too busy to take the booking: try again."""


Outcome = Booked | AlreadyBooked | Full | Closed | Busy


def bookable(session: CourseSession) -> bool:
    """Whether the session may be booked now: scheduled and not started."""
    return session.status == SessionStatus.SCHEDULED and session.starts_at > utcnow()


@dataclass(frozen=True)
class BookingForm:
    """What the booking page shows: the session, the schools one may book for, the price for
    the chosen school, and whether the session has a place left or is closed."""

    session: CourseSession
    schools: list[School]
    school: School | None
    price_pence: int
    open: bool


def booking_form(who: Principal, session_id: int, school_id: int | None) -> BookingForm:
    session = get_course_session_or_404(who, session_id)
    schools = training_schools(who)
    school = next((s for s in schools if s.id == school_id), None)
    if school_id is not None and school is None:
        # Not one of theirs: as if there were no such school.
        abort(404)
    school = school or (schools[0] if schools else None)
    price = session.course.price_pence
    if school is not None:
        prices = SchoolPrices.read(
            school.id, school.is_academy, [(session.course, session.starts_at)]
        )
        price = prices.price(session.course, session.starts_at)
    return BookingForm(session, schools, school, price, bookable(session))


def book_place(
    who: Principal,
    session_id: int,
    school_id: int | None,
    attendee: Attendee,
    submission_key: str,
    *,
    join_waiting_list: bool = False,
) -> Outcome:
    """Book ``attendee`` a place on the session for the school ``school_id`` (one of
    ``who``'s), or a place on its waiting list when it is full and ``join_waiting_list``."""
    sent = _booked_with(who, submission_key)
    if sent is not None:
        return AlreadyBooked(sent.id)
    form = booking_form(who, session_id, school_id)
    session, school = form.session, form.school
    if school is None or not form.open:
        return Closed()
    email = attendee.email.strip().lower()
    live = live_booking_for(session.id, email)
    if live is not None:
        return AlreadyBooked(live.id)
    settings = db.session.get(SchoolTrainingSettings, school.id)
    # Someone who may approve the school's places (its head teacher, say) does not wait
    # for their own approval.
    needs_approval = (
        settings is not None
        and settings.approver is not Approver.NOBODY
        and not may_approve_booking(who, Booking(school_id=school.id), settings)
    )
    if places.take_place(session.id):
        status = BookingStatus.AWAITING_APPROVAL if needs_approval else BookingStatus.CONFIRMED
    elif join_waiting_list:
        status = BookingStatus.WAITING
    else:
        return Full()
    now = utcnow()
    booking = Booking(
        session_id=session.id,
        school_id=school.id,
        attendee_name=attendee.name.strip(),
        attendee_email=email,
        attendee_job_title=attendee.job_title.strip(),
        attendee_user_id=attendee.user_id,
        booked_by_id=who.person.id,
        status=status,
        created_at=now,
        joined_list_at=now if status is BookingStatus.WAITING else None,
        price_pence=form.price_pence,
        charge_pence=form.price_pence if status is BookingStatus.CONFIRMED else 0,
        submission_key=submission_key or None,
    )
    db.session.add(booking)
    try:
        db.session.flush()
    except (IntegrityError, OperationalError):
        # Another press of the same button has just booked it (the key is unique), another
        # form has just booked the same person (one live booking a person a session, by the
        # database's own index), or SQLite gave up waiting for the other writer.
        db.session.rollback()
        sent = _booked_with(who, submission_key) or live_booking_for(session_id, email)
        return Busy() if sent is None else AlreadyBooked(sent.id)
    booking.session = session
    booking.school = school
    audit.record(
        "training.booked",
        actor=who.user,
        subject=booking,
        session_id=session.id,
        status=status.value,
        price_pence=booking.price_pence,
    )
    if status is BookingStatus.CONFIRMED:
        emails.booking_confirmed(booking)
    elif status is BookingStatus.AWAITING_APPROVAL:
        emails.approval_needed(booking, approvers_of(school, settings))
    else:
        emails.added_to_waiting_list(booking)
    db.session.commit()
    return Booked(booking.id, status)


def _booked_with(who: Principal, submission_key: str) -> Booking | None:
    if not submission_key:
        return None
    return db.session.scalars(
        select(Booking).where(Booking.submission_key == submission_key, booking_scope(who))
    ).one_or_none()


def live_booking_for(session_id: int, email: str) -> Booking | None:
    """The person's booking on the session still in play (a place, an offer, the waiting
    list), if any: one person is never on a session twice."""
    return db.session.scalars(
        select(Booking)
        .where(
            Booking.session_id == session_id,
            Booking.attendee_email == email.strip().lower(),
            Booking.status.in_(LIVE_BOOKING),
        )
        .limit(1)
    ).first()


def approvers_of(school: School, settings: SchoolTrainingSettings | None) -> Sequence[User]:
    """Who approves the school's bookings: its named training lead, or its head teachers
    (with their trust's leads, for an academy without a head teacher's account)."""
    if settings is None or settings.approver is Approver.NOBODY:
        return []
    if settings.approver is Approver.TRAINING_LEAD and settings.training_lead is not None:
        return [settings.training_lead]
    heads = list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.school_id == school.id,
                Membership.role == Role.HEAD_TEACHER,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )
    if heads or school.trust_id is None:
        return heads
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.trust_id == school.trust_id,
                Membership.role == Role.TRUST_LEAD,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )
