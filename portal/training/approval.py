"""A school's approver answers a booking that waits for approval: approved, the place is
confirmed (and the school owes its price); refused with a reason, the place goes back to
the session and the waiting list's first in line gets the chance of it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.access import (
    Principal,
    approvable_booking_scope,
    get_booking_or_404,
    may_approve_booking,
)
from portal.clock import utcnow
from portal.db import db
from portal.models import Booking, BookingStatus, CourseSession, SchoolTrainingSettings
from portal.training import emails, places, waiting_list


@dataclass(frozen=True)
class Decided:
    status: BookingStatus


@dataclass(frozen=True)
class NotWaiting:
    """The booking no longer waits for approval (someone else answered it first)."""

    status: BookingStatus


Decision = Decided | NotWaiting


def approvable(who: Principal, booking: Booking) -> bool:
    """Whether ``who`` may approve or refuse ``booking`` now."""
    if booking.status is not BookingStatus.AWAITING_APPROVAL:
        return False
    settings = db.session.get(SchoolTrainingSettings, booking.school_id)
    return may_approve_booking(who, booking, settings)


def _load(who: Principal, booking_id: int) -> Booking:
    booking = get_booking_or_404(who, booking_id)
    settings = db.session.get(SchoolTrainingSettings, booking.school_id)
    if not may_approve_booking(who, booking, settings):
        abort(403)
    return booking


def approve(who: Principal, booking_id: int) -> Decision:
    booking = _load(who, booking_id)
    if booking.status is not BookingStatus.AWAITING_APPROVAL:
        return NotWaiting(booking.status)
    booking.status = BookingStatus.CONFIRMED
    booking.charge_pence = booking.price_pence
    booking.decided_by_id = who.person.id
    booking.decided_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        return NotWaiting(get_booking_or_404(who, booking_id).status)
    audit.record("training.approved", actor=who.user, subject=booking)
    emails.booking_confirmed(booking)
    db.session.commit()
    return Decided(BookingStatus.CONFIRMED)


def refuse(who: Principal, booking_id: int, reason: str) -> Decision:
    booking = _load(who, booking_id)
    if booking.status is not BookingStatus.AWAITING_APPROVAL:
        return NotWaiting(booking.status)
    booking.status = BookingStatus.REFUSED
    booking.reason = reason.strip()
    booking.charge_pence = 0
    booking.decided_by_id = who.person.id
    booking.decided_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        return NotWaiting(get_booking_or_404(who, booking_id).status)
    places.free_place(booking.session_id)
    waiting_list.offer_next(booking.session_id)
    audit.record("training.refused", actor=who.user, subject=booking, reason=booking.reason)
    emails.booking_refused(booking)
    db.session.commit()
    return Decided(BookingStatus.REFUSED)


def awaiting_approval_count(who: Principal) -> int:
    """How many bookings wait for ``who``'s approval (for their home page)."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.status == BookingStatus.AWAITING_APPROVAL,
                approvable_booking_scope(who),
            )
        )
        or 0
    )


def awaiting_approval(who: Principal, limit: int = 50) -> list[Booking]:
    """The bookings waiting for ``who``'s approval, soonest session first."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(CourseSession, CourseSession.id == Booking.session_id)
            .options(
                joinedload(Booking.session).joinedload(CourseSession.course),
                joinedload(Booking.school),
            )
            .where(
                Booking.status == BookingStatus.AWAITING_APPROVAL,
                approvable_booking_scope(who),
            )
            .order_by(CourseSession.starts_at, Booking.id)
            .limit(limit)
        )
    )
