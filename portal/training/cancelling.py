"""Cancelling a booking: what it would cost (for the page that asks first), and doing it.

Cancelling a place frees it, and the first person on the session's waiting list is offered
it (waiting_list.offer_next); cancelling a place on the waiting list just leaves the list;
cancelling an offer not yet answered declines it. What the school owes is set by the rules
of charges.py at the moment of cancelling. Once the session has started a booking is the
register's business (attended or not), no longer cancelled here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm.exc import StaleDataError

from portal import audit, clock
from portal.access import Principal
from portal.db import db
from portal.models import Booking, BookingStatus
from portal.training import emails, places
from portal.training.changes import Conflict, Done, Outcome, Refused, change_refusal, status_now
from portal.training.charges import CancellationCost, cancellation_cost
from portal.training.waiting_list import offer_next


@dataclass(frozen=True)
class CancellationQuote:
    """What the confirmation page states: whether it can be cancelled, and at what cost."""

    booking: Booking
    status: BookingStatus  # as it truly is now (an expired offer is lapsed)
    refusal: str | None
    cost: CancellationCost


def quote(booking: Booking) -> CancellationQuote:
    """What cancelling ``booking`` now would do and cost."""
    now = clock.now()
    return CancellationQuote(
        booking=booking,
        status=status_now(booking, now),
        refusal=change_refusal(booking, now),
        cost=cancellation_cost(booking, now),
    )


def cancel_booking(
    who: Principal, booking: Booking, reason: str | None, seen_charge_pence: int | None = None
) -> Outcome:
    """Cancel ``booking`` for ``who`` (who may act on it: the view checked), charging what
    the rules say now. ``seen_charge_pence`` is the charge the confirmation page stated: if
    the window closed in between (the charge is now more), nothing is done and the person
    is asked again, so nobody is charged what they were not told."""
    now = clock.now()
    refusal = change_refusal(booking, now)
    if refusal is not None:
        return Refused(refusal)
    cost = cancellation_cost(booking, now)
    if seen_charge_pence is not None and cost.charge_pence > seen_charge_pence:
        return Refused(
            "The cancellation window has closed since the page was shown: check the charge"
            " below and cancel again if you still want to"
        )
    held_place = booking.status.holds_place
    before = booking.status
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.charge_pence = cost.charge_pence
    booking.reason = reason or None
    audit.record(
        "training.booking_cancelled",
        actor=who.user,
        subject=booking,
        from_status=before.value,
        charge_pence=cost.charge_pence,
        late=cost.late,
    )
    emails.booking_cancelled(booking)
    try:
        # Checked against the version first: the place is freed only by the change that won.
        db.session.flush()
        if held_place:
            places.free_place(booking.session_id)
            offer_next(booking.session_id)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(booking)
        return Conflict()
    return Done(booking)
