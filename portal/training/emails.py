"""The e-mails of bookings, through the outbox (portal/outbox.py), each text a template
under templates/email/training/.

The interface the booking modules call where the event happens, in the transaction of the
change: each function queues its messages in the caller's session, so they are sent once
the caller commits, or never if it rolls back. The attendee is written to, and whoever
booked the place for them (when that is someone else) gets a copy; the calendar file goes
to the attendee alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from portal.clock import london_time, today_in_london
from portal.db import db
from portal.models import Booking, BookingStatus, CourseSession, User
from portal.outbox import Attachment, email_body, queue_email
from portal.pricing import format_pence
from portal.training.calendar_file import calendar_attachment, current, place_of
from portal.training.charges import late_charge_for
from portal.training.links import booking_url, calendar_url, evaluation_url

# A course title is at most 200 characters, as a subject is: subjects cut it shorter.
TITLE_IN_SUBJECT = 90


@dataclass(frozen=True)
class Details:
    """What every booking e-mail says about the place: the template's ``place``."""

    booking: Booking
    when: str
    where: str
    cost: str
    # What giving up the place late, or not coming, costs the school ("" when nothing).
    late_charge: str
    booking_link: str
    calendar_link: str


def when(starts_at: datetime, ends_at: datetime) -> str:
    """ "Tuesday 2 March 2027, 9:30am to 12:30pm" in London (both dates if it ends later)."""
    start = london_time(starts_at, "%A %-d %B %Y, %-I:%M%p")
    same_day = today_in_london(starts_at) == today_in_london(ends_at)
    end = london_time(ends_at, "%-I:%M%p" if same_day else "%A %-d %B %Y, %-I:%M%p")
    return f"{start} to {end}"


def details(booking: Booking) -> Details:
    if booking.id is None:
        # A booking made in this transaction and not yet written: its id names it in links.
        db.session.flush()
    session = booking.session
    late = late_charge_for(booking)
    return Details(
        booking=booking,
        when=when(session.starts_at, session.ends_at),
        where=place_of(booking),
        cost=format_pence(booking.price_pence) if booking.price_pence else "Free",
        late_charge=format_pence(late) if late else "",
        booking_link=booking_url(booking),
        calendar_link=calendar_url(booking),
    )


def booking_confirmed(booking: Booking) -> None:
    """A place is confirmed: to the attendee (copied to whoever booked it), with the
    session's calendar file (.ics) attached."""
    current(booking, booking.session)
    _tell(
        booking,
        f"Training booked: {_title(booking)}, {_day(booking)}",
        "confirmed.txt",
        attachment=calendar_attachment(booking),
    )


def approval_needed(booking: Booking, approvers: Sequence[User]) -> None:
    """A booking waits for the school's approval: to each approver."""
    place = details(booking)
    for approver in _unique_people(approvers):
        queue_email(
            approver.email,
            f"Training booking to approve: {booking.attendee_name}, {_title(booking)}",
            _body("approval-needed.txt", place=place, approver=approver),
        )


def booking_refused(booking: Booking) -> None:
    """The school's approver said no: to the attendee and whoever booked it."""
    _tell(booking, f"Training booking not approved: {_title(booking)}", "refused.txt")


def added_to_waiting_list(booking: Booking) -> None:
    """The session was full: the attendee is on its waiting list (and where)."""
    _tell(
        booking,
        f"On the waiting list: {_title(booking)}, {_day(booking)}",
        "waiting-list.txt",
        position=waiting_position(booking),
    )


def place_offered(booking: Booking) -> None:
    """A place freed up: offered to the first on the waiting list until offer_expires_at."""
    _tell(
        booking,
        f"A place is free for you: {_title(booking)}, {_day(booking)}",
        "place-offered.txt",
        expires=london_time(booking.offer_expires_at),
    )


def offer_lapsed(booking: Booking) -> None:
    """An offered place was not taken in time."""
    _tell(booking, f"The place offered has gone: {_title(booking)}", "offer-lapsed.txt")


def booking_cancelled(booking: Booking) -> None:
    """A place was given up: says whether a charge applies, and how much."""
    current(booking, booking.session)
    _tell(
        booking,
        f"Training place cancelled: {_title(booking)}, {_day(booking)}",
        "cancelled.txt",
        attachment=calendar_attachment(booking, cancelled=True),
        charge=format_pence(booking.charge_pence) if booking.charge_pence else "",
    )


def attendee_swapped(booking: Booking, previous_name: str, previous_email: str) -> None:
    """Someone else now attends: the new attendee gets the confirmation, the previous one is
    told their place has gone to a colleague."""
    booking_confirmed(booking)
    if previous_email.lower() == booking.attendee_email.lower():
        return
    queue_email(
        previous_email,
        f"Your training place has gone to a colleague: {_title(booking)}",
        _body("swapped-out.txt", place=details(booking), previous_name=previous_name),
        calendar_attachment(booking, cancelled=True),
    )


def session_cancelled(session: CourseSession, bookings: Sequence[Booking]) -> None:
    """The council cancelled a session: everyone booked or waiting is told."""
    current(session, *bookings)
    for booking in bookings:
        _tell(
            booking,
            f"Training session cancelled: {_title(booking)}, {_day(booking)}",
            "session-cancelled.txt",
            attachment=calendar_attachment(booking, cancelled=True),
            reason=session.cancelled_reason or "",
        )


def session_moved(
    session: CourseSession,
    bookings: Sequence[Booking],
    previous_start: datetime,
    previous_end: datetime,
    previous_place: str,
) -> None:
    """The council moved a session: everyone booked or waiting is told, with a new .ics."""
    current(session, *bookings)
    before = when(previous_start, previous_end)
    for booking in bookings:
        holds_place = booking.status.holds_place
        _tell(
            booking,
            f"Training session changed: {_title(booking)}, now {_day(booking)}",
            "session-moved.txt",
            # The waiting list has no place to put in a calendar yet.
            attachment=calendar_attachment(booking) if holds_place else None,
            previous_when=before,
            previous_place=previous_place,
            holds_place=holds_place,
        )


def waiting_position(booking: Booking) -> int:
    """Where the booking stands on its session's waiting list: 1 is next to be offered."""
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.session_id == booking.session_id,
            Booking.status == BookingStatus.WAITING,
            Booking.id != booking.id,
            Booking.joined_list_at <= booking.joined_list_at,
        )
    )
    return (ahead or 0) + 1


def copies_to(booking: Booking) -> Iterator[User]:
    """Whoever booked the place for someone else: they get a copy of what the attendee is
    told."""
    booker = booking.booked_by
    if booker is not None and booker.email.lower() != booking.attendee_email.lower():
        yield booker


def _tell(
    booking: Booking,
    subject: str,
    template: str,
    attachment: Attachment | None = None,
    **context: Any,
) -> None:
    place = details(booking)
    queue_email(
        booking.attendee_email,
        subject,
        _body(template, place=place, copy_to=None, **context),
        attachment,
    )
    for booker in copies_to(booking):
        queue_email(
            booker.email,
            f"Copy: {subject}",
            _body(template, place=place, copy_to=booker, **context),
        )


def _body(template: str, **context: Any) -> str:
    return email_body(f"email/training/{template}", **context)


def _title(booking: Booking) -> str:
    title = booking.session.course.title
    return title if len(title) <= TITLE_IN_SUBJECT else title[: TITLE_IN_SUBJECT - 1] + "…"


def _day(booking: Booking) -> str:
    return london_time(booking.session.starts_at, "%-d %B %Y")


def _unique_people(people: Sequence[User]) -> list[User]:
    seen: set[str] = set()
    unique = []
    for person in people:
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            unique.append(person)
    return unique


def reminder(booking: Booking, moment: datetime) -> None:
    """The day or two before the session (``flask training remind``): to the attendee."""
    days = (today_in_london(booking.session.starts_at) - today_in_london(moment)).days
    days_away = "today" if days <= 0 else "tomorrow" if days == 1 else f"on {_weekday(booking)}"
    queue_email(
        booking.attendee_email,
        f"Reminder: {_title(booking)}, {_day(booking)}",
        _body("reminder.txt", place=details(booking), days_away=days_away),
    )


def evaluation_requested(booking: Booking) -> None:
    """After attending (``flask training remind``): to the attendee, and for one with no
    account to whoever booked them, who may give the evaluation with them."""
    place = details(booking)
    subject = f"How was {_title(booking)}? Your evaluation and certificate"
    link = evaluation_url(booking)
    queue_email(
        booking.attendee_email,
        subject,
        _body(
            "evaluation-request.txt",
            place=place,
            copy_to=None,
            day=_day(booking),
            evaluation_link=link,
        ),
    )
    if booking.attendee_user_id is not None:
        return
    for booker in copies_to(booking):
        queue_email(
            booker.email,
            f"Copy: {subject}",
            _body(
                "evaluation-request.txt",
                place=place,
                copy_to=booker,
                day=_day(booking),
                evaluation_link=link,
            ),
        )


def _weekday(booking: Booking) -> str:
    return london_time(booking.session.starts_at, "%A %-d %B")
