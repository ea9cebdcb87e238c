"""What the changes to a booked place share: the answers their workflows give the views,
and when a booking can still be changed at all.

Cancelling (cancelling.py), swapping who attends (swapping.py) and answering an offer from
the waiting list (waiting_list.py) each return one of these to the view that asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal import clock
from portal.models import LIVE_BOOKING, Booking, BookingStatus


@dataclass(frozen=True)
class Done:
    """The change was made; ``booking`` is as it now stands."""

    booking: Booking


@dataclass(frozen=True)
class Refused:
    """The change does not fit the booking now; ``reason`` says why, in words."""

    reason: str


@dataclass(frozen=True)
class Conflict:
    """Someone else changed the booking first (another person's answer, the offer lapsing):
    nothing was made, and the booking has been read again as it is now."""


Outcome = Done | Refused | Conflict


def offer_is_open(booking: Booking, at: datetime) -> bool:
    """Whether ``booking`` is an offer that can still be accepted at ``at``: one past its
    expiry is not, even before the offers command has marked it lapsed."""
    return (
        booking.status is BookingStatus.OFFERED
        and booking.offer_expires_at is not None
        and at < booking.offer_expires_at
    )


def status_now(booking: Booking, at: datetime) -> BookingStatus:
    """The booking's status as it truly is at ``at``: an offer past its expiry is lapsed,
    whether or not the offers command has run since. What pages show."""
    if booking.status is BookingStatus.OFFERED and not offer_is_open(booking, at):
        return BookingStatus.OFFER_LAPSED
    return booking.status


# Why a booking no longer in play cannot be changed, by its status.
ENDED = {
    BookingStatus.CANCELLED: "This booking has already been cancelled",
    BookingStatus.REFUSED: "This booking was not approved by the school",
    BookingStatus.OFFER_LAPSED: "The offer of this place has lapsed: it was not accepted in time",
    BookingStatus.SESSION_CANCELLED: "The council has cancelled this session",
}


def change_refusal(booking: Booking, at: datetime) -> str | None:
    """Why ``booking`` cannot be cancelled or swapped at ``at``, or None if it can: it must
    still be in play, and its session not yet started (attendance is the register's then)."""
    status = status_now(booking, at)
    if status not in LIVE_BOOKING:
        return ENDED[status]
    if at >= booking.session.starts_at:
        return (
            "This booking cannot be changed: the session has started. Tell the course's"
            " coordinator if the person did not attend"
        )
    return None


@dataclass(frozen=True)
class Standing:
    """Where a booking stands now, for a page: its true status, whether an offer of it is
    open, and why it cannot be changed (None if it can)."""

    status: BookingStatus
    offer_open: bool
    refusal: str | None


def standing(booking: Booking, at: datetime | None = None) -> Standing:
    """Where ``booking`` stands at ``at`` (by default now, by the portal's clock)."""
    moment = at or clock.now()
    return Standing(
        status=status_now(booking, moment),
        offer_open=offer_is_open(booking, moment),
        refusal=change_refusal(booking, moment),
    )
