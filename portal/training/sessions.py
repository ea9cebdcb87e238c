"""The training coordinator's sessions: adding one to a course, changing it (a change of
date, time or place is a move, and everyone booked or waiting is told), and cancelling it
(every live booking ends without charge, its place freed, and everyone is told).

Places are freed only through portal/training/places.py. A session's capacity never goes
below the places taken: checked here against the row as read, and by the table's own
check (places_taken <= capacity) against a place taken meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import audit, clock
from portal.db import db
from portal.models import (
    LIVE_BOOKING,
    Area,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    SessionStatus,
    User,
)
from portal.pricing import plural
from portal.training import emails
from portal.training.places import free_place


@dataclass(frozen=True)
class SessionDetails:
    """What the coordinator gives for a session; times in UTC."""

    starts_at: datetime
    ends_at: datetime
    venue: str | None
    online_link: str | None
    area_id: int | None
    capacity: int
    trainer: str


@dataclass(frozen=True)
class SessionSaved:
    session: CourseSession
    moved: bool = False
    told: int = 0  # how many bookings were told of the move


@dataclass(frozen=True)
class SessionConflict:
    """Someone else changed the session (or its bookings) since it was read: nothing was
    saved, and the session is read again, as it is now."""

    session: CourseSession


@dataclass(frozen=True)
class SessionRefused:
    """What was asked does not fit the session now; ``reason`` says why, in words, and
    ``field`` names the form's field it is about (None: the whole form)."""

    reason: str
    field: str | None = None


@dataclass(frozen=True)
class SessionCancelled:
    session: CourseSession
    told: int  # bookings (places and the waiting list) told


def council_areas() -> list[Area]:
    """The council's areas, by name: a session is for one of them, or countywide."""
    return list(db.session.scalars(select(Area).order_by(Area.name)))


def place_of(session: CourseSession) -> str:
    """Where a session is held, in words: its venue, or online, or both."""
    if session.venue and session.online_link:
        return f"{session.venue}, or online at {session.online_link}"
    if session.venue:
        return session.venue
    return f"Online at {session.online_link}"


def live_bookings(session: CourseSession) -> list[Booking]:
    """The session's bookings still in play (holding a place or waiting), in the order
    they were made."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status.in_(LIVE_BOOKING))
            .order_by(Booking.created_at, Booking.id)
        )
    )


def _values(session: CourseSession) -> dict[str, object]:
    return {
        "starts_at": session.starts_at.isoformat() if session.starts_at else None,
        "ends_at": session.ends_at.isoformat() if session.ends_at else None,
        "venue": session.venue,
        "online_link": session.online_link,
        "area_id": session.area_id,
        "capacity": session.capacity,
        "trainer": session.trainer,
    }


def _apply(session: CourseSession, details: SessionDetails) -> None:
    session.starts_at = details.starts_at
    session.ends_at = details.ends_at
    session.venue = details.venue
    session.online_link = details.online_link
    session.area_id = details.area_id
    session.capacity = details.capacity
    session.trainer = details.trainer


IN_THE_PAST = "Enter a date and time in the future"


def create_session(
    course: Course, details: SessionDetails, actor: User
) -> SessionSaved | SessionRefused:
    """A new scheduled session of ``course``, in the future."""
    if details.starts_at <= clock.now():
        return SessionRefused(IN_THE_PAST, "day")
    session = CourseSession(course=course, status=SessionStatus.SCHEDULED, places_taken=0)
    _apply(session, details)
    db.session.add(session)
    db.session.flush()
    audit.record(
        "training.session_created",
        actor=actor,
        subject=session,
        course=course.title,
        values=_values(session),
    )
    db.session.commit()
    return SessionSaved(session)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _as_shown(session: CourseSession, details: SessionDetails) -> SessionDetails:
    """``details``, keeping the session's own start and end where the form gave them back
    as it showed them (to the minute): a time with seconds, made elsewhere, is not moved by
    a change of trainer."""
    starts_at, ends_at = details.starts_at, details.ends_at
    if starts_at == _minute(session.starts_at):
        starts_at = session.starts_at
    if ends_at == _minute(session.ends_at):
        ends_at = session.ends_at
    return replace(details, starts_at=starts_at, ends_at=ends_at)


def _moves(session: CourseSession, details: SessionDetails) -> bool:
    return (session.starts_at, session.ends_at, session.venue, session.online_link) != (
        details.starts_at,
        details.ends_at,
        details.venue,
        details.online_link,
    )


def _capacity_refusal(taken: int) -> SessionRefused:
    return SessionRefused(
        f"Capacity must be at least {taken}: {plural(taken, 'place')} already taken",
        "capacity",
    )


def update_session(
    session: CourseSession, details: SessionDetails, actor: User, seen_version: int
) -> SessionSaved | SessionConflict | SessionRefused:
    """Change ``session`` as the coordinator saw it at ``seen_version``. A new date, time or
    place is a move: everyone booked or waiting is told, with where and when it was."""
    if session.version != seen_version:
        return SessionConflict(session)
    if session.status is SessionStatus.CANCELLED:
        return SessionRefused("This session has been cancelled: it cannot be changed")
    details = _as_shown(session, details)
    if details.capacity < session.places_taken:
        return _capacity_refusal(session.places_taken)
    moved = _moves(session, details)
    if moved and session.register_taken_at is not None:
        return SessionRefused("The register has been taken: the session cannot be moved", "day")
    if moved and details.starts_at != session.starts_at and details.starts_at <= clock.now():
        return SessionRefused(IN_THE_PAST, "day")
    before = _values(session)
    previous = (session.starts_at, session.ends_at, place_of(session))
    _apply(session, details)
    after = _values(session)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    told: list[Booking] = []
    if moved:
        audit.record(
            "training.session_moved",
            actor=actor,
            subject=session,
            course=session.course.title,
            changes=changes,
        )
    elif changes:
        audit.record(
            "training.session_updated",
            actor=actor,
            subject=session,
            course=session.course.title,
            changes=changes,
        )
    if moved:
        told = live_bookings(session)
        emails.session_moved(session, told, *previous)
    try:
        db.session.commit()
    except StaleDataError:
        # Another change to the session landed between reading it and this commit.
        db.session.rollback()
        db.session.refresh(session)
        return SessionConflict(session)
    except IntegrityError:
        # A place was taken meanwhile, above the new capacity (the table's own check).
        db.session.rollback()
        db.session.refresh(session)
        return _capacity_refusal(session.places_taken)
    return SessionSaved(session, moved=moved, told=len(told))


def cancel_session(
    session: CourseSession, reason: str, actor: User
) -> SessionCancelled | SessionConflict | SessionRefused:
    """Cancel ``session``: every booking holding a place or waiting ends as cancelled by
    the council, with nothing to pay, its place freed; everyone is told, with ``reason``."""
    if session.status is SessionStatus.CANCELLED:
        return SessionRefused("This session has already been cancelled")
    if session.register_taken_at is not None:
        return SessionRefused("The register has been taken: the session cannot be cancelled")
    session.status = SessionStatus.CANCELLED
    session.cancelled_reason = reason
    try:
        # The session is cancelled first, its row locked until this commits: nobody takes a
        # place on it from now on (places.take_place wants a scheduled session), and the
        # bookings read next are all there will be.
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(session)
        return SessionConflict(session)
    bookings = live_bookings(session)
    now = clock.utcnow()
    for booking in bookings:
        if booking.status.holds_place:
            free_place(session.id)
        booking.status = BookingStatus.SESSION_CANCELLED
        booking.charge_pence = 0
        booking.offer_expires_at = None
        booking.cancelled_at = now
        booking.reason = reason
    audit.record(
        "training.session_cancelled",
        actor=actor,
        subject=session,
        course=session.course.title,
        starts_at=session.starts_at.isoformat(),
        reason=reason,
        bookings=len(bookings),
    )
    emails.session_cancelled(session, bookings)
    try:
        db.session.commit()
    except StaleDataError:
        # A booking changed meanwhile (cancelled, swapped): nothing was cancelled.
        db.session.rollback()
        db.session.refresh(session)
        return SessionConflict(session)
    return SessionCancelled(session, told=len(bookings))
