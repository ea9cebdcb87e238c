"""What the daily run (``flask training remind``) sends attendees: a reminder shortly
before a session, and after attending, the request for an evaluation.

Each is sent once per booking. A booking is claimed by one conditional UPDATE (its
``reminded_at`` or ``evaluation_requested_at`` set where it is still empty) in the
transaction that queues its e-mail, so a run that fails queues nothing and marks nothing,
and two runs at once cannot both claim it: on PostgreSQL the second UPDATE waits for the
first's commit and then finds the column set; SQLite writes one at a time. The bookings are
taken in chunks by id, a transaction each, so that a council's tens of thousands of bookings
are never held in memory or in one transaction at once.

The claim is bookkeeping, not a change to the place: it does not raise the booking's
version, so nobody editing the booking meanwhile is told someone else changed it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from portal import clock
from portal.db import db
from portal.models import (
    Attendance,
    Booking,
    BookingStatus,
    CourseSession,
    Evaluation,
    SessionStatus,
)
from portal.training import emails

# Sessions starting within this many days get their reminder (run daily: a day or two ahead).
REMINDER_DAYS = 2
# Attendance recorded longer after the session than this is not asked about: a first run
# over years of bookings (or imported history) would otherwise write to everyone.
EVALUATION_WITHIN_DAYS = 90
CHUNK = 500


@dataclass
class Run:
    """One kind of message: how many bookings each chunk sent it for."""

    chunks: list[int] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.chunks)


@dataclass
class RemindReport:
    reminders: Run
    evaluation_requests: Run


def remind(days: int = REMINDER_DAYS, chunk: int = CHUNK) -> RemindReport:
    """Remind every confirmed attendee of a session starting within ``days`` days who has not
    been reminded; ask every attendee marked attended, whose evaluation has not been asked
    for (nor given), for it. Commits after each chunk."""
    moment = clock.now()
    return RemindReport(
        reminders=_each_once(
            reminder_due(moment, days),
            Booking.reminded_at,
            moment,
            chunk,
            lambda booking: emails.reminder(booking, moment),
        ),
        evaluation_requests=_each_once(
            evaluation_due(moment),
            Booking.evaluation_requested_at,
            moment,
            chunk,
            emails.evaluation_requested,
        ),
    )


def reminder_due(moment: datetime, days: int) -> list[ColumnElement[bool]]:
    """A confirmed place, not yet reminded, on a scheduled session starting within ``days``."""
    return [
        Booking.status == BookingStatus.CONFIRMED,
        Booking.reminded_at.is_(None),
        Booking.session_id.in_(
            select(CourseSession.id).where(
                CourseSession.status == SessionStatus.SCHEDULED,
                CourseSession.starts_at > moment,
                CourseSession.starts_at <= moment + timedelta(days=days),
            )
        ),
    ]


def evaluation_due(moment: datetime) -> list[ColumnElement[bool]]:
    """Attended, not yet asked, not yet evaluated, and the session over (not long ago)."""
    return [
        Booking.attendance == Attendance.ATTENDED,
        Booking.evaluation_requested_at.is_(None),
        Booking.id.not_in(select(Evaluation.booking_id)),
        Booking.session_id.in_(
            select(CourseSession.id).where(
                CourseSession.ends_at <= moment,
                CourseSession.ends_at > moment - timedelta(days=EVALUATION_WITHIN_DAYS),
            )
        ),
    ]


def _each_once(
    due: Sequence[ColumnElement[bool]],
    claimed_at: InstrumentedAttribute[datetime | None],
    moment: datetime,
    chunk: int,
    send: Callable[[Booking], None],
) -> Run:
    run = Run()
    after = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Booking.id).where(*due, Booking.id > after).order_by(Booking.id).limit(chunk)
            )
        )
        if not ids:
            return run
        after = ids[-1]
        # Claimed only where still due: another run may have taken some since they were read.
        claimed = list(
            db.session.scalars(
                update(Booking)
                .where(Booking.id.in_(ids), *due)
                .values({claimed_at: moment})
                .returning(Booking.id)
                .execution_options(synchronize_session=False)
            )
        )
        bookings = db.session.scalars(
            select(Booking)
            .where(Booking.id.in_(claimed))
            .order_by(Booking.id)
            .options(
                joinedload(Booking.session).joinedload(CourseSession.course),
                joinedload(Booking.school),
                joinedload(Booking.booked_by),
            )
        ).all()
        for booking in bookings:
            send(booking)
        db.session.commit()
        run.chunks.append(len(bookings))
