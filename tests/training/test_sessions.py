"""The training coordinator's sessions: times typed in London time and stored in UTC, a
venue or a link, capacity never below the places taken, moving a session and cancelling
one (everyone booked or waiting is told; places are freed and nothing is charged)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal import clock
from portal.clock import utcnow
from portal.models import (
    Area,
    AuditEvent,
    BookingStatus,
    CourseSession,
    SessionStatus,
)
from portal.training import emails
from portal.training.manage_forms import SessionForm
from portal.training.places import take_place
from tests.conftest import csrf_token
from tests.helpers.html import error_summary, ok_soup, soup
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
)

MANAGER = "la_admin"
NEXT_YEAR = date.today().year + 1


def session_form(on: date, **values: str) -> dict:
    return {
        "day": [str(on.day), str(on.month), str(on.year)],
        "starts": "09:30",
        "ends": "12:30",
        "venue": "Shire Hall, Warwick",
        "online_link": "",
        "area": "",
        "capacity": "20",
        "trainer": "Sam Trainer",
        **values,
    }


def post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def new_session(client, course, data: dict):
    return post(client, f"/training/manage/courses/{course.id}/sessions/new", data)


def session_id_of(response) -> int:
    match = re.fullmatch(r"/training/manage/sessions/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


@pytest.mark.parametrize(
    ("day", "utc_start", "utc_end"),
    [
        # British Summer Time: London is an hour ahead of UTC.
        (date(NEXT_YEAR, 7, 15), (8, 30), (11, 30)),
        # Greenwich Mean Time: London is UTC.
        (date(NEXT_YEAR, 1, 15), (9, 30), (12, 30)),
    ],
)
def test_a_session_is_typed_in_london_time_and_kept_in_utc(
    client_for, session, day, utc_start, utc_end
) -> None:
    course = make_course(session=session)
    session.commit()
    client = client_for(MANAGER)
    response = new_session(client, course, session_form(day))
    assert response.status_code == 303, error_summary(response)
    created = session.get(CourseSession, session_id_of(response))
    assert created.starts_at == datetime(day.year, day.month, day.day, *utc_start, tzinfo=UTC)
    assert created.ends_at == datetime(day.year, day.month, day.day, *utc_end, tzinfo=UTC)
    assert (created.capacity, created.places_taken, created.area_id) == (20, 0, None)
    # Shown again as it was typed, in London time.
    page = ok_soup(client.get(f"/training/manage/sessions/{created.id}"))
    assert "9:30am" in page.h1.get_text()
    form = ok_soup(client.get(f"/training/manage/sessions/{created.id}/edit"))
    assert (form.select_one("#starts")["value"], form.select_one("#ends")["value"]) == (
        "09:30",
        "12:30",
    )
    assert session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "training.session_created", AuditEvent.subject_id == created.id
        )
    ).one()


def last_sunday_of_march(year: int) -> date:
    day = date(year, 3, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def test_a_time_the_clocks_skip_is_refused(client_for, session) -> None:
    course = make_course(session=session)
    session.commit()
    response = new_session(
        client_for(MANAGER),
        course,
        session_form(last_sunday_of_march(NEXT_YEAR), starts="01:30", ends="03:00"),
    )
    assert "That time does not exist on that day: the clocks change" in error_summary(response)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"venue": "", "online_link": ""}, "Enter a venue, an online link, or both"),
        (
            {"venue": "", "online_link": "http://meet.example/abc"},
            "Enter the online link as a full address starting https://",
        ),
        (
            {"online_link": "javascript:alert(1)"},
            "Enter the online link as a full address starting https://",
        ),
        ({"capacity": "0"}, "Enter a number of places from 1 to 1,000"),
        ({"capacity": "1001"}, "Enter a number of places from 1 to 1,000"),
        ({"starts": "14:00", "ends": "13:00"}, "The session must end after it starts"),
        ({"starts": "25:00"}, "Enter a time like 09:30 or 16:00"),
        ({"day": ["31", "2", str(NEXT_YEAR)]}, "Enter the session's date, like 27 3 2027"),
        ({"trainer": ""}, "Enter who trains"),
    ],
)
def test_a_mistake_in_a_session_is_said_and_what_was_typed_is_kept(
    client_for, session, values, message
) -> None:
    course = make_course(session=session)
    session.commit()
    response = new_session(
        client_for(MANAGER), course, session_form(date(NEXT_YEAR, 6, 3), **values)
    )
    assert response.status_code == 200
    assert message in error_summary(response)
    page = soup(response)
    assert page.select_one("#trainer").get("value", "") == values.get("trainer", "Sam Trainer")


def test_an_online_session_needs_no_venue_and_is_for_an_area(client_for, session) -> None:
    course = make_course(session=session)
    area = session.scalars(select(Area).order_by(Area.name)).first()
    session.commit()
    response = new_session(
        client_for(MANAGER),
        course,
        session_form(
            date(NEXT_YEAR, 6, 3),
            venue="",
            online_link="https://meet.example/training?id=1",
            area=str(area.id),
        ),
    )
    assert response.status_code == 303, error_summary(response)
    created = session.get(CourseSession, session_id_of(response))
    assert (created.venue, created.online_link, created.area_id) == (
        None,
        "https://meet.example/training?id=1",
        area.id,
    )


def test_a_new_session_cannot_be_in_the_past(client_for, session) -> None:
    course = make_course(session=session)
    session.commit()
    yesterday = clock.today_in_london() - timedelta(days=1)
    response = new_session(client_for(MANAGER), course, session_form(yesterday))
    assert "Enter a date and time in the future" in error_summary(response)


def form_of(client, path: str) -> dict:
    page = ok_soup(client.get(path))
    data = {
        field["name"]: field.get("value", "")
        for field in page.select("form[method=post] input")
        if field.get("name") and field.get("type") != "radio"
    }
    # The date's three boxes share its name.
    data["day"] = [page.select_one(f"#day-{part}")["value"] for part in ("day", "month", "year")]
    for select_box in page.select("form[method=post] select"):
        chosen = select_box.select_one("option[selected]") or select_box.select_one("option")
        data[select_box["name"]] = chosen.get("value", "")
    return data


@pytest.fixture
def told(monkeypatch) -> dict:
    """What the coordinator's changes told people, by e-mail (emails.py is h4's)."""
    calls: dict = {}

    def moved(session, bookings, previous_start, previous_end, previous_place):
        calls["moved"] = (list(bookings), previous_start, previous_end, previous_place)

    def cancelled(session, bookings):
        calls["cancelled"] = list(bookings)

    monkeypatch.setattr(emails, "session_moved", moved)
    monkeypatch.setattr(emails, "session_cancelled", cancelled)
    return calls


def booked_session(session, **values):
    """A session a month away with a confirmed place, one awaiting approval, one waiting
    and one cancelled earlier."""
    course = make_course(session=session, price_pence=5000)
    booked = make_session(course, session=session, capacity=2, **values)
    oakfield, riverside = (
        school_by_urn(OAKFIELD, session=session),
        school_by_urn(RIVERSIDE, session=session),
    )
    bookings = [
        make_booking(booked, oakfield, session=session),
        make_booking(booked, riverside, status=BookingStatus.AWAITING_APPROVAL, session=session),
        make_booking(booked, oakfield, status=BookingStatus.WAITING, session=session),
    ]
    gone = make_booking(booked, riverside, status=BookingStatus.CANCELLED, session=session)
    session.commit()
    return booked, bookings, gone


def test_a_session_moved_tells_everyone_booked_or_waiting_where_it_was(
    client_for, session, told
) -> None:
    moved, bookings, _ = booked_session(session)
    before = (moved.starts_at, moved.ends_at)
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{moved.id}/edit"
    data = form_of(client, path)
    later = clock.today_in_london(moved.starts_at) + timedelta(days=7)
    response = client.post(
        path,
        data={
            **data,
            "day": [str(later.day), str(later.month), str(later.year)],
            "venue": "Town Hall",
        },
    )
    assert response.status_code == 303, error_summary(response)
    session.refresh(moved)
    assert clock.today_in_london(moved.starts_at) == later
    assert moved.venue == "Town Hall"
    bookings_told, previous_start, previous_end, previous_place = told["moved"]
    assert {b.id for b in bookings_told} == {b.id for b in bookings}
    assert (previous_start, previous_end, previous_place) == (*before, "Shire Hall, Warwick")
    page = ok_soup(client.get(response.headers["Location"]))
    assert "The 3 people booked or waiting have been e-mailed." in page.get_text()
    assert session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.subject_type == "CourseSession", AuditEvent.subject_id == moved.id
        )
    ).all() == ["training.session_moved"]


def test_a_change_that_is_not_a_move_tells_nobody(client_for, session, told) -> None:
    changed, _, _ = booked_session(session)
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{changed.id}/edit"
    response = client.post(path, data={**form_of(client, path), "trainer": "Another Trainer"})
    assert response.status_code == 303
    session.refresh(changed)
    assert changed.trainer == "Another Trainer"
    assert "moved" not in told


def test_capacity_never_goes_below_the_places_taken(client_for, session) -> None:
    full, _, _ = booked_session(session)
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{full.id}/edit"
    response = client.post(path, data={**form_of(client, path), "capacity": "1"})
    assert response.status_code == 200
    assert "Capacity must be at least 2: 2 places already taken" in error_summary(response)
    session.refresh(full)
    assert full.capacity == 2


def test_a_session_changed_meanwhile_is_told_not_overwritten(client_for, session) -> None:
    changed, _, _ = booked_session(session)
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{changed.id}/edit"
    seen = form_of(client, path)
    changed.trainer = "Changed meanwhile"
    session.commit()
    response = client.post(path, data={**seen, "capacity": "30"})
    assert response.status_code == 200
    assert "Someone else changed this session" in soup(response).get_text()
    session.refresh(changed)
    assert (changed.capacity, changed.trainer) == (2, "Changed meanwhile")


def test_cancelling_a_session_frees_every_place_charges_nothing_and_tells_everyone(
    client_for, session, told
) -> None:
    cancelled, bookings, gone = booked_session(session)
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{cancelled.id}/cancel"
    page = ok_soup(client.get(path))
    assert "3 bookings (places and the waiting list) will end" in page.get_text(" ", strip=True)
    response = post(client, path, {"reason": ""})
    assert "Enter why the session is cancelled: everyone booked is told" in error_summary(response)
    response = post(client, path, {"reason": "The trainer is ill."})
    assert response.status_code == 303
    session.expire_all()
    assert cancelled.status is SessionStatus.CANCELLED
    assert cancelled.cancelled_reason == "The trainer is ill."
    assert cancelled.places_taken == 0
    for booking in bookings:
        assert booking.status is BookingStatus.SESSION_CANCELLED
        assert booking.charge_pence == 0
        assert booking.reason == "The trainer is ill."
    # A place given up earlier stays as it was, and its person is not told again.
    assert gone.status is BookingStatus.CANCELLED
    assert {b.id for b in told["cancelled"]} == {b.id for b in bookings}
    shown = ok_soup(client.get(response.headers["Location"])).get_text(" ", strip=True)
    assert (
        "The session has been cancelled. The 3 people booked or waiting have been e-mailed."
        in shown
    )
    # Nobody books a place on it now.
    with client.application.app_context():
        assert take_place(cancelled.id) is False
    # Cancelling twice does nothing more.
    again = post(client, path, {"reason": "Again"})
    assert "This session has already been cancelled" in error_summary(again)


def test_a_cancelled_session_cannot_be_changed(client_for, session, told) -> None:
    cancelled, _, _ = booked_session(session, status=SessionStatus.CANCELLED)
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{cancelled.id}/edit"
    response = client.post(path, data={**form_of(client, path), "trainer": "Someone"})
    assert "This session has been cancelled: it cannot be changed" in error_summary(response)


@pytest.mark.parametrize("role", ["head_teacher", "trust_lead", "caf_officer"])
def test_school_roles_cannot_cancel_a_session(client_for, session, role) -> None:
    course = make_course(session=session)
    target = make_session(course, session=session)
    session.commit()
    client = client_for(role)
    path = f"/training/manage/sessions/{target.id}/cancel"
    response = client.post(path, data={"csrf_token": csrf_token(client, "/"), "reason": "x"})
    assert response.status_code == 403
    session.refresh(target)
    assert target.status is SessionStatus.SCHEDULED


def test_past_session_times_use_the_clock(monkeypatch, client_for, session) -> None:
    """The 'future' a new session must be in is the clock's, which tests can move."""
    course = make_course(session=session)
    session.commit()
    monkeypatch.setattr(clock, "now", lambda: datetime(NEXT_YEAR, 8, 1, tzinfo=UTC))
    response = new_session(client_for(MANAGER), course, session_form(date(NEXT_YEAR, 7, 15)))
    assert "Enter a date and time in the future" in error_summary(response)
    assert utcnow() < datetime(NEXT_YEAR, 8, 1, tzinfo=UTC)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2035, 12, 31)),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
)
def test_a_time_typed_in_london_is_that_time_in_london_in_summer_or_winter(
    app, day: date, hours: int, minutes: int
) -> None:
    typed = f"{hours:02d}:{minutes:02d}"
    with app.test_request_context():
        form = SessionForm(
            [],
            formdata=MultiDict(
                [
                    *(("day", str(part)) for part in (day.day, day.month, day.year)),
                    ("starts", typed),
                    ("ends", "23:59"),
                    ("venue", "Shire Hall"),
                    ("area", ""),
                    ("capacity", "10"),
                    ("trainer", "Sam"),
                ]
            ),
            meta={"csrf": False},
        )
        fine = form.validate()
    if typed == "23:59":
        assert form.ends.errors == ["The session must end after it starts"]
        return
    if not fine:
        # Only a time the clocks skip, on the morning they go forward, is refused.
        assert form.starts.errors == ["That time does not exist on that day: the clocks change"]
        assert (day.month, day.weekday(), hours) == (3, 6, 1)
        return
    starts = form.details().starts_at
    assert starts.tzinfo is not None and starts.utcoffset() == timedelta(0)
    local = starts.astimezone(clock.LONDON)
    assert (local.date(), local.hour, local.minute) == (day, hours, minutes)
    # British Summer Time runs from the last Sunday of March to the last Sunday of October.
    summer = last_sunday_of_march(day.year) < day < last_sunday_of_october(day.year)
    assert local.utcoffset() == timedelta(hours=1 if summer else 0) or day in (
        last_sunday_of_march(day.year),
        last_sunday_of_october(day.year),
    )


def last_sunday_of_october(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def test_a_version_that_is_not_a_number_is_a_change_made_meanwhile(client_for, session) -> None:
    changed, _, _ = booked_session(session)
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{changed.id}/edit"
    response = client.post(path, data={**form_of(client, path), "version": "²x"})
    assert response.status_code == 200
    assert "Someone else changed this session" in soup(response).get_text()


def test_once_the_register_is_taken_a_session_is_neither_moved_nor_cancelled(
    client_for, session, told
) -> None:
    held, _, _ = booked_session(session)
    held.register_taken_at = utcnow()
    session.commit()
    client = client_for(MANAGER)
    path = f"/training/manage/sessions/{held.id}/edit"
    data = form_of(client, path)
    response = client.post(path, data={**data, "starts": "10:00", "ends": "13:00"})
    assert "The register has been taken: the session cannot be moved" in error_summary(response)
    # Its trainer can still be put right.
    assert client.post(path, data={**data, "trainer": "Corrected"}).status_code == 303
    page = ok_soup(client.get(f"/training/manage/sessions/{held.id}"))
    assert page.find("a", string="Cancel the session") is None
    response = post(client, f"/training/manage/sessions/{held.id}/cancel", {"reason": "Late"})
    assert "The register has been taken: the session cannot be cancelled" in error_summary(response)
    session.expire_all()
    assert held.status is SessionStatus.SCHEDULED and held.trainer == "Corrected"
    assert told == {}
