"""A booking's calendar file: it parses, its times are right either side of the clocks
changing, its UID stays with the booking, and a cancellation removes the entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from portal.clock import LONDON, from_london
from portal.db import db
from portal.models import Booking, BookingStatus, Course, CourseSession, SessionStatus
from portal.training.calendar_file import booking_calendar
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
    user_by_email,
)


def event_of(text: str) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def calendar_of(app: Flask, booking_id: int, cancelled: bool = False) -> str:
    with app.app_context():
        return booking_calendar(db.session.get_one(Booking, booking_id), cancelled)


# 2026's clocks go forward on Sunday 29 March and back on Sunday 25 October.
@pytest.mark.parametrize(
    ("day", "start_utc", "end_utc"),
    [
        (date(2026, 3, 27), datetime(2026, 3, 27, 9, 30, tzinfo=UTC), (12, 30)),
        (date(2026, 3, 29), datetime(2026, 3, 29, 8, 30, tzinfo=UTC), (11, 30)),
        (date(2026, 3, 30), datetime(2026, 3, 30, 8, 30, tzinfo=UTC), (11, 30)),
        (date(2026, 10, 23), datetime(2026, 10, 23, 8, 30, tzinfo=UTC), (11, 30)),
        (date(2026, 10, 25), datetime(2026, 10, 25, 9, 30, tzinfo=UTC), (12, 30)),
        (date(2027, 1, 12), datetime(2027, 1, 12, 9, 30, tzinfo=UTC), (12, 30)),
        (date(2027, 7, 6), datetime(2027, 7, 6, 8, 30, tzinfo=UTC), (11, 30)),
    ],
)
def test_a_session_at_half_past_nine_in_london_is_at_the_right_moment(
    app: Flask,
    session: Session,
    day: date,
    start_utc: datetime,
    end_utc: tuple[int, int],
) -> None:
    course = make_course(session=session)
    run = make_session(course, day=day, ends="12:30", session=session)
    booking = make_booking(run, school_by_urn(OAKFIELD, session=session), session=session)
    session.commit()

    calendar, event = event_of(calendar_of(app, booking.id))
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert event.decoded("DTSTART") == start_utc
    assert event.decoded("DTEND") == start_utc.replace(hour=end_utc[0], minute=end_utc[1])
    assert event["DTSTART"].to_ical().endswith(b"Z"), "written in UTC"


def test_the_event_says_what_where_and_who(app: Flask, session: Session) -> None:
    course = make_course(session=session, title="Restorative practice, level 1")
    run = make_session(
        course,
        venue="Shire Hall, Warwick",
        online_link="https://meet.example/rp1",
        trainer="Dana Trainer",
        session=session,
    )
    oakfield = school_by_urn(OAKFIELD, session=session)
    booking = make_booking(run, oakfield, attendee_email="casey@oakfield.example", session=session)
    session.commit()

    _, event = event_of(calendar_of(app, booking.id))
    assert str(event["SUMMARY"]) == "Restorative practice, level 1"
    assert str(event["LOCATION"]) == "Shire Hall, Warwick / https://meet.example/rp1"
    description = str(event["DESCRIPTION"])
    assert "run by Dana Trainer" in description
    assert "Join online: https://meet.example/rp1" in description
    assert f"/training/bookings/{booking.id}" in str(event["URL"])
    assert str(event["ORGANIZER"]) == "mailto:schools.portal@council.example"
    assert event["ORGANIZER"].params["CN"] == "Arden County Council"
    assert str(event["ATTENDEE"]) == "mailto:casey@oakfield.example"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_uid_stays_with_the_booking_and_the_sequence_rises_as_the_session_moves(
    app: Flask, session: Session
) -> None:
    run = make_session(make_course(session=session), session=session)
    oakfield = school_by_urn(OAKFIELD, session=session)
    booking = make_booking(run, oakfield, session=session)
    other = make_booking(run, oakfield, attendee_email="other@oakfield.example", session=session)
    session.commit()

    first = event_of(calendar_of(app, booking.id))[1]
    again = event_of(calendar_of(app, booking.id))[1]
    assert first["UID"] == again["UID"] and first["SEQUENCE"] == again["SEQUENCE"]
    assert event_of(calendar_of(app, other.id))[1]["UID"] != first["UID"]

    with app.app_context():
        moved = db.session.get_one(Booking, booking.id).session
        moved.venue = "Riversley Park Centre, Nuneaton"
        db.session.commit()
    after_move = event_of(calendar_of(app, booking.id))[1]
    assert after_move["UID"] == first["UID"]
    assert int(after_move["SEQUENCE"]) > int(first["SEQUENCE"])

    with app.app_context():
        place = db.session.get_one(Booking, booking.id)
        place.status = BookingStatus.CANCELLED
        db.session.commit()
    calendar, cancelled = event_of(calendar_of(app, booking.id, cancelled=True))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["UID"] == first["UID"]
    assert int(cancelled["SEQUENCE"]) > int(after_move["SEQUENCE"])


def test_the_download_is_the_file_and_cancelled_once_the_session_is(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    course = make_course(session=session, title="Phonics for teaching assistants")
    run = make_session(course, day=date(2027, 5, 4), session=session)
    booking = make_booking(
        run,
        school_by_urn(OAKFIELD, session=session),
        booked_by=user_by_email("staff@oakfield.example", session=session),
        session=session,
    )
    session.commit()
    browser = client_for("school_staff")

    response = browser.get(f"/training/bookings/{booking.id}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="training-2027-05-04-{booking.id}.ics"'
    )
    calendar, event = event_of(response.get_data(as_text=True))
    assert str(event["SUMMARY"]) == "Phonics for teaching assistants"
    assert str(calendar["METHOD"]) == "PUBLISH"

    run.status = SessionStatus.CANCELLED
    session.commit()
    calendar, event = event_of(browser.get(f"/training/bookings/{booking.id}/calendar.ics").text)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("school_staff", 200),
        ("head_teacher", 200),
        ("la_admin", 200),
        ("academy_head", 404),
        ("trust_lead", 404),
        ("caf_officer", 404),
        ("publisher", 404),
        ("training_coordinator", 200),
    ],
)
def test_only_those_who_may_see_the_booking_download_it(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    role: str,
    status: int,
) -> None:
    booking = make_booking(
        make_session(make_course(session=session), session=session),
        school_by_urn(OAKFIELD, session=session),
        session=session,
    )
    riverside = make_booking(
        make_session(make_course(session=session), session=session),
        school_by_urn(RIVERSIDE, session=session),
        session=session,
    )
    session.commit()
    browser = client_for(role)
    assert browser.get(f"/training/bookings/{booking.id}/calendar.ics").status_code == status
    expected = (
        200 if role in ("la_admin", "training_coordinator", "academy_head", "trust_lead") else 404
    )
    assert browser.get(f"/training/bookings/{riverside.id}/calendar.ics").status_code == expected


@given(
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2035, 12, 31)),
    minutes=st.integers(min_value=7 * 60, max_value=18 * 60),
    length=st.integers(min_value=15, max_value=8 * 60),
)
def test_any_session_reads_in_london_as_it_was_set(
    seeded_app: Flask, day: date, minutes: int, length: int
) -> None:
    starts = from_london(day, f"{minutes // 60:02d}:{minutes % 60:02d}")
    course = Course(title="Any course", duration_minutes=length)
    run = CourseSession(
        course=course,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=length),
        venue="Shire Hall",
        trainer="Dana Trainer",
        version=1,
    )
    booking = Booking(
        id=7, session=run, attendee_name="Casey", attendee_email="casey@oakfield.example", version=1
    )
    with seeded_app.app_context():
        _, event = event_of(booking_calendar(booking))
    start = event.decoded("DTSTART")
    assert start == starts
    local = start.astimezone(LONDON)
    assert (local.date(), local.hour * 60 + local.minute) == (day, minutes)
    assert event.decoded("DTEND") - start == timedelta(minutes=length)
