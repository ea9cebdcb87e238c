"""The certificate of attendance: printable, once the attendee has evaluated the session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from portal.access import Principal, get_booking_or_404, may_evaluate
from portal.clock import london_time, today_in_london
from portal.models import Booking
from portal.training.links import booking_url


@dataclass(frozen=True)
class Certificate:
    reference: str
    attendee: str
    school: str
    course: str
    day: str
    duration: str
    outcomes: list[str]
    trainer: str
    council: str
    issued: str


@dataclass(frozen=True)
class CertificatePage:
    booking: Booking
    # None until the evaluation is in.
    certificate: Certificate | None
    # Whether the person looking may give the evaluation it waits for.
    may_evaluate: bool
    booking_link: str


def reference(booking: Booking) -> str:
    """The certificate's reference: the session's year and the booking, never reused."""
    return f"TC-{today_in_london(booking.session.starts_at):%Y}-{booking.id:06d}"


def duration(minutes: int) -> str:
    """180 as "3 hours", 90 as "1 hour 30 minutes"."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def certificate_page(who: Principal, booking_id: int) -> CertificatePage:
    """The booking's certificate for anyone who may see the booking (the attendee, their
    school, the council), once the evaluation it follows is in."""
    booking = get_booking_or_404(who, booking_id)
    evaluation = booking.evaluation
    if evaluation is None:
        return CertificatePage(booking, None, may_evaluate(who, booking), booking_url(booking))
    session = booking.session
    course = session.course
    return CertificatePage(
        booking,
        Certificate(
            reference=reference(booking),
            attendee=booking.attendee_name,
            school=booking.school.name,
            course=course.title,
            day=london_time(session.starts_at, "%-d %B %Y"),
            duration=duration(course.duration_minutes),
            outcomes=course.outcomes,
            trainer=session.trainer,
            council=str(current_app.config["COUNCIL_NAME"]),
            issued=london_time(evaluation.submitted_at, "%-d %B %Y"),
        ),
        may_evaluate(who, booking),
        booking_url(booking),
    )
