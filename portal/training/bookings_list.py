"""A school's bookings, upcoming and past, and one booking's page: its status as it is at
the moment it is read (an offer past its expiry shows as lapsed, whether or not the nightly
command has marked it yet), and what the reader may do with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from portal.access import Principal, booking_scope, get_booking_or_404
from portal.clock import utcnow
from portal.models import Booking, BookingStatus, Course, CourseSession, School
from portal.pagination import Page, paginate
from portal.training.approval import approvable, awaiting_approval

PAGE_SIZE = 25
UPCOMING, PAST = "upcoming", "past"


def status_now(booking: Booking) -> BookingStatus:
    """The booking's status at this moment: an offer not taken by its expiry has lapsed."""
    if (
        booking.status is BookingStatus.OFFERED
        and booking.offer_expires_at is not None
        and booking.offer_expires_at <= utcnow()
    ):
        return BookingStatus.OFFER_LAPSED
    return booking.status


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
    now = utcnow()
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
    rows = [BookingRow(b, status_now(b)) for b in found.items]
    page = Page(items=rows, number=found.number, per_page=found.per_page, total=found.total)
    return BookingsList(chosen, page, awaiting_approval(who))


@dataclass(frozen=True)
class BookingPage:
    booking: Booking
    status: BookingStatus
    may_decide: bool


def booking_page(who: Principal, booking_id: int) -> BookingPage:
    booking = get_booking_or_404(who, booking_id)
    return BookingPage(booking, status_now(booking), approvable(who, booking))
