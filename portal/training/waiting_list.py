"""A session's waiting list: offering a freed place to the first in line, their answer, and
offers that lapse.

The rules, as schools are told them:

- **Order.** The list is in the order people joined it (``joined_list_at``, then the
  booking's id for two at the same instant). When a place frees, the first still waiting is
  offered it; the place is theirs alone while the offer stands (it is taken for them, so
  nobody booking directly can have it meanwhile).
- **How long an offer stands.** 48 hours, but never later than 24 hours before the session
  starts, so that whoever takes it has a day's notice and, if they do not, the next person
  has time too. An offer that would stand for less than 2 hours is not made: a place freed
  that close to the session is left free for anyone at any school to book directly, first
  come first served, and the waiting list stays as it is.
- **Accepting.** Accepting confirms the place, unless the school needs its bookings
  approved and this request was never approved (a request joins the list as it was made:
  the school's approval applies to the original request); then it waits for approval as a
  new booking would, holding the place, and the school's approvers are told.
- **Declining** gives the place up at no charge, and it is offered to the next person.
- **Lapsing.** An offer not accepted by its expiry lapses: the place goes to the next
  person. ``flask --app portal training offers`` (training/offer_commands.py) lapses them,
  run every few minutes; until it runs, nothing treats an expired offer as open: pages
  show it as lapsed (changes.status_now), and accepting it is refused and lapses it there
  and then.

Concurrency: an offer is made, and lapsed, by a conditional UPDATE on the booking's status
that also moves its version on; accepting and declining are ORM changes checked against the
version. Of two answers at once, or an answer and a lapse, exactly one changes the booking;
the other finds it changed (no row, or StaleDataError) and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from portal import audit, clock
from portal.access import Principal, may_approve_booking
from portal.db import db
from portal.models import (
    Approver,
    Booking,
    BookingStatus,
    CourseSession,
    SchoolTrainingSettings,
    User,
)
from portal.training import emails, places
from portal.training.booking import approvers_of
from portal.training.changes import Conflict, Done, Outcome, Refused, offer_is_open

OFFER_PERIOD = timedelta(hours=48)
# An offer ends at least this long before the session starts.
OFFER_CLOSES_BEFORE_SESSION = timedelta(hours=24)
# An offer that would stand for less than this is not made (the place is left free).
SHORTEST_OFFER = timedelta(hours=2)


def offer_expiry(now: datetime, session_starts_at: datetime) -> datetime | None:
    """When an offer made at ``now`` for a session starting ``session_starts_at`` ends, or
    None if it is too close to the session to offer (the rules above)."""
    expires = min(now + OFFER_PERIOD, session_starts_at - OFFER_CLOSES_BEFORE_SESSION)
    if expires - now < SHORTEST_OFFER:
        return None
    return expires


def waiting_in_order(session_id: int) -> Sequence[Booking]:
    """The session's waiting list, first in line first."""
    return db.session.scalars(
        select(Booking)
        .where(Booking.session_id == session_id, Booking.status == BookingStatus.WAITING)
        .order_by(Booking.joined_list_at, Booking.id)
    ).all()


def offer_next(session_id: int) -> Booking | None:
    """Offer a free place on the session to the first person still waiting: the place is
    taken for them (places.take_place), their booking becomes OFFERED until the offer's
    expiry, and they are e-mailed. None when there is no free place, nobody waiting, or the
    session is too close to offer (the place then stays free). In the caller's transaction:
    call it after freeing a place, before committing.
    """
    course_session = db.session.get(CourseSession, session_id)
    if course_session is None:
        return None
    now = clock.now()
    expires = offer_expiry(now, course_session.starts_at)
    if expires is None or not places.take_place(session_id):
        return None
    for candidate in waiting_in_order(session_id):
        # Only if it is still waiting now: another transaction may have changed it (its
        # school cancelled it, or a concurrent offer reached it first) since the list was read.
        made = db.session.execute(
            update(Booking)
            .where(Booking.id == candidate.id, Booking.status == BookingStatus.WAITING)
            .values(
                status=BookingStatus.OFFERED,
                offer_expires_at=expires,
                version=Booking.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if made.rowcount != 1:
            continue
        offered = _read_again(candidate.id)
        audit.record("training.place_offered", subject=offered, expires_at=expires.isoformat())
        emails.place_offered(offered)
        return offered
    places.free_place(session_id)
    return None


def offer_free_places(session_id: int) -> list[Booking]:
    """Offer every free place on the session to those waiting, in order (after places are
    added to a session, say): the offers made."""
    made: list[Booking] = []
    while (offered := offer_next(session_id)) is not None:
        made.append(offered)
    return made


def _read_again(booking_id: int) -> Booking:
    """The booking as the database now has it (after a statement that changed it)."""
    found = db.session.get(Booking, booking_id, populate_existing=True)
    if found is None:
        raise LookupError(f"booking {booking_id} is gone")
    return found


# --- lapsing ------------------------------------------------------------------------------


def lapse_offer(booking_id: int, now: datetime) -> Booking | None:
    """Lapse the offer if it is still open in the database but past its expiry at ``now``:
    the place goes to the next person waiting, and the person it was offered to is told.
    The lapsed booking, or None if it was not an expired offer (accepted, declined or
    lapsed by someone else first). In the caller's transaction."""
    lapsed = db.session.execute(
        update(Booking)
        .where(
            Booking.id == booking_id,
            Booking.status == BookingStatus.OFFERED,
            Booking.offer_expires_at <= now,
        )
        .values(status=BookingStatus.OFFER_LAPSED, charge_pence=0, version=Booking.version + 1)
        .execution_options(synchronize_session=False)
    )
    if lapsed.rowcount != 1:
        return None
    booking = _read_again(booking_id)
    places.free_place(booking.session_id)
    audit.record("training.offer_lapsed", subject=booking)
    emails.offer_lapsed(booking)
    offer_next(booking.session_id)
    return booking


def expired_offers(now: datetime) -> Sequence[int]:
    """The ids of offers past their expiry that are still marked offered, oldest first."""
    return db.session.scalars(
        select(Booking.id)
        .where(Booking.status == BookingStatus.OFFERED, Booking.offer_expires_at <= now)
        .order_by(Booking.offer_expires_at, Booking.id)
    ).all()


def lapse_expired_offers(now: datetime | None = None) -> int:
    """Lapse every offer past its expiry, each in a transaction of its own (one failing
    leaves the others done); how many lapsed. What the offers command runs."""
    moment = now or clock.now()
    count = 0
    for booking_id in expired_offers(moment):
        try:
            if lapse_offer(booking_id, moment) is not None:
                count += 1
            db.session.commit()
        except StaleDataError:
            # Someone answered or cancelled it at the same moment: theirs stands.
            db.session.rollback()
    return count


# --- answering an offer ---------------------------------------------------------------------


def _lapsed_refusal(booking: Booking) -> Refused:
    ended = clock.london_time(booking.offer_expires_at)
    return Refused(
        f"The offer of this place ended on {ended}, so it has gone to the next person on the"
        " waiting list"
    )


def _closed_offer(booking: Booking, now: datetime) -> Refused | None:
    """Why an answer to ``booking``'s offer cannot be taken at ``now`` (an expired offer is
    lapsed there and then, and committed), or None when the offer is open."""
    if booking.status is not BookingStatus.OFFERED:
        return Refused(f"This place is not on offer: the booking is {booking.status.label.lower()}")
    if offer_is_open(booking, now):
        return None
    try:
        lapse_offer(booking.id, now)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
    db.session.refresh(booking)
    return _lapsed_refusal(booking)


def needs_approval(who: Principal, booking: Booking) -> bool:
    """Whether ``who`` accepting the offer leaves the place waiting for the school's
    approval: the school needs bookings approved, this request was never approved, and
    ``who`` may not approve it themselves (a head teacher does not wait for their own
    approval, as when booking: booking.book_place)."""
    settings = db.session.get(SchoolTrainingSettings, booking.school_id)
    required = settings is not None and settings.approver is not Approver.NOBODY
    return (
        required and booking.decided_at is None and not may_approve_booking(who, booking, settings)
    )


def approvers_for(booking: Booking) -> Sequence[User]:
    """Who is asked to approve the place: as for a new booking (booking.approvers_of)."""
    settings = db.session.get(SchoolTrainingSettings, booking.school_id)
    return approvers_of(booking.school, settings)


def accept_offer(who: Principal, booking: Booking) -> Outcome:
    """Take up the offered place (``who`` may act on the booking: the view checked)."""
    now = clock.now()
    closed = _closed_offer(booking, now)
    if closed is not None:
        return closed
    waits = needs_approval(who, booking)
    booking.status = BookingStatus.AWAITING_APPROVAL if waits else BookingStatus.CONFIRMED
    # What the school owes while booked: the price (charges.py says what giving it up costs).
    booking.charge_pence = 0 if waits else booking.price_pence
    audit.record(
        "training.offer_accepted", actor=who.user, subject=booking, status=booking.status.value
    )
    if waits:
        emails.approval_needed(booking, approvers_for(booking))
    else:
        emails.booking_confirmed(booking)
    return _commit(booking)


def decline_offer(who: Principal, booking: Booking) -> Outcome:
    """Turn the offered place down, at no charge: it is offered to the next person."""
    now = clock.now()
    closed = _closed_offer(booking, now)
    if closed is not None:
        return closed
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.charge_pence = 0
    booking.reason = "Offer of a place declined"
    audit.record("training.offer_declined", actor=who.user, subject=booking)
    emails.booking_cancelled(booking)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(booking)
        return Conflict()
    places.free_place(booking.session_id)
    offer_next(booking.session_id)
    return _commit(booking)


def _commit(booking: Booking) -> Outcome:
    try:
        db.session.commit()
    except StaleDataError:
        # The offer lapsed, or another answer landed, between reading it and now.
        db.session.rollback()
        db.session.refresh(booking)
        return Conflict()
    return Done(booking)
