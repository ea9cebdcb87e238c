"""Swapping who attends a booked place: another colleague at the same school takes it.

The place, its price and what the school owes stay as they were (a swap costs nothing), as
do its status and its place on the waiting list. The new attendee is named by name, e-mail
address and job title; when the address is that of a portal account with a role at the
school, the booking is linked to that account (so the colleague sees it as theirs). Nobody
can then be on the session twice: a person (by address, or by account) already booked,
offered or waiting on it cannot be swapped in. A swap is in the audit log, and both people
are e-mailed (emails.attendee_swapped).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import audit, clock
from portal.access import Principal
from portal.db import db
from portal.models import LIVE_BOOKING, Booking, Membership, User
from portal.training import emails
from portal.training.changes import Conflict, Done, Outcome, Refused, change_refusal


@dataclass(frozen=True)
class NewAttendee:
    """Who attends instead, as the form gives them."""

    name: str
    email: str
    job_title: str


@dataclass(frozen=True)
class AlreadyBooked:
    """The new attendee already has a booking on this session (the form says so beside the
    e-mail address)."""

    message: str


def colleague_account(school_id: int, email: str) -> User | None:
    """The active portal account with this address and a role at the school, if any."""
    return db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            func.lower(User.email) == email.lower(),
            Membership.school_id == school_id,
            User.is_active.is_(True),
        )
        .limit(1)
    ).first()


def already_on_session(booking: Booking, email: str, user_id: int | None) -> bool:
    """Whether someone with this address (or account) has another live booking on the
    booking's session."""
    same_person = Booking.attendee_email == email.lower()
    if user_id is not None:
        same_person = or_(same_person, Booking.attendee_user_id == user_id)
    found = db.session.scalar(
        select(Booking.id)
        .where(
            Booking.session_id == booking.session_id,
            Booking.id != booking.id,
            Booking.status.in_(LIVE_BOOKING),
            same_person,
        )
        .limit(1)
    )
    return found is not None


def swap_attendee(who: Principal, booking: Booking, new: NewAttendee) -> Outcome | AlreadyBooked:
    """Make ``new`` the attendee of ``booking`` (``who`` may act on it: the view checked)."""
    now = clock.now()
    refusal = change_refusal(booking, now)
    if refusal is not None:
        return Refused(refusal)
    email = new.email.lower()
    if email == booking.attendee_email:
        return AlreadyBooked(f"{new.email} is already the person booked on this place")
    account = colleague_account(booking.school_id, email)
    if already_on_session(booking, email, account.id if account else None):
        return AlreadyBooked(f"{new.email} already has a booking on this session")
    previous_name, previous_email = booking.attendee_name, booking.attendee_email
    booking.attendee_name = new.name
    booking.attendee_email = email
    booking.attendee_job_title = new.job_title
    booking.attendee_user = account
    audit.record(
        "training.attendee_swapped",
        actor=who.user,
        subject=booking,
        from_name=previous_name,
        from_email=previous_email,
        to_name=new.name,
        to_email=email,
    )
    emails.attendee_swapped(booking, previous_name, previous_email)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(booking)
        return Conflict()
    except IntegrityError:
        # They were booked on the session a moment ago, by another form: the database keeps
        # one live booking a person a session.
        db.session.rollback()
        return AlreadyBooked(f"{new.email} already has a booking on this session")
    return Done(booking)
