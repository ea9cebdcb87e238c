"""Swapping who attends a booked place (portal/training/swapping.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.models import AuditEvent, Booking, BookingStatus
from portal.training import emails
from tests.conftest import csrf_token
from tests.helpers.html import banner, error_summary, ok_soup, soup
from tests.training.factories import (
    OAKFIELD,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
    user_by_email,
)

HEAD = "head@oakfield.example"
STAFF = "staff@oakfield.example"
NEW = {"name": "Robin Colleague", "email": "Robin.Colleague@Oakfield.example", "job_title": "TA"}


@pytest.fixture
def booked(session) -> Booking:
    """A confirmed £50 place at Oakfield in 15 days, booked by the head teacher for Sam."""
    course = make_course(session=session, price_pence=5_000)
    booking = make_booking(
        make_session(course, starts_at=clock.utcnow() + timedelta(days=15), session=session),
        school_by_urn(OAKFIELD, session=session),
        attendee_name="Sam Teacher",
        attendee_email="sam.teacher@oakfield.example",
        booked_by_id=user_by_email(HEAD, session=session).id,
        session=session,
    )
    session.commit()
    return booking


@pytest.fixture
def swapped(monkeypatch) -> list[tuple[int, str, str]]:
    """The swap e-mails asked for: (booking id, previous name, previous address)."""
    calls: list[tuple[int, str, str]] = []
    monkeypatch.setattr(
        emails,
        "attendee_swapped",
        lambda booking, name, email: calls.append((booking.id, name, email)),
    )
    return calls


def swap(client, booking: Booking, **data: str):
    path = f"/training/bookings/{booking.id}/swap"
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def reread(session, booking: Booking) -> Booking:
    session.expire_all()
    return session.get(Booking, booking.id)


def test_swapping_gives_the_place_to_a_colleague_at_no_cost(
    client_for, session, booked, swapped
) -> None:
    client = client_for("head_teacher")
    response = swap(client, booked, **NEW)
    assert response.status_code == 303
    booking = reread(session, booked)
    assert (booking.attendee_name, booking.attendee_email, booking.attendee_job_title) == (
        "Robin Colleague",
        "robin.colleague@oakfield.example",
        "TA",
    )
    assert booking.attendee_user_id is None
    assert (booking.status, booking.price_pence, booking.charge_pence) == (
        BookingStatus.CONFIRMED,
        5_000,
        5_000,
    )
    assert swapped == [(booked.id, "Sam Teacher", "sam.teacher@oakfield.example")]
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "training.attendee_swapped", AuditEvent.subject_id == booked.id
        )
    ).one()
    assert event.actor_id == user_by_email(HEAD, session=session).id
    assert (event.detail["from_email"], event.detail["to_email"]) == (
        "sam.teacher@oakfield.example",
        "robin.colleague@oakfield.example",
    )
    page = client.get(response.headers["Location"])
    assert "Robin Colleague now attends instead of Sam Teacher" in banner(page)


def test_a_colleague_with_an_account_is_linked_and_may_then_change_it(
    client_for, session, booked, swapped
) -> None:
    response = swap(
        client_for("head_teacher"), booked, name="Staff Member", email=STAFF, job_title="Bursar"
    )
    assert response.status_code == 303
    assert reread(session, booked).attendee_user_id == user_by_email(STAFF, session=session).id
    # Now theirs: they may cancel it or swap it on.
    assert client_for("school_staff").get(f"/training/bookings/{booked.id}/swap").status_code == 200


def test_an_account_at_another_school_is_not_linked(client_for, session, booked, swapped) -> None:
    other = "head@riverside.example"
    response = swap(client_for("head_teacher"), booked, name="Riv Head", email=other, job_title="X")
    assert response.status_code == 303
    assert reread(session, booked).attendee_user_id is None


def test_nobody_is_on_a_session_twice(client_for, session, booked, swapped) -> None:
    make_booking(
        booked.session,
        school_by_urn(OAKFIELD, session=session),
        status=BookingStatus.WAITING,
        attendee_email="robin.colleague@oakfield.example",
        session=session,
    )
    session.commit()
    response = swap(client_for("head_teacher"), booked, **NEW)
    assert response.status_code == 200
    assert error_summary(response) == [
        "Robin.Colleague@Oakfield.example already has a booking on this session"
    ]
    page = soup(response)
    assert page.select_one("#email")["value"] == NEW["email"]  # what was typed, kept
    assert page.select_one("#email-error") is not None
    assert reread(session, booked).attendee_name == "Sam Teacher"
    assert swapped == []


def test_a_cancelled_booking_of_the_same_person_does_not_stop_a_swap(
    client_for, session, booked, swapped
) -> None:
    make_booking(
        booked.session,
        school_by_urn(OAKFIELD, session=session),
        status=BookingStatus.CANCELLED,
        attendee_email="robin.colleague@oakfield.example",
        session=session,
    )
    session.commit()
    assert swap(client_for("head_teacher"), booked, **NEW).status_code == 303


def test_swapping_to_the_same_person_is_refused(client_for, booked, swapped) -> None:
    response = swap(
        client_for("head_teacher"),
        booked,
        name="Sam",
        email="Sam.Teacher@oakfield.example",
        job_title="Teacher",
    )
    assert error_summary(response) == [
        "Sam.Teacher@oakfield.example is already the person booked on this place"
    ]


def test_the_form_says_what_is_missing(client_for, booked, swapped) -> None:
    response = swap(client_for("head_teacher"), booked, name="", email="not an address")
    assert response.status_code == 200
    assert error_summary(response) == [
        "Enter the full name of the person attending instead",
        "Enter an e-mail address in the correct format, like name@school.example",
        "Enter their job title",
    ]
    assert swapped == []


def test_no_swapping_once_the_session_has_started(
    client_for, session, booked, swapped, monkeypatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: booked.session.starts_at)
    client = client_for("head_teacher")
    page = ok_soup(client.get(f"/training/bookings/{booked.id}/swap"))
    assert "the session has started" in page.select_one("#swap-refused").get_text()
    assert page.select_one("main form") is None
    response = swap(client, booked, **NEW)
    assert error_summary(response)[0].startswith("This booking cannot be changed")
    assert reread(session, booked).attendee_name == "Sam Teacher"


def test_a_cancelled_booking_cannot_be_swapped(client_for, session, booked, swapped) -> None:
    cancelled = reread(session, booked)
    cancelled.status = BookingStatus.CANCELLED
    session.commit()
    response = swap(client_for("head_teacher"), booked, **NEW)
    assert error_summary(response) == ["This booking has already been cancelled"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("head_teacher", 200),
        ("school_staff", 403),
        ("la_admin", 200),
        ("academy_head", 404),
        ("trust_lead", 404),
        ("caf_officer", 404),
    ],
)
def test_who_may_swap(client_for, booked, role: str, status: int) -> None:
    assert client_for(role).get(f"/training/bookings/{booked.id}/swap").status_code == status
