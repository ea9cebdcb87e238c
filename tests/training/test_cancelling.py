"""Cancelling a booking: the page that says what it costs, the charge, the freed place going
to the waiting list, who may, and when it is too late (portal/training/cancelling.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.models import AuditEvent, Booking, BookingStatus, CourseSession
from tests.conftest import csrf_token
from tests.helpers.html import error_summary, ok_soup, soup
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    make_booking,
    make_course,
    make_session,
    record_emails,
    school_by_urn,
    user_by_email,
)

HEAD = "head@oakfield.example"
STAFF = "staff@oakfield.example"


def at(moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture
def start(session) -> datetime:
    """When the session starts: 30 days from now, at 09:00 London time."""
    day = clock.today_in_london() + timedelta(days=30)
    return clock.from_london(day, "09:00")


@pytest.fixture
def booked(session, start) -> Booking:
    """A confirmed £120 place at Oakfield, booked by its head teacher for a colleague with no
    account (so school staff neither made it nor attend it)."""
    course = make_course(session=session, price_pence=12_000, cancellation_days=10)
    course_session = make_session(course, starts_at=start, capacity=2, session=session)
    booking = make_booking(
        course_session,
        school_by_urn(OAKFIELD, session=session),
        session=session,
        attendee_name="Sam Teacher",
        booked_by_id=user_by_email(HEAD, session=session).id,
    )
    session.commit()
    return booking


def cancel(client, booking: Booking, **data: str):
    path = f"/training/bookings/{booking.id}/cancel"
    page = client.get(path)
    seen = soup(page).select_one("input[name=seen_charge]")
    fields = {"csrf_token": csrf_token(client, path)}
    if seen is not None:
        fields["seen_charge"] = seen.get("value", "")
    return client.post(path, data={**fields, **data})


def reread(session, booking: Booking) -> Booking:
    session.expire_all()
    return session.get(Booking, booking.id)


def test_the_page_says_cancelling_now_is_free_and_when_it_stops_being(
    client_for, booked, start
) -> None:
    page = ok_soup(client_for("head_teacher").get(f"/training/bookings/{booked.id}/cancel"))
    said = page.select_one("#charge").get_text(" ", strip=True)
    late_from = clock.long_date(clock.today_in_london(start) - timedelta(days=9))
    assert said == f"Cancelling now is free. From {late_from} it would cost the school £120.00."
    assert page.select_one("h1").get_text(strip=True) == (
        "Are you sure you want to cancel this booking?"
    )


def test_cancelling_in_time_costs_nothing_and_frees_the_place(
    client_for, session, booked, monkeypatch
) -> None:
    sent = record_emails(monkeypatch)
    client = client_for("head_teacher")
    response = cancel(client, booked, reason="Off sick that week")
    assert response.status_code == 303
    booking = reread(session, booked)
    assert (booking.status, booking.charge_pence) == (BookingStatus.CANCELLED, 0)
    assert booking.reason == "Off sick that week"
    assert session.get(CourseSession, booking.session_id).places_taken == 0
    assert sent == [("booking_cancelled", booked.id)]
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "training.booking_cancelled",
            AuditEvent.subject_id == booked.id,
        )
    ).one()
    assert event.detail["charge_pence"] == 0
    shown = ok_soup(client.get(response.headers["Location"]))
    assert "Booking cancelled. No charge." in shown.get_text(" ")
    assert "There is no charge." in shown.select_one("#charge").get_text()


def test_cancelling_inside_the_window_costs_the_price(
    client_for, session, booked, start, monkeypatch
) -> None:
    at(start - timedelta(days=3), monkeypatch)
    client = client_for("head_teacher")
    page = ok_soup(client.get(f"/training/bookings/{booked.id}/cancel"))
    assert "Cancelling now costs the school £120.00" in page.select_one("#charge").get_text()
    assert cancel(client, booked).status_code == 303
    assert reread(session, booked).charge_pence == 12_000


def test_the_courses_late_charge_applies_to_a_free_course(
    client_for, session, start, monkeypatch
) -> None:
    course = make_course(session=session, price_pence=0, late_charge_pence=4_000)
    booking = make_booking(
        make_session(course, starts_at=start, session=session),
        school_by_urn(OAKFIELD, session=session),
        session=session,
    )
    session.commit()
    at(start - timedelta(days=1), monkeypatch)
    assert cancel(client_for("head_teacher"), booking).status_code == 303
    assert reread(session, booking).charge_pence == 4_000


def test_the_window_closing_after_the_page_was_shown_asks_again(
    client_for, session, booked, start, monkeypatch
) -> None:
    """Nobody is charged what the page did not tell them: the page said free; by the time
    the button is pressed the window has closed."""
    client = client_for("head_teacher")
    path = f"/training/bookings/{booked.id}/cancel"
    token = csrf_token(client, path)
    at(start - timedelta(days=2), monkeypatch)
    response = client.post(path, data={"csrf_token": token, "seen_charge": "0"})
    assert response.status_code == 200
    assert error_summary(response) == [
        "The cancellation window has closed since the page was shown: check the charge below"
        " and cancel again if you still want to"
    ]
    assert reread(session, booked).status is BookingStatus.CONFIRMED
    assert "£120.00" in soup(response).select_one("#charge").get_text()


def test_cancelling_a_place_offers_it_to_the_first_on_the_waiting_list(
    client_for, session, booked, monkeypatch
) -> None:
    oakfield = school_by_urn(OAKFIELD, session=session)
    full = session.get(CourseSession, booked.session_id)
    make_booking(full, oakfield, session=session)  # the second and last place
    now = clock.utcnow()
    second = make_booking(
        full, oakfield, status=BookingStatus.WAITING, joined_list_at=now, session=session
    )
    first = make_booking(
        full,
        school_by_urn(RIVERSIDE, session=session),
        status=BookingStatus.WAITING,
        joined_list_at=now - timedelta(hours=1),
        session=session,
    )
    session.commit()
    sent = record_emails(monkeypatch)
    assert cancel(client_for("head_teacher"), booked).status_code == 303
    offered = reread(session, first)
    assert offered.status is BookingStatus.OFFERED
    assert offered.offer_expires_at is not None
    assert reread(session, second).status is BookingStatus.WAITING
    # The freed place is the offered person's: the session is still full.
    assert session.get(CourseSession, full.id).places_taken == 2
    assert sent == [("booking_cancelled", booked.id), ("place_offered", first.id)]


def test_leaving_the_waiting_list_frees_nothing_and_costs_nothing(
    client_for, session, booked, start, monkeypatch
) -> None:
    waiting = make_booking(
        session.get(CourseSession, booked.session_id),
        school_by_urn(OAKFIELD, session=session),
        status=BookingStatus.WAITING,
        session=session,
    )
    session.commit()
    at(start - timedelta(days=1), monkeypatch)
    client = client_for("head_teacher")
    page = ok_soup(client.get(f"/training/bookings/{waiting.id}/cancel"))
    assert "will leave the waiting list. There is no charge." in page.select_one("#charge").text
    assert cancel(client, waiting).status_code == 303
    left = reread(session, waiting)
    assert (left.status, left.charge_pence) == (BookingStatus.CANCELLED, 0)
    assert session.get(CourseSession, booked.session_id).places_taken == 1


def test_no_cancelling_once_the_session_has_started(
    client_for, session, booked, start, monkeypatch
) -> None:
    at(start + timedelta(minutes=1), monkeypatch)
    client = client_for("head_teacher")
    page = ok_soup(client.get(f"/training/bookings/{booked.id}/cancel"))
    assert "the session has started" in page.select_one("#charge").get_text()
    assert page.select_one("form#cancel") is None
    response = cancel(client, booked)
    assert response.status_code == 200
    assert error_summary(response)[0].startswith("This booking cannot be changed")
    assert reread(session, booked).status is BookingStatus.CONFIRMED


def test_a_cancelled_booking_cannot_be_cancelled_again(client_for, session, booked) -> None:
    client = client_for("head_teacher")
    assert cancel(client, booked).status_code == 303
    response = cancel(client, booked)
    assert response.status_code == 200
    assert error_summary(response) == ["This booking has already been cancelled"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("head_teacher", 200),  # leads the school
        ("school_staff", 403),  # the school's, but neither made by them nor theirs
        ("la_admin", 200),  # manages training
        ("academy_head", 404),  # another school's booking
        ("trust_lead", 404),
        ("publisher", 404),
        ("caf_officer", 404),
    ],
)
def test_who_may_cancel(client_for, booked, role: str, status: int) -> None:
    assert client_for(role).get(f"/training/bookings/{booked.id}/cancel").status_code == status


def test_whoever_booked_it_may_cancel_it(client_for, session, booked) -> None:
    booked_by_staff = reread(session, booked)
    booked_by_staff.booked_by_id = user_by_email(STAFF, session=session).id
    session.commit()
    assert cancel(client_for("school_staff"), booked).status_code == 303


@pytest.mark.parametrize("page", ["cancel", "offer", "swap"])
def test_the_pages_of_a_change_keep_to_the_query_budget(
    client_for, booked, count_queries, page: str
) -> None:
    """At most 12 statements (tests/performance/test_query_budget.py), whatever the booking."""
    client = client_for("head_teacher")
    with count_queries() as counter:
        response = client.get(f"/training/bookings/{booked.id}/{page}")
    assert response.status_code == 200
    assert counter.count <= 12, counter.statements
