"""Booking a place: for oneself or a colleague, once; the last place cannot go twice; a full
session offers its waiting list; a school that approves its bookings holds the place."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.models import (
    Approver,
    AuditEvent,
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    SchoolTrainingSettings,
    SessionStatus,
    User,
)
from portal.training import emails
from tests.conftest import csrf_token
from tests.helpers.html import error_summary, ok_soup, soup
from tests.training.factories import (
    OAKFIELD,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The booking e-mails asked for, by name, with their booking."""
    calls: list[tuple[str, Any]] = []
    for name in ("booking_confirmed", "approval_needed", "added_to_waiting_list"):
        monkeypatch.setattr(
            emails, name, lambda booking, *rest, _name=name: calls.append((_name, booking, rest))
        )
    return calls


def booking_page(client: FlaskClient, session_id: int) -> tuple[str, dict[str, str]]:
    """The booking form's address and the hidden fields a browser would send back."""
    path = f"/training/sessions/{session_id}/book"
    page = ok_soup(client.get(path))
    form = page.select_one("#booking-form")
    assert form is not None, "no booking form"
    assert form.select_one("[name=submission_key]")["value"]
    hidden = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    return path, hidden


def bookings_of(session: Session, session_id: int) -> list[Booking]:
    session.expire_all()
    return list(
        session.scalars(
            select(Booking).where(Booking.session_id == session_id).order_by(Booking.id)
        )
    )


def test_staff_book_a_place_for_themselves(session, client_for, sent) -> None:
    course = make_course(session=session, price_pence=7500)
    on = make_session(course, session=session)
    session.commit()
    client = client_for("school_staff")
    path, hidden = booking_page(client, on.id)
    response = client.post(path, data={**hidden, "for_whom": "myself"})
    assert response.status_code == 303
    (booking,) = bookings_of(session, on.id)
    assert response.headers["Location"] == f"/training/bookings/{booking.id}"
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.attendee_email == "staff@oakfield.example"
    assert booking.attendee_user_id == booking.booked_by_id
    assert (booking.price_pence, booking.charge_pence) == (7500, 7500)
    assert session.get(CourseSession, on.id).places_taken == 1
    assert [name for name, *_ in sent] == ["booking_confirmed"]
    page = ok_soup(client.get(response.headers["Location"]))
    assert page.select_one("#booking-status").get_text(strip=True) == "Booked"
    assert session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "training.booked")
    )


def test_a_colleague_is_booked_by_name_email_and_job_title(session, client_for, sent) -> None:
    on = make_session(make_course(session=session), session=session)
    session.commit()
    client = client_for("school_staff")
    path, hidden = booking_page(client, on.id)
    response = client.post(
        path,
        data={
            **hidden,
            "for_whom": "colleague",
            "name": "Sam Patel",
            "email": "Sam.Patel@Oakfield.example",
            "job_title": "Year 2 teacher",
        },
    )
    assert response.status_code == 303
    (booking,) = bookings_of(session, on.id)
    assert (booking.attendee_name, booking.attendee_email, booking.attendee_job_title) == (
        "Sam Patel",
        "sam.patel@oakfield.example",
        "Year 2 teacher",
    )
    assert booking.attendee_user_id is None


def test_form_errors_keep_what_was_typed(session, client_for, sent) -> None:
    on = make_session(make_course(session=session), session=session)
    session.commit()
    client = client_for("school_staff")
    path, hidden = booking_page(client, on.id)
    response = client.post(
        path, data={**hidden, "for_whom": "colleague", "name": "Sam Patel", "email": "not-an-email"}
    )
    assert response.status_code == 200
    assert error_summary(response) == [
        "Enter an e-mail address in the correct format, like name@school.example",
        "Enter your colleague's job title",
    ]
    page = soup(response)
    assert page.select_one("#name")["value"] == "Sam Patel"
    assert page.select_one("#email")["value"] == "not-an-email"
    assert bookings_of(session, on.id) == []


def test_sending_the_form_twice_books_once(session, client_for, sent) -> None:
    on = make_session(make_course(session=session), session=session)
    session.commit()
    client = client_for("school_staff")
    path, hidden = booking_page(client, on.id)
    first = client.post(path, data={**hidden, "for_whom": "myself"})
    second = client.post(path, data={**hidden, "for_whom": "myself"})
    assert first.headers["Location"] == second.headers["Location"]
    assert len(bookings_of(session, on.id)) == 1
    assert session.get(CourseSession, on.id).places_taken == 1


def test_one_live_booking_per_person_per_session(session, client_for, sent) -> None:
    on = make_session(make_course(session=session), session=session)
    oakfield = school_by_urn(OAKFIELD, session=session)
    earlier = make_booking(on, oakfield, session=session, attendee_email="sam@oakfield.example")
    session.commit()
    client = client_for("school_staff")
    path, hidden = booking_page(client, on.id)
    response = client.post(
        path,
        data={
            **hidden,
            "for_whom": "colleague",
            "name": "Sam",
            "email": "SAM@oakfield.example",
            "job_title": "TA",
        },
    )
    assert response.headers["Location"] == f"/training/bookings/{earlier.id}"
    assert len(bookings_of(session, on.id)) == 1
    # A cancelled booking is no longer live: the person may book again.
    session.get(Booking, earlier.id).status = BookingStatus.CANCELLED
    session.get(CourseSession, on.id).places_taken = 0
    session.commit()
    path, hidden = booking_page(client, on.id)
    again = client.post(
        path,
        data={**hidden, "for_whom": "colleague", "name": "Sam", "email": "sam@oakfield.example"}
        | {"job_title": "TA"},
    )
    assert again.status_code == 303
    assert len(bookings_of(session, on.id)) == 2


def test_the_last_place_cannot_go_twice_and_a_full_session_offers_its_waiting_list(
    session, client_for, sent
) -> None:
    on = make_session(make_course(session=session), session=session, capacity=1)
    session.commit()
    staff, head = client_for("school_staff"), client_for("head_teacher")
    # Both open the form while the last place is free.
    staff_path, staff_hidden = booking_page(staff, on.id)
    head_path, head_hidden = booking_page(head, on.id)
    assert staff.post(staff_path, data={**staff_hidden, "for_whom": "myself"}).status_code == 303
    refused = head.post(head_path, data={**head_hidden, "for_whom": "myself"})
    assert refused.status_code == 200
    page = soup(refused)
    assert "This session is full" in page.get_text(" ")
    assert page.select_one("#booking-form [type=submit]").get_text(strip=True) == (
        "Join the waiting list"
    )
    assert len(bookings_of(session, on.id)) == 1
    # The clear choice: joining the waiting list.
    hidden = {i["name"]: i.get("value", "") for i in page.select("#booking-form [type=hidden]")}
    joined = head.post(head_path, data={**hidden, "for_whom": "myself"})
    assert joined.status_code == 303
    first, waiting = bookings_of(session, on.id)
    assert first.status is BookingStatus.CONFIRMED
    assert waiting.status is BookingStatus.WAITING
    assert waiting.joined_list_at is not None and waiting.charge_pence == 0
    assert session.get(CourseSession, on.id).places_taken == 1
    assert [name for name, *_ in sent] == ["booking_confirmed", "added_to_waiting_list"]


@pytest.mark.parametrize("state", ["started", "cancelled"])
def test_a_session_that_has_started_or_is_cancelled_cannot_be_booked(
    session, client_for, sent, state: str
) -> None:
    course = make_course(session=session)
    if state == "started":
        on = make_session(course, session=session, starts_at=utcnow() - timedelta(minutes=5))
    else:
        on = make_session(course, session=session, status=SessionStatus.CANCELLED)
    session.commit()
    client = client_for("school_staff")
    path = f"/training/sessions/{on.id}/book"
    page = ok_soup(client.get(path))
    assert "can no longer be booked" in page.get_text(" ")
    assert page.select_one("#booking-form") is None
    data = {
        "for_whom": "myself",
        "submission_key": "k" * 20,
        "csrf_token": csrf_token(client, path),
    }
    assert client.post(path, data=data).status_code == 200
    assert bookings_of(session, on.id) == []


def test_a_school_that_approves_holds_the_place_and_tells_its_approver(
    session, client_for, sent
) -> None:
    oakfield = school_by_urn(OAKFIELD, session=session)
    session.add(SchoolTrainingSettings(school_id=oakfield.id, approver=Approver.HEAD_TEACHER))
    on = make_session(make_course(session=session, price_pence=2000), session=session)
    session.commit()
    client = client_for("school_staff")
    path, hidden = booking_page(client, on.id)
    client.post(path, data={**hidden, "for_whom": "myself"})
    (booking,) = bookings_of(session, on.id)
    assert booking.status is BookingStatus.AWAITING_APPROVAL
    assert (booking.price_pence, booking.charge_pence) == (2000, 0)
    assert session.get(CourseSession, on.id).places_taken == 1
    ((name, _, (approvers,)),) = sent
    assert name == "approval_needed"
    assert [user.email for user in approvers] == ["head@oakfield.example"]


def test_another_schools_session_choice_is_not_found(session, client_for, sent) -> None:
    on = make_session(make_course(session=session), session=session)
    riverside = school_by_urn(140201, session=session)
    session.commit()
    client = client_for("school_staff")
    path, hidden = booking_page(client, on.id)
    response = client.post(path, data={**hidden, "for_whom": "myself", "school": riverside.id})
    assert response.status_code == 404


def test_two_people_booking_the_last_place_at_once(
    seeded_app, sent, committed_without_approval
) -> None:
    """Two connections, each in its own thread, send the booking of the last place at the
    same moment: one gets it, the other is put on the waiting list."""
    from portal.access import Principal  # here: only this test builds a principal by hand
    from portal.db import db
    from portal.training.booking import Attendee, Booked, book_place

    if seeded_app.extensions["portal.db"].engine.dialect.name != "postgresql":
        pytest.skip("two writers at once: PostgreSQL's (SQLite takes one writer at a time)")
    with seeded_app.app_context():
        course = make_course(title="The last place")
        on = make_session(course, capacity=1)
        db.session.commit()
        course_id, session_id = course.id, on.id
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def book(email: str, key: str) -> None:
        with seeded_app.test_request_context():
            user = db.session.scalars(select(User).where(User.email == email)).one()
            who = Principal.of(user)
            barrier.wait()
            outcomes.append(
                book_place(
                    who,
                    session_id,
                    None,
                    Attendee(user.display_name, user.email, "", user.id),
                    key,
                    join_waiting_list=True,
                )
            )

    threads = [
        threading.Thread(target=book, args=("staff@oakfield.example", "race-one")),
        threading.Thread(target=book, args=("head@oakfield.example", "race-two")),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        with seeded_app.app_context():
            statuses = sorted(
                db.session.scalars(
                    select(Booking.status).where(Booking.session_id == session_id)
                ).all()
            )
            taken = db.session.get(CourseSession, session_id).places_taken
        assert all(isinstance(outcome, Booked) for outcome in outcomes)
        assert statuses == sorted([BookingStatus.CONFIRMED, BookingStatus.WAITING])
        assert taken == 1
    finally:
        with seeded_app.app_context():
            booking_ids = select(Booking.id).where(Booking.session_id == session_id)
            db.session.execute(
                delete(AuditEvent).where(
                    AuditEvent.subject_type == "Booking", AuditEvent.subject_id.in_(booking_ids)
                )
            )
            db.session.execute(delete(Booking).where(Booking.session_id == session_id))
            db.session.execute(delete(CourseSession).where(CourseSession.id == session_id))
            db.session.execute(delete(Course).where(Course.id == course_id))
            db.session.commit()


def test_a_trust_lead_chooses_the_school_and_pays_its_price(session, client_for, sent) -> None:
    course = make_course(session=session, price_pence=3000, academy_price_pence=4000)
    on = make_session(course, session=session)
    riverside = school_by_urn(140202, session=session)
    session.commit()
    client = client_for("trust_lead")
    path = f"/training/sessions/{on.id}/book?school={riverside.id}"
    page = ok_soup(client.get(path))
    assert "£40.00 for" in page.get_text(" ")
    form = page.select_one("#booking-form")
    hidden = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    chosen = form.select_one("#school option[selected]")
    assert chosen["value"] == str(riverside.id)
    response = client.post(
        path,
        data={
            **hidden,
            "school": str(riverside.id),
            "for_whom": "colleague",
            "name": "Ali Khan",
            "email": "ali@school.example",
            "job_title": "Head of maths",
        },
    )
    assert response.status_code == 303
    (booking,) = bookings_of(session, on.id)
    assert (booking.school_id, booking.price_pence) == (riverside.id, 4000)


def test_the_schools_bookings_say_where_each_stands_now(session, client_for) -> None:
    oakfield = school_by_urn(OAKFIELD, session=session)
    riverside = school_by_urn(140201, session=session)
    course = make_course(session=session, title="Listed course")
    upcoming = make_session(course, session=session)
    past = make_session(course, session=session, starts_at=utcnow() - timedelta(days=3))
    booked = make_booking(upcoming, oakfield, session=session, attendee_name="Booked Person")
    lapsed = make_booking(
        upcoming,
        oakfield,
        session=session,
        status=BookingStatus.OFFERED,
        attendee_name="Slow Person",
        offer_expires_at=utcnow() - timedelta(minutes=1),
    )
    make_booking(past, oakfield, session=session, attendee_name="Past Person")
    make_booking(upcoming, riverside, session=session, attendee_name="Riverside Person")
    session.commit()
    client = client_for("school_staff")

    def listed(query: str = "") -> dict[str, str]:
        page = ok_soup(client.get(f"/training/bookings{query}"))
        rows = page.select("#results tbody tr")
        return {
            row.select("td")[2].contents[0].strip(): row.select("td")[3].get_text(strip=True)
            for row in rows
        }

    assert listed() == {"Booked Person": "Booked", "Slow Person": "Offer lapsed"}
    assert listed("?status=offer_lapsed") == {"Slow Person": "Offer lapsed"}
    assert listed("?status=offered") == {}
    assert listed("?status=confirmed") == {"Booked Person": "Booked"}
    assert listed("?when=past") == {"Past Person": "Booked"}
    page = ok_soup(client.get(f"/training/bookings/{lapsed.id}"))
    assert page.select_one("#booking-status").get_text(strip=True) == "Offer lapsed"
    fragment = client.get("/training/bookings?status=confirmed", headers={"HX-Request": "true"})
    assert "Booked Person" in fragment.get_data(as_text=True)
    assert "<form" not in fragment.get_data(as_text=True)
    assert booked.id


def test_an_approver_booking_a_place_does_not_wait_for_their_own_approval(
    session, client_for, sent
) -> None:
    oakfield = school_by_urn(OAKFIELD, session=session)
    session.add(SchoolTrainingSettings(school_id=oakfield.id, approver=Approver.HEAD_TEACHER))
    on = make_session(make_course(session=session, price_pence=2000), session=session)
    session.commit()
    client = client_for("head_teacher")
    path, hidden = booking_page(client, on.id)
    client.post(path, data={**hidden, "for_whom": "myself"})
    (booking,) = bookings_of(session, on.id)
    assert (booking.status, booking.charge_pence) == (BookingStatus.CONFIRMED, 2000)


def test_the_database_keeps_one_live_booking_a_person_a_session(session) -> None:
    """Two forms booking the same person at once both pass the check in the code; the
    database's own index refuses the second. A cancelled booking does not count."""
    on = make_session(make_course(session=session), session=session, capacity=5)
    oakfield = school_by_urn(OAKFIELD, session=session)
    make_booking(on, oakfield, attendee_email="same@school.example", session=session)
    make_booking(
        on,
        oakfield,
        attendee_email="again@school.example",
        status=BookingStatus.CANCELLED,
        session=session,
    )
    make_booking(
        on,
        oakfield,
        attendee_email="again@school.example",
        status=BookingStatus.WAITING,
        session=session,
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        make_booking(
            on,
            oakfield,
            attendee_email="same@school.example",
            status=BookingStatus.WAITING,
            session=session,
        )
