"""``flask training remind``: a reminder before the session and the evaluation request after
it, each exactly once per booking, for the right bookings, in chunks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal import clock
from portal.db import db
from portal.models import (
    Attendance,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    Evaluation,
    OutboxMessage,
    SessionStatus,
)
from portal.training import emails, reminders
from tests.training.factories import (
    OAKFIELD,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
    user_by_email,
)

CASEY = "casey@oakfield.example"
# Far from the demo data's own sessions, so that only these tests' bookings are due.
NOW = datetime(2031, 3, 3, 6, 30, tzinfo=UTC)  # a Monday, when the daily run goes


@pytest.fixture
def at_now(app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    session.execute(delete(OutboxMessage))
    session.commit()
    return session


def session_at(session: Session, starts: datetime, **values: Any) -> CourseSession:
    """A three-hour session starting at ``starts``."""
    course = make_course(session=session, title="Attachment-aware schools", duration_minutes=180)
    return make_session(
        course, starts_at=starts, capacity=30, trainer="Dana Trainer", session=session, **values
    )


def booking_at(session: Session, starts: datetime, **values: Any) -> Booking:
    """A place at Oakfield on a session starting at ``starts``: Casey's, who has no account,
    unless given an ``attendee``."""
    if "attendee" not in values:
        values = {"attendee_name": "Casey Colleague", "attendee_email": CASEY, **values}
    oakfield = school_by_urn(OAKFIELD, session=session)
    return make_booking(session_at(session, starts), oakfield, session=session, **values)


def remind(app: Flask, chunk: int = reminders.CHUNK) -> reminders.RemindReport:
    with app.app_context():
        return reminders.remind(chunk=chunk)


def mail(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_reminder_goes_once_to_each_confirmed_attendee_of_a_session_soon(
    app: Flask, at_now: Session
) -> None:
    session = at_now
    tomorrow = booking_at(session, NOW + timedelta(days=1, hours=3))
    session.commit()

    report = remind(app)
    assert (report.reminders.sent, report.evaluation_requests.sent) == (1, 0)
    (message,) = mail(session)
    assert message.recipient == "casey@oakfield.example"
    assert message.subject == "Reminder: Attachment-aware schools, 4 March 2031"
    assert "A reminder of your training session, tomorrow." in message.body
    assert "When: Tuesday 4 March 2031, 9:30am to 12:30pm (UK time)" in message.body
    session.refresh(tomorrow)
    assert tomorrow.reminded_at == NOW
    assert tomorrow.version == 1, "the claim is bookkeeping: no one editing it is told otherwise"

    again = remind(app)
    assert again.reminders.sent == 0
    assert len(mail(session)) == 1


def test_only_sessions_within_the_window_and_places_confirmed_are_reminded(
    app: Flask, at_now: Session
) -> None:
    session = at_now
    due = {
        booking_at(session, NOW + timedelta(hours=1)).id,
        booking_at(session, NOW + timedelta(days=2)).id,
    }
    not_due = [
        booking_at(session, NOW + timedelta(days=2, minutes=1)),
        booking_at(session, NOW - timedelta(hours=1)),
        booking_at(session, NOW + timedelta(days=1), status=BookingStatus.WAITING),
        booking_at(session, NOW + timedelta(days=1), status=BookingStatus.CANCELLED),
        booking_at(session, NOW + timedelta(days=1), status=BookingStatus.AWAITING_APPROVAL),
        booking_at(session, NOW + timedelta(days=1), reminded_at=NOW - timedelta(days=1)),
        make_booking(
            session_at(session, NOW + timedelta(days=1), status=SessionStatus.CANCELLED),
            school_by_urn(OAKFIELD, session=session),
            session=session,
        ),
    ]
    session.commit()

    assert remind(app).reminders.sent == 2
    session.expire_all()
    reminded = set(session.scalars(select(Booking.id).where(Booking.reminded_at == NOW)))
    assert reminded == due
    assert all(session.get_one(Booking, b.id).reminded_at != NOW for b in not_due)


def test_a_longer_window_from_the_command_line(app: Flask, at_now: Session) -> None:
    session = at_now
    booking_at(session, NOW + timedelta(days=4))
    session.commit()

    result = app.test_cli_runner().invoke(args=["training", "remind"])
    assert result.exit_code == 0, result.output
    assert "Reminded 0 attendees." in result.output

    result = app.test_cli_runner().invoke(args=["training", "remind", "--days", "5"])
    assert result.exit_code == 0, result.output
    assert result.output == "Reminded 1 attendee.\nAsked 0 attendees for an evaluation.\n"


def test_bookings_are_taken_in_chunks_each_its_own_transaction(app: Flask, at_now: Session) -> None:
    session = at_now
    run = session_at(session, NOW + timedelta(days=1))
    for n in range(5):
        make_booking(
            run,
            school_by_urn(OAKFIELD, session=session),
            attendee_email=f"person{n}@oakfield.example",
            session=session,
        )
    session.commit()

    report = remind(app, chunk=2)
    assert report.reminders.chunks == [2, 2, 1]
    assert len(mail(session)) == 5
    assert remind(app, chunk=2).reminders.chunks == []


def test_a_run_that_fails_marks_nothing_it_did_not_send(
    app: Flask, at_now: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = at_now
    booking = booking_at(session, NOW + timedelta(days=1))
    session.commit()

    def broken(_booking: Booking, _moment: datetime) -> None:
        raise RuntimeError("the template is broken")

    monkeypatch.setattr(emails, "reminder", broken)
    with app.app_context(), pytest.raises(RuntimeError):
        reminders.remind()
    session.expire_all()
    assert session.get_one(Booking, booking.id).reminded_at is None
    assert mail(session) == []


def test_attendees_are_asked_for_their_evaluation_once_after_attending(
    app: Flask, at_now: Session
) -> None:
    session = at_now
    staff = user_by_email("staff@oakfield.example", session=session)
    yesterday = NOW - timedelta(days=1)
    colleague = booking_at(
        session, yesterday, attendance=Attendance.ATTENDED, booked_by=staff
    )  # no account: the booker is copied
    themselves = booking_at(
        session, yesterday, attendance=Attendance.ATTENDED, attendee=staff, booked_by=staff
    )
    absent = booking_at(session, yesterday, attendance=Attendance.ABSENT)
    unmarked = booking_at(session, yesterday)
    long_ago = booking_at(session, NOW - timedelta(days=120), attendance=Attendance.ATTENDED)
    evaluated = booking_at(session, yesterday, attendance=Attendance.ATTENDED)
    session.add(Evaluation(booking_id=evaluated.id, overall=4, met_outcomes=4))
    session.commit()

    report = remind(app)
    assert report.evaluation_requests.sent == 2
    messages = mail(session)
    assert sorted((m.recipient, m.subject[:5]) for m in messages) == [
        ("casey@oakfield.example", "How w"),
        ("staff@oakfield.example", "Copy:"),
        ("staff@oakfield.example", "How w"),
    ]
    to_casey = next(m for m in messages if m.recipient == "casey@oakfield.example")
    assert to_casey.subject == ("How was Attachment-aware schools? Your evaluation and certificate")
    assert f"/training/bookings/{colleague.id}/evaluation" in to_casey.body
    copy = next(m for m in messages if m.subject.startswith("Copy:"))
    assert "has no account" in copy.body
    assert "Sol Demo-Staff, who booked your place, can fill the evaluation in" in to_casey.body
    to_sol = next(
        m for m in messages if m.recipient == "staff@oakfield.example" and m.subject[:4] == "How "
    )
    assert "who booked your place" not in to_sol.body
    session.expire_all()
    asked = set(session.scalars(select(Booking.id).where(Booking.evaluation_requested_at == NOW)))
    assert asked == {colleague.id, themselves.id}
    assert not asked & {absent.id, unmarked.id, long_ago.id, evaluated.id}

    assert remind(app).evaluation_requests.sent == 0
    assert len(mail(session)) == 3


def test_the_daily_timer_runs_it_and_the_architecture_note_lists_it() -> None:
    root = Path(__file__).resolve().parents[2]
    service = (root / "deploy" / "portal-daily.service").read_text()
    assert "flask --app portal training remind\n" in service
    assert "`training remind`" in (root / "docs" / "architecture.md").read_text()


def test_two_runs_at_once_remind_each_attendee_once(
    database_url: str,
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second run's claim waits for the first's commit, then finds the booking taken."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite writes one transaction at a time: two runs cannot overlap")
    monkeypatch.setattr(clock, "now", lambda: NOW)
    # Two apps, two connection pools: two runs. Their commits are real, so what the test
    # makes is deleted at the end.
    runs = [make_app() for _ in range(2)]
    with runs[0].app_context():
        booking = booking_at(db.session, NOW + timedelta(days=1), attendee_email="once@x.example")
        db.session.commit()
        ids = (booking.session.course_id, booking.session_id, booking.id)
    sent: list[str] = []
    first_is_sending, release_first = threading.Event(), threading.Event()
    real_reminder = emails.reminder

    def reminder(booking: Booking, moment: datetime) -> None:
        sent.append(threading.current_thread().name)
        real_reminder(booking, moment)
        if threading.current_thread().name == "first":
            first_is_sending.set()
            release_first.wait(timeout=10)

    monkeypatch.setattr(emails, "reminder", reminder)
    reports: dict[str, reminders.RemindReport] = {}

    def work(name: str, app: Flask) -> None:
        with app.app_context():
            reports[name] = reminders.remind()

    first = threading.Thread(target=work, args=("first", runs[0]), name="first")
    second = threading.Thread(target=work, args=("second", runs[1]), name="second")
    try:
        first.start()
        assert first_is_sending.wait(timeout=10)
        second.start()
        # Long enough for the second run to reach its claim and wait on the first's.
        second.join(timeout=1)
        release_first.set()
        first.join(timeout=10)
        second.join(timeout=10)
    finally:
        release_first.set()
        with runs[0].app_context():
            db.session.execute(
                delete(OutboxMessage).where(OutboxMessage.recipient == "once@x.example")
            )
            db.session.execute(delete(Booking).where(Booking.id == ids[2]))
            db.session.execute(delete(CourseSession).where(CourseSession.id == ids[1]))
            db.session.execute(delete(Course).where(Course.id == ids[0]))
            db.session.commit()
    assert sent == ["first"]
    assert reports["first"].reminders.sent == 1
    assert reports["second"].reminders.sent == 0
