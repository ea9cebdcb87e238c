"""An attendee's evaluation of a session they attended: once, by the attendee (or, for one
with no account, the colleague who booked them; access.may_evaluate); the certificate
follows it (portal/training/certificate.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.access import Principal, get_booking_or_404, may_evaluate
from portal.clock import utcnow
from portal.db import db
from portal.models import Attendance, Booking, Evaluation
from portal.training.links import booking_url


class Standing(enum.Enum):
    """Where a booking's evaluation stands."""

    NOT_ATTENDED = "not_attended"  # no attendance recorded as attended (yet)
    OPEN = "open"  # attended, not evaluated: the form
    DONE = "done"  # evaluated: the certificate


@dataclass(frozen=True)
class Answers:
    overall: int
    met_outcomes: int
    will_use: str
    comments: str


@dataclass(frozen=True)
class EvaluationPage:
    booking: Booking
    standing: Standing
    booking_link: str


def standing_of(booking: Booking) -> Standing:
    if booking.evaluation is not None:
        return Standing.DONE
    if booking.attendance is not Attendance.ATTENDED:
        return Standing.NOT_ATTENDED
    return Standing.OPEN


def open_evaluation(who: Principal, booking_id: int) -> EvaluationPage:
    """The booking's evaluation as ``who`` may fill it in: 404 for a booking they may not
    see, 403 for one whose evaluation is not theirs to give."""
    booking = get_booking_or_404(who, booking_id)
    if not may_evaluate(who, booking):
        abort(403)
    return EvaluationPage(booking, standing_of(booking), booking_url(booking))


def submit_evaluation(who: Principal, booking_id: int, answers: Answers) -> Standing:
    """Keep the evaluation, if the booking was attended and has none yet; where it stands
    afterwards (DONE when kept, or when one was kept already: sending it twice keeps one)."""
    page = open_evaluation(who, booking_id)
    if page.standing is not Standing.OPEN:
        return page.standing
    db.session.add(
        Evaluation(
            booking_id=page.booking.id,
            overall=answers.overall,
            met_outcomes=answers.met_outcomes,
            will_use=answers.will_use,
            comments=answers.comments,
            submitted_at=utcnow(),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        # The same form sent twice at once: the other one was kept.
        db.session.rollback()
        if db.session.scalar(select(Evaluation.id).where(Evaluation.booking_id == booking_id)):
            return Standing.DONE
        raise
    return Standing.DONE
