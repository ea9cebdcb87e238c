"""A booking's session as an iCalendar file (.ics, RFC 5545), for the attendee's calendar.

One event per booking, under a UID made from the booking's id that never changes: when the
council moves the session, the file sent again carries the same UID and a higher SEQUENCE,
so a calendar updates the entry it has rather than adding a second one; a cancelled session
(or a place given up) is sent as METHOD:CANCEL with STATUS:CANCELLED, which removes it.

The SEQUENCE is the session's version plus the booking's (less their first values), both
kept by SQLAlchemy's version counter: each rises with every change to the session (moved,
cancelled) or to the place (cancelled, swapped), so the number never goes back, and two
files of the same state carry the same number. Times are written in UTC (a "Z" time), which
every calendar reads without a time zone definition and shows in its own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from portal.access import Principal, get_booking_or_404
from portal.clock import today_in_london, utcnow
from portal.db import db
from portal.models import Booking, SessionStatus
from portal.outbox import Attachment
from portal.training.links import booking_url

PUBLISH = "PUBLISH"
CANCEL = "CANCEL"
FILE_NAME = "training-session.ics"
CONTENT_TYPE = "text/calendar"


def booking_uid(booking: Booking) -> str:
    """The event's UID: the booking's, for ever (a moved session updates the same entry)."""
    return f"training-booking-{booking.id}@{_domain()}"


def sequence(booking: Booking) -> int:
    """Rises with every change to the session or the place (see the module's docstring)."""
    return max(booking.session.version - 1, 0) + max(booking.version - 1, 0)


def booking_calendar(booking: Booking, cancelled: bool = False) -> str:
    """The booking's session as an .ics file's text: the event to add (or update), or with
    ``cancelled`` the same event cancelled, to remove it."""
    session = booking.session
    course = session.course
    config = current_app.config
    calendar = Calendar()
    calendar.add("prodid", f"-//{config['COUNCIL_NAME']}//{config['SERVICE_NAME']}//EN")
    calendar.add("version", "2.0")
    calendar.add("method", CANCEL if cancelled else PUBLISH)
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("sequence", sequence(booking))
    event.add("dtstamp", utcnow().astimezone(UTC).replace(microsecond=0))
    event.add("dtstart", _utc(session.starts_at))
    event.add("dtend", _utc(session.ends_at))
    event.add("summary", course.title)
    event.add("location", place_of(booking))
    event.add("description", _description(booking))
    event.add("url", booking_url(booking))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organiser = vCalAddress(f"mailto:{config['COUNCIL_CONTACT_EMAIL']}")
    organiser.params["cn"] = vText(config["COUNCIL_NAME"])
    event.add("organizer", organiser)
    attendee = vCalAddress(f"mailto:{booking.attendee_email}")
    attendee.params["cn"] = vText(booking.attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def calendar_attachment(booking: Booking, cancelled: bool = False) -> Attachment:
    """The .ics file to attach to an e-mail about the booking."""
    method = CANCEL if cancelled else PUBLISH
    return Attachment(
        name=FILE_NAME,
        content_type=f"{CONTENT_TYPE}; method={method}",
        text=booking_calendar(booking, cancelled),
    )


def current(*records: object) -> None:
    """Flush ``records`` if they have changes not yet written, so that their versions (and so
    the file's SEQUENCE) are those of the change being told about, not the one before."""
    if any(db.session.is_modified(record) for record in records if record in db.session):
        db.session.flush()


def place_of(booking: Booking) -> str:
    """Where the session is: its venue, its online link, or both."""
    session = booking.session
    return " / ".join(part for part in (session.venue, session.online_link) if part)


def _description(booking: Booking) -> str:
    session = booking.session
    course = session.course
    lines = [f"{course.title}, run by {session.trainer}.", f"Attendee: {booking.attendee_name}."]
    if session.online_link:
        lines.append(f"Join online: {session.online_link}")
    if session.venue:
        lines.append(f"Venue: {session.venue}")
    lines.append(f"Your booking: {booking_url(booking)}")
    return "\n".join(lines)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _domain() -> str:
    sender = parseaddr(str(current_app.config["MAIL_FROM"]))[1]
    return sender.rpartition("@")[2] or "localhost"


def filename_for(booking: Booking) -> str:
    """The download's file name: the course's date, so that two bookings' files differ."""
    day = today_in_london(booking.session.starts_at)
    return f"training-{day:%Y-%m-%d}-{booking.id}.ics"


@dataclass(frozen=True)
class Download:
    filename: str
    text: str


def calendar_download(who: Principal, booking_id: int) -> Download:
    """The booking's calendar file for someone who may see the booking: the event, or the
    event cancelled once the place or the session is (so that importing it removes it)."""
    booking = get_booking_or_404(who, booking_id)
    cancelled = not booking.status.holds_place or booking.session.status is SessionStatus.CANCELLED
    return Download(filename_for(booking), booking_calendar(booking, cancelled=cancelled))
