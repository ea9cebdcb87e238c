"""The booking e-mails: who gets each, what it says, and that it is queued in the outbox with
the change that caused it (and goes if that change is rolled back)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.clock import from_london
from portal.db import db
from portal.models import (
    Booking,
    BookingStatus,
    CourseSession,
    OutboxMessage,
    SessionStatus,
    User,
)
from portal.outbox import Attachment, deliver_due, mail_directory, queue_email
from portal.training import emails
from tests.jobs.test_outbox import flaky_smtp, use_smtp
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
    user_by_email,
)

ATTENDEE = "casey@oakfield.example"
BOOKER = "staff@oakfield.example"
HEAD = "head@oakfield.example"


@pytest.fixture
def empty_outbox(app: Flask, session: Session) -> Session:
    """The demo's own queued mail is cleared (inside the test's transaction)."""
    session.execute(delete(OutboxMessage))
    session.commit()
    return session


@pytest.fixture
def booking_id(empty_outbox: Session) -> int:
    """Casey, who has no account, booked by a colleague at Oakfield on a £95 course."""
    session = empty_outbox
    course = make_course(
        session=session,
        title="Emotion coaching for support staff",
        price_pence=9500,
        late_charge_pence=4000,
    )
    run = make_session(
        course,
        day=date(2027, 3, 2),
        ends="12:30",
        venue="Shire Hall, Warwick",
        online_link=None,
        trainer="Dana Trainer",
        session=session,
    )
    booking = make_booking(
        run,
        school_by_urn(OAKFIELD, session=session),
        attendee_name="Casey Colleague",
        attendee_email=ATTENDEE,
        booked_by=user_by_email(BOOKER, session=session),
        session=session,
    )
    session.commit()
    return booking.id


def sent(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def run(app: Flask, booking_id: int, action: Callable[[Booking], object]) -> None:
    """Call an e-mail function as a workflow would, in the app's session, and commit."""
    with app.app_context():
        action(db.session.get_one(Booking, booking_id))
        db.session.commit()


def test_a_confirmation_goes_to_the_attendee_with_the_calendar_file_and_a_copy_to_the_booker(
    app: Flask, empty_outbox: Session, booking_id: int
) -> None:
    run(app, booking_id, emails.booking_confirmed)

    to_attendee, to_booker = sent(empty_outbox)
    assert to_attendee.recipient == ATTENDEE
    assert (
        to_attendee.subject == "Training booked: Emotion coaching for support staff, 2 March 2027"
    )
    body = to_attendee.body
    assert body.startswith("Dear Casey Colleague,\n\nYour place is booked.")
    assert "When: Tuesday 2 March 2027, 9:30am to 12:30pm (UK time)" in body
    assert "Venue: Shire Hall, Warwick" in body
    assert "Cost to the school: £95.00" in body
    assert "School: Oakfield Primary" in body
    assert f"/training/bookings/{booking_id}\n" in body
    assert f"/training/bookings/{booking_id}/calendar.ics" in body
    assert "not attending, costs the school £40.00" in body
    assert to_attendee.attachment_name == "training-session.ics"
    assert to_attendee.attachment_type == "text/calendar; method=PUBLISH"
    event = Calendar.from_ical(to_attendee.attachment).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Emotion coaching for support staff"

    assert to_booker.recipient == BOOKER
    assert to_booker.subject.startswith("Copy: Training booked:")
    assert "You booked this place for Casey Colleague (casey@oakfield.example)" in to_booker.body
    assert to_booker.attachment is None, "the calendar file is the attendee's"


def test_someone_booking_themselves_gets_one_message(app: Flask, empty_outbox: Session) -> None:
    session = empty_outbox
    staff = user_by_email(BOOKER, session=session)
    course = make_course(session=session, price_pence=0, late_charge_pence=None)
    booking = make_booking(
        make_session(course, venue=None, online_link="https://meet.example/abc", session=session),
        school_by_urn(OAKFIELD, session=session),
        attendee=staff,
        booked_by=staff,
        session=session,
    )
    session.commit()
    run(app, booking.id, emails.booking_confirmed)

    (message,) = sent(session)
    assert message.recipient == BOOKER
    assert "Online: https://meet.example/abc" in message.body
    assert "Venue:" not in message.body
    assert "Cost to the school: Free" in message.body
    assert "Cancelling costs nothing" in message.body


def test_mail_is_queued_with_the_change_and_goes_with_its_rollback(
    app: Flask, empty_outbox: Session, booking_id: int
) -> None:
    with app.app_context():
        booking = db.session.get_one(Booking, booking_id)
        booking.status = BookingStatus.CANCELLED
        emails.booking_cancelled(booking)
        db.session.rollback()
    assert sent(empty_outbox) == []

    with app.app_context():
        booking = db.session.get_one(Booking, booking_id)
        booking.status = BookingStatus.CANCELLED
        booking.charge_pence = 4000
        emails.booking_cancelled(booking)
        db.session.commit()
    to_attendee, _copy = sent(empty_outbox)
    assert "the school will be charged £40.00" in to_attendee.body
    assert to_attendee.attachment_type == "text/calendar; method=CANCEL"
    assert "METHOD:CANCEL" in (to_attendee.attachment or "")


def test_a_place_given_up_in_time_says_nothing_is_charged(
    app: Flask, empty_outbox: Session, booking_id: int
) -> None:
    def cancel(booking: Booking) -> None:
        booking.status = BookingStatus.CANCELLED
        booking.charge_pence = 0
        emails.booking_cancelled(booking)

    run(app, booking_id, cancel)
    assert "Nothing is charged." in sent(empty_outbox)[0].body


def test_approvers_are_each_asked_once(app: Flask, empty_outbox: Session, booking_id: int) -> None:
    session = empty_outbox
    head = user_by_email(HEAD, session=session)
    run(app, booking_id, lambda booking: emails.approval_needed(booking, [head, head]))

    (message,) = sent(session)
    assert message.recipient == HEAD
    assert message.subject == (
        "Training booking to approve: Casey Colleague, Emotion coaching for support staff"
    )
    assert message.body.startswith("Dear Hannah Demo-Head,")
    assert f"/training/bookings/{booking_id}" in message.body


def test_a_refusal_gives_the_reason(app: Flask, empty_outbox: Session, booking_id: int) -> None:
    def refuse(booking: Booking) -> None:
        booking.status = BookingStatus.REFUSED
        booking.reason = "Staffing that week is too tight."
        emails.booking_refused(booking)

    run(app, booking_id, refuse)
    recipients = [(m.recipient, m.subject) for m in sent(empty_outbox)]
    assert recipients == [
        (ATTENDEE, "Training booking not approved: Emotion coaching for support staff"),
        (BOOKER, "Copy: Training booking not approved: Emotion coaching for support staff"),
    ]
    assert "Reason: Staffing that week is too tight." in sent(empty_outbox)[0].body


def test_the_waiting_list_says_where_the_attendee_stands(
    app: Flask, empty_outbox: Session, booking_id: int
) -> None:
    session = empty_outbox
    booking = session.get_one(Booking, booking_id)
    joined = datetime(2027, 1, 5, 9, tzinfo=UTC)
    make_booking(
        booking.session,
        booking.school,
        status=BookingStatus.WAITING,
        attendee_email="first@oakfield.example",
        joined_list_at=joined,
        session=session,
    )
    booking.status = BookingStatus.WAITING
    booking.joined_list_at = joined + timedelta(hours=1)
    session.commit()
    run(app, booking_id, emails.added_to_waiting_list)
    assert "on its waiting list, number 2." in sent(session)[0].body


def test_an_offer_says_until_when(app: Flask, empty_outbox: Session, booking_id: int) -> None:
    def offer(booking: Booking) -> None:
        booking.status = BookingStatus.OFFERED
        booking.offer_expires_at = from_london(datetime(2027, 2, 10).date(), "17:00")
        emails.place_offered(booking)

    run(app, booking_id, offer)
    message = sent(empty_outbox)[0]
    assert message.subject == (
        "A place is free for you: Emotion coaching for support staff, 2 March 2027"
    )
    assert "accept it by 10 February 2027 at 5:00pm" in message.body

    run(app, booking_id, emails.offer_lapsed)
    assert sent(empty_outbox)[-2].subject == (
        "The place offered has gone: Emotion coaching for support staff"
    )


def test_a_swap_confirms_the_new_attendee_and_tells_the_previous_one(
    app: Flask, empty_outbox: Session, booking_id: int
) -> None:
    def swap(booking: Booking) -> None:
        booking.attendee_name = "Robin Replacement"
        booking.attendee_email = "robin@oakfield.example"
        emails.attendee_swapped(booking, "Casey Colleague", ATTENDEE)

    run(app, booking_id, swap)
    messages = {m.recipient: m for m in sent(empty_outbox)}
    assert set(messages) == {"robin@oakfield.example", BOOKER, ATTENDEE}
    assert messages["robin@oakfield.example"].attachment_type == "text/calendar; method=PUBLISH"
    previous = messages[ATTENDEE]
    assert previous.body.startswith("Dear Casey Colleague,\n\nYour school has given your place")
    assert "Robin Replacement" in previous.body
    assert previous.attachment_type == "text/calendar; method=CANCEL"


def test_a_cancelled_session_tells_everyone_booked_or_waiting(
    app: Flask, empty_outbox: Session, booking_id: int
) -> None:
    session = empty_outbox
    run_ = session.get_one(Booking, booking_id).session
    make_booking(
        run_,
        school_by_urn(RIVERSIDE, session=session),
        status=BookingStatus.WAITING,
        attendee_email="wait@riverside.example",
        session=session,
    )
    session.commit()
    with app.app_context():
        course_session = db.session.get_one(CourseSession, run_.id)
        course_session.status = SessionStatus.CANCELLED
        course_session.cancelled_reason = "The trainer is ill."
        emails.session_cancelled(course_session, course_session.bookings)
        db.session.commit()

    messages = sent(session)
    assert sorted(m.recipient for m in messages) == [ATTENDEE, BOOKER, "wait@riverside.example"]
    for message in messages:
        assert message.subject.startswith(("Training session cancelled:", "Copy: Training"))
        assert "Reason: The trainer is ill." in message.body
    assert all(
        "STATUS:CANCELLED" in (m.attachment or "") for m in messages if m.recipient != BOOKER
    )


def test_a_moved_session_sends_the_new_time_and_a_new_calendar_file(
    app: Flask, empty_outbox: Session, booking_id: int
) -> None:
    session = empty_outbox
    run_ = session.get_one(Booking, booking_id).session
    waiting = make_booking(
        run_,
        school_by_urn(OAKFIELD, session=session),
        status=BookingStatus.WAITING,
        attendee_email="wait@oakfield.example",
        session=session,
    )
    session.commit()
    first_file = None
    with app.app_context():
        booking = db.session.get_one(Booking, booking_id)
        emails.booking_confirmed(booking)
        db.session.commit()
        first_file = sent(session)[0].attachment
        session.execute(delete(OutboxMessage))
        session.commit()

        course_session = db.session.get_one(CourseSession, run_.id)
        before = (course_session.starts_at, course_session.ends_at, course_session.venue or "")
        day = datetime(2027, 3, 9).date()
        course_session.starts_at = from_london(day, "13:30")
        course_session.ends_at = from_london(day, "16:30")
        course_session.venue = "Riversley Park Centre, Nuneaton"
        emails.session_moved(
            course_session, [db.session.get_one(Booking, booking_id), waiting], *before
        )
        db.session.commit()

    messages = {m.recipient: m for m in sent(session)}
    moved = messages[ATTENDEE]
    assert moved.subject == (
        "Training session changed: Emotion coaching for support staff, now 9 March 2027"
    )
    assert "Before: Tuesday 2 March 2027, 9:30am to 12:30pm (UK time), Shire Hall" in moved.body
    assert "Now: Tuesday 9 March 2027, 1:30pm to 4:30pm (UK time), Riversley Park" in moved.body
    old = Calendar.from_ical(first_file or "").walk("VEVENT")[0]
    new = Calendar.from_ical(moved.attachment or "").walk("VEVENT")[0]
    assert new["UID"] == old["UID"]
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert "Riversley Park Centre" in str(new["LOCATION"])
    assert messages["wait@oakfield.example"].attachment is None
    assert "still on the waiting list" in messages["wait@oakfield.example"].body


def test_a_delivered_confirmation_carries_the_calendar_file(
    app: Flask,
    empty_outbox: Session,
    booking_id: int,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_DIRECTORY", str(tmp_path / "mail"))
    run(app, booking_id, emails.booking_confirmed)
    with app.app_context():
        assert deliver_due().sent == 2
        directory = mail_directory()

    delivered = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(directory.iterdir())
    ]
    to_attendee = next(m for m in delivered if m["To"] == ATTENDEE)
    assert to_attendee.get_content_type() == "multipart/mixed"
    text = to_attendee.get_body(preferencelist=("plain",))
    assert text is not None and "Your place is booked." in text.get_content()
    (attachment,) = list(to_attendee.iter_attachments())
    assert attachment.get_filename() == "training-session.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Emotion coaching for support staff"

    to_booker = next(m for m in delivered if m["To"] == BOOKER)
    assert not to_booker.is_multipart()


def test_a_confirmation_sent_by_smtp_carries_the_calendar_file(
    app: Flask, empty_outbox: Session, booking_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(app, booking_id, emails.booking_confirmed)
    with flaky_smtp(failures=0) as (handler, port):
        use_smtp(app, monkeypatch, port)
        with app.app_context():
            assert deliver_due().sent == 2

    received = next(m for m in handler.accepted if m["To"] == ATTENDEE)
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert str(event["UID"]) == f"training-booking-{booking_id}@council.example"


@pytest.mark.parametrize(
    "attachment",
    [
        Attachment("evidence.pdf", "application/pdf", "%PDF-1.7"),
        Attachment("a\r\nBcc: x@example.com", "text/calendar", "BEGIN:VCALENDAR"),
        Attachment("a.ics", "text/calendar; method=PUBLISH\r\nBcc: x@example.com", ""),
        Attachment("x" * 101, "text/calendar", ""),
    ],
)
def test_an_attachment_that_could_never_be_sent_is_refused_when_queued(
    app: Flask, attachment: Attachment
) -> None:
    with app.app_context(), pytest.raises(ValueError):
        queue_email(ATTENDEE, "Subject", "Body", attachment)


def test_a_booking_just_made_is_named_in_its_links(app: Flask, empty_outbox: Session) -> None:
    session = empty_outbox
    run_id = make_session(make_course(session=session), session=session).id
    oakfield = school_by_urn(OAKFIELD, session=session).id
    head = user_by_email(HEAD, session=session)
    session.commit()
    with app.app_context():
        approver = db.session.get_one(User, head.id)
        booking = Booking(
            session=db.session.get_one(CourseSession, run_id),
            school_id=oakfield,
            attendee_name="Nova New",
            attendee_email="nova@oakfield.example",
            status=BookingStatus.AWAITING_APPROVAL,
        )
        db.session.add(booking)
        emails.approval_needed(booking, [approver])
        db.session.commit()
        booking_id = booking.id
    (message,) = sent(session)
    assert f"/training/bookings/{booking_id}\n" in message.body
