"""The evaluation after attending (once, by the attendee, or by the colleague who booked one
with no account), and the printable certificate that follows it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Attendance, Booking, Evaluation
from tests.conftest import QueryCounter, csrf_token
from tests.helpers.html import error_summary, ok_soup, soup
from tests.training.factories import (
    attended,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
    user_by_email,
)

STAFF = "staff@oakfield.example"
# The most statements a page may run (tests/performance/test_query_budget.py).
BUDGET = 12


def booking_for(
    session: Session,
    attendee_email: str | None = STAFF,
    booked_by: str = STAFF,
    attended: bool = True,
    urn: int = 125601,
) -> Booking:
    course = make_course(
        session=session,
        title="Understanding attachment in the classroom",
        duration_minutes=150,
        learning_outcomes="Explain attachment theory\nPlan support for a pupil\n",
    )
    run = make_session(
        course, day=date(2027, 2, 9), ends="12:30", trainer="Dana Trainer", session=session
    )
    booking = make_booking(
        run,
        school_by_urn(urn, session=session),
        attendee=user_by_email(attendee_email, session=session) if attendee_email else None,
        booked_by=user_by_email(booked_by, session=session),
        attendance=Attendance.ATTENDED if attended else None,
        session=session,
    )
    session.commit()
    return booking


def evaluations(session: Session, booking: Booking) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(Evaluation).where(Evaluation.booking_id == booking.id)
    )


def send(browser: FlaskClient, booking: Booking, **answers: str) -> object:
    path = f"/training/bookings/{booking.id}/evaluation"
    # The token from the home page: the form itself is gone once the evaluation is in.
    return browser.post(path, data={"csrf_token": csrf_token(browser, "/"), **answers})


def test_the_attendee_evaluates_once_and_gets_the_certificate(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    booking = booking_for(session)
    browser = client_for("school_staff")

    page = ok_soup(browser.get(f"/training/bookings/{booking.id}/evaluation"))
    assert page.h1.get_text(strip=True) == "Understanding attachment in the classroom"
    legends = [legend.get_text(strip=True) for legend in page.select("legend")]
    assert legends == [
        "Overall, how would you rate the course?",
        "How well did the course meet its learning outcomes?",
    ]
    assert len(page.select("input[type=radio][name=overall]")) == 5

    response = send(
        browser, booking, overall="5", met_outcomes="4", will_use="Calm corners", comments=""
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/training/bookings/{booking.id}/certificate"
    kept = session.scalars(select(Evaluation).where(Evaluation.booking_id == booking.id)).one()
    assert (kept.overall, kept.met_outcomes, kept.will_use, kept.comments) == (
        5,
        4,
        "Calm corners",
        "",
    )

    certificate = ok_soup(browser.get(response.headers["Location"]))
    text = certificate.select_one(".council-certificate").get_text(" ", strip=True)
    assert "Arden County Council" in text
    assert "Sol Demo-Staff" in text
    assert "Oakfield Primary School" in text
    assert "Understanding attachment in the classroom" in text
    assert "9 February 2027: 2 hours 30 minutes, with Dana Trainer" in text
    outcomes = [li.get_text(strip=True) for li in certificate.select(".council-certificate li")]
    assert outcomes == ["Explain attachment theory", "Plan support for a pupil"]
    assert f"TC-2027-{booking.id:06d}" in text
    banner = certificate.select_one(".govuk-notification-banner")
    assert "Thank you: your evaluation has been sent." in banner.get_text()

    # Sent again (Back, then Send): still one evaluation, and on to the certificate.
    again = send(browser, booking, overall="1", met_outcomes="1")
    assert again.status_code == 303
    assert evaluations(session, booking) == 1
    assert browser.get(f"/training/bookings/{booking.id}/evaluation").status_code == 303


def test_the_certificate_page_has_no_inline_style_and_prints_from_the_stylesheet(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    booking = booking_for(session)
    browser = client_for("school_staff")
    send(browser, booking, overall="4", met_outcomes="4")
    page = ok_soup(browser.get(f"/training/bookings/{booking.id}/certificate"))
    assert page.select("[style]") == [] and page.select("style") == []
    assert any("council.css" in link["href"] for link in page.select("link[rel=stylesheet]"))
    assert page.select_one(".council-no-print") is not None


@pytest.mark.parametrize(
    ("answers", "messages"),
    [
        (
            {"will_use": "Emotion coaching scripts"},
            [
                "Select how you would rate the course overall",
                "Select how well the course met its outcomes",
            ],
        ),
        (
            {"overall": "4", "comments": "Too short"},
            ["Select how well the course met its outcomes"],
        ),
        (
            {"overall": "6", "met_outcomes": "3"},
            ["Not a valid choice."],
        ),
        (
            {"overall": "3", "met_outcomes": "3", "comments": "x" * 2001},
            ["Keep your comments to 2,000 characters or fewer"],
        ),
    ],
)
def test_form_errors_are_listed_and_what_was_typed_is_kept(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    answers: dict[str, str],
    messages: list[str],
) -> None:
    booking = booking_for(session)
    browser = client_for("school_staff")

    response = send(browser, booking, **answers)
    assert response.status_code == 200
    assert error_summary(response) == messages
    page = soup(response)
    assert page.title.get_text().startswith("Error: ")
    for name, value in answers.items():
        if name in ("will_use", "comments"):
            assert page.select_one(f"textarea[name={name}]").get_text() == value
        elif value in "12345":
            assert page.select_one(f"input[name={name}][value='{value}']").has_attr("checked")
    assert evaluations(session, booking) == 0


def test_only_after_attending(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    booking = booking_for(session, attended=False)
    browser = client_for("school_staff")

    page = ok_soup(browser.get(f"/training/bookings/{booking.id}/evaluation"))
    assert "once the trainer has recorded" in page.select_one("#not-yet").get_text()
    assert page.select("form input[name=overall]") == []
    assert send(browser, booking, overall="5", met_outcomes="5").status_code == 200
    assert evaluations(session, booking) == 0

    for absent in (Attendance.ABSENT, None):
        booking.attendance = absent
        session.commit()
        send(browser, booking, overall="5", met_outcomes="5")
        assert evaluations(session, booking) == 0

    attended(booking, session=session)
    session.commit()
    assert send(browser, booking, overall="5", met_outcomes="5").status_code == 303
    assert evaluations(session, booking) == 1


def test_the_certificate_waits_for_the_evaluation(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    booking = booking_for(session)
    browser = client_for("school_staff")

    page = ok_soup(browser.get(f"/training/bookings/{booking.id}/certificate"))
    assert page.select_one(".council-certificate") is None
    assert "follows the evaluation" in page.select_one("#certificate-waits").get_text()
    link = page.find("a", string="Evaluate the course")
    assert link["href"] == f"/training/bookings/{booking.id}/evaluation"

    head = ok_soup(client_for("head_teacher").get(f"/training/bookings/{booking.id}/certificate"))
    assert head.find("a", string="Evaluate the course") is None, "not theirs to give"


@pytest.mark.parametrize(
    ("attendee", "booked_by", "role", "status"),
    [
        # The attendee themselves.
        (STAFF, "head@oakfield.example", "school_staff", 200),
        # Their head teacher sees the booking but does not give the attendee's view.
        (STAFF, "head@oakfield.example", "head_teacher", 403),
        # A colleague with no account: the one who booked them fills it in with them.
        (None, STAFF, "school_staff", 200),
        (None, STAFF, "head_teacher", 403),
        # ...but not once the attendee has an account of their own.
        ("head@oakfield.example", STAFF, "school_staff", 403),
        # The council sees every booking, and gives no evaluations.
        (STAFF, STAFF, "la_admin", 403),
        (STAFF, STAFF, "publisher", 403),
        (STAFF, STAFF, "caf_officer", 403),
        (STAFF, STAFF, "training_coordinator", 403),
        # Another school's staff do not see the booking at all.
        (STAFF, STAFF, "academy_head", 404),
        (STAFF, STAFF, "trust_lead", 404),
    ],
)
def test_who_may_evaluate(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    attendee: str | None,
    booked_by: str,
    role: str,
    status: int,
) -> None:
    booking = booking_for(session, attendee_email=attendee, booked_by=booked_by)
    browser = client_for(role)
    assert browser.get(f"/training/bookings/{booking.id}/evaluation").status_code == status
    if status == 200:
        assert send(browser, booking, overall="4", met_outcomes="5").status_code == 303
        assert evaluations(session, booking) == 1


@pytest.mark.parametrize(
    ("role", "oakfield", "riverside"),
    [
        ("school_staff", 200, 404),
        ("head_teacher", 200, 404),
        ("academy_head", 404, 200),
        ("trust_lead", 404, 200),
        ("la_admin", 200, 200),
        ("publisher", 404, 404),
        ("caf_officer", 404, 404),
        ("training_coordinator", 200, 200),
    ],
)
def test_who_sees_a_certificate(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    role: str,
    oakfield: int,
    riverside: int,
) -> None:
    ours = booking_for(session)
    theirs = booking_for(
        session,
        attendee_email="head@riverside.example",
        booked_by="head@riverside.example",
        urn=140201,
    )
    for booking in (ours, theirs):
        session.add(Evaluation(booking_id=booking.id, overall=5, met_outcomes=5))
    session.commit()
    browser = client_for(role)
    assert browser.get(f"/training/bookings/{ours.id}/certificate").status_code == oakfield
    assert browser.get(f"/training/bookings/{theirs.id}/certificate").status_code == riverside


def test_the_pages_keep_to_the_query_budget(
    app: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    count_queries: Callable[[], QueryCounter],
) -> None:
    booking = booking_for(session)
    browser = client_for("school_staff")
    paths = [
        f"/training/bookings/{booking.id}/evaluation",
        f"/training/bookings/{booking.id}/calendar.ics",
    ]
    counts = {}
    for path in paths:
        with count_queries() as counter:
            assert browser.get(path).status_code == 200
        counts[path] = counter.count
    send(browser, booking, overall="5", met_outcomes="5")
    path = f"/training/bookings/{booking.id}/certificate"
    with count_queries() as counter:
        assert browser.get(path).status_code == 200
    counts[path] = counter.count
    assert max(counts.values()) <= BUDGET, counts
