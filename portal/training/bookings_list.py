"""A school's bookings, upcoming and past, and one booking's page: its status as it is at
the moment it is read (an offer past its expiry shows as lapsed, whether or not the nightly
command has marked it yet), and what the reader may do with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from portal import clock
from portal.access import (
    Principal,
    booking_scope,
    get_booking_or_404,
    may_act_on_booking,
    may_evaluate,
)
from portal.models import Attendance, Booking, BookingStatus, Course, CourseSession, School
from portal.pagination import Page, paginate
from portal.training.approval import approvable, awaiting_approval
from portal.training.changes import change_refusal, offer_is_open, status_now

PAGE_SIZE = 25
UPCOMING, PAST = "upcoming", "past"


@dataclass(frozen=True)
class BookingsFilter:
    when: str = UPCOMING
    status: BookingStatus | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> BookingsFilter:
        status = args.get("status", "")
        when = args.get("when", UPCOMING)
        return cls(
            when=when if when in (UPCOMING, PAST) else UPCOMING,
            status=BookingStatus(status) if status in BookingStatus._value2member_map_ else None,
            page=args.get("page", 1, type=int) or 1,
        )


@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    status: BookingStatus


@dataclass(frozen=True)
class BookingsList:
    filter: BookingsFilter
    page: Page[BookingRow]
    to_approve: list[Booking]


def school_bookings(who: Principal, chosen: BookingsFilter) -> BookingsList:
    now = clock.now()
    statement = (
        select(Booking)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .join(Course, Course.id == CourseSession.course_id)
        .join(School, School.id == Booking.school_id)
        .options(
            contains_eager(Booking.session).contains_eager(CourseSession.course),
            contains_eager(Booking.school),
        )
        .where(booking_scope(who))
    )
    if chosen.when == UPCOMING:
        statement = statement.where(CourseSession.starts_at > now).order_by(
            CourseSession.starts_at, Booking.id
        )
    else:
        statement = statement.where(CourseSession.starts_at <= now).order_by(
            CourseSession.starts_at.desc(), Booking.id.desc()
        )
    if chosen.status is BookingStatus.OFFER_LAPSED:
        # Lapsed, whether or not the command has marked it yet.
        statement = statement.where(
            (Booking.status == BookingStatus.OFFER_LAPSED)
            | ((Booking.status == BookingStatus.OFFERED) & (Booking.offer_expires_at <= now))
        )
    elif chosen.status is BookingStatus.OFFERED:
        statement = statement.where(
            Booking.status == BookingStatus.OFFERED, Booking.offer_expires_at > now
        )
    elif chosen.status is not None:
        statement = statement.where(Booking.status == chosen.status)
    found = paginate(statement, chosen.page, PAGE_SIZE)
    rows = [BookingRow(b, status_now(b, now)) for b in found.items]
    page = Page(items=rows, number=found.number, per_page=found.per_page, total=found.total)
    return BookingsList(chosen, page, awaiting_approval(who))


@dataclass(frozen=True)
class BookingPage:
    """A booking as the reader sees it now, and what they may do with it."""

    booking: Booking
    status: BookingStatus
    may_decide: bool
    # Cancelling or swapping who attends: the reader may, and the booking is still in play
    # before its session.
    may_change: bool
    # An offer of a place, open now, for the reader to accept or decline.
    offer_open: bool
    # The calendar file: for a place held, or one whose session was cancelled (to remove it).
    has_calendar: bool
    may_evaluate: bool
    has_certificate: bool


def booking_page(who: Principal, booking_id: int) -> BookingPage:
    booking = get_booking_or_404(who, booking_id)
    now = clock.now()
    status = status_now(booking, now)
    acts = may_act_on_booking(who, booking)
    attended = booking.attendance is Attendance.ATTENDED
    return BookingPage(
        booking,
        status,
        may_decide=approvable(who, booking),
        may_change=acts and change_refusal(booking, now) is None,
        offer_open=acts and offer_is_open(booking, now),
        has_calendar=status.holds_place or status is BookingStatus.SESSION_CANCELLED,
        may_evaluate=attended and booking.evaluation is None and may_evaluate(who, booking),
        has_certificate=attended and booking.evaluation is not None,
    )
