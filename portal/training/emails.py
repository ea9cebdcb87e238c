"""The e-mails of bookings, through the outbox (portal/outbox.py), each text a template
under templates/email/training/.

The interface the booking modules call; the attendee work fills in each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from portal.models import Booking, CourseSession, User


def booking_confirmed(booking: Booking) -> None:
    """A place is confirmed: to the attendee (copied to whoever booked it), with the
    session's calendar file (.ics) attached."""


def approval_needed(booking: Booking, approvers: Sequence[User]) -> None:
    """A booking waits for the school's approval: to each approver."""


def booking_refused(booking: Booking) -> None:
    """The school's approver said no: to the attendee and whoever booked it."""


def added_to_waiting_list(booking: Booking) -> None:
    """The session was full: the attendee is on its waiting list (and where)."""


def place_offered(booking: Booking) -> None:
    """A place freed up: offered to the first on the waiting list until offer_expires_at."""


def offer_lapsed(booking: Booking) -> None:
    """An offered place was not taken in time."""


def booking_cancelled(booking: Booking) -> None:
    """A place was given up: says whether a charge applies, and how much."""


def attendee_swapped(booking: Booking, previous_name: str, previous_email: str) -> None:
    """Someone else now attends: the new attendee gets the confirmation, the previous one is
    told their place has gone to a colleague."""


def session_cancelled(session: CourseSession, bookings: Sequence[Booking]) -> None:
    """The council cancelled a session: everyone booked or waiting is told."""


def session_moved(
    session: CourseSession,
    bookings: Sequence[Booking],
    previous_start: datetime,
    previous_end: datetime,
    previous_place: str,
) -> None:
    """The council moved a session: everyone booked or waiting is told, with a new .ics."""
