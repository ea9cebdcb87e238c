"""What giving up a place costs: the cancellation window and the late charge.

The rules, as the council states them to schools:

- **The cancellation window** is counted in whole London days. A course's
  ``cancellation_days`` is N; the session's day is the London date it starts on. Cancelling
  is free on or before the date N days before the session's day (the *last free day*),
  until midnight London time at its end; from the next London day on it is late. For
  example a session at 09:00 on Friday 20 June with N = 10: cancelling is free until the
  end of Tuesday 10 June (London), so at 23:30 UTC on 9 June (00:30 BST on the 10th) it is
  free, and at 23:30 UTC on 10 June (00:30 BST on the 11th) it is late. With N = 0 it is
  free until the session starts. The time of day the session starts does not matter, nor do
  clock changes: the count is of dates.
- **The late charge** is the course's ``late_charge_pence`` when the council has set one
  (which may be more than nothing on a free course), else the price the school was told
  when it booked (``Booking.price_pence``, frozen then; nothing for a free place).
- A **place the school had booked** (confirmed) costs the late charge when it is cancelled
  late, or not attended (the register's business, through :func:`late_charge_for`).
- **Nothing else costs anything to give up**: a request still waiting for the school's own
  approval (the school has not committed to it), an offer from the waiting list not yet
  accepted, and a place on the waiting list.

Pure functions of their arguments (no database, no clock): the workflows pass the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.clock import today_in_london
from portal.models import Booking, BookingStatus


def last_free_day(session_starts_at: datetime, cancellation_days: int) -> date:
    """The last London date on which cancelling a place on a session is free."""
    return today_in_london(session_starts_at) - timedelta(days=cancellation_days)


def is_late(session_starts_at: datetime, cancellation_days: int, at: datetime) -> bool:
    """Whether giving up a place at ``at`` is inside the window (after the last free day)."""
    return today_in_london(at) > last_free_day(session_starts_at, cancellation_days)


def late_charge(late_charge_pence: int | None, price_pence: int) -> int:
    """The late charge: the course's own when set, else the place's frozen price."""
    return price_pence if late_charge_pence is None else late_charge_pence


def commits_school(status: BookingStatus) -> bool:
    """Whether a booking in ``status`` is a place the school has committed to (confirmed):
    the only kind that costs anything to give up late or not to attend."""
    return status is BookingStatus.CONFIRMED


def late_charge_for(booking: Booking) -> int:
    """What ``booking`` costs when given up late or not attended (absent from the
    register): the course's late charge, else the place's price."""
    return late_charge(booking.session.course.late_charge_pence, booking.price_pence)


@dataclass(frozen=True)
class CancellationCost:
    """What cancelling a booking at a moment costs, and why, for the confirmation page."""

    charge_pence: int
    # Whether the moment is inside the window (late), for a place that would be charged.
    late: bool
    # The last London date cancelling is free (None: giving it up never costs anything).
    free_until: date | None
    # What the same place costs once the window has closed (0 when nothing is charged).
    late_charge_pence: int

    @property
    def late_from(self) -> date | None:
        """The first London date cancelling costs the late charge."""
        return None if self.free_until is None else self.free_until + timedelta(days=1)


def cancellation_cost(booking: Booking, at: datetime) -> CancellationCost:
    """What cancelling ``booking`` at ``at`` costs the school, by the rules above."""
    course = booking.session.course
    charge_if_late = late_charge_for(booking)
    if not commits_school(booking.status):
        return CancellationCost(0, late=False, free_until=None, late_charge_pence=0)
    late = is_late(booking.session.starts_at, course.cancellation_days, at)
    return CancellationCost(
        charge_if_late if late else 0,
        late=late,
        free_until=last_free_day(booking.session.starts_at, course.cancellation_days),
        late_charge_pence=charge_if_late,
    )
