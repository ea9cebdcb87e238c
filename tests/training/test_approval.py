"""A school's choice of who approves its bookings, and the approver's answers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    Approver,
    Booking,
    BookingStatus,
    CourseSession,
    SchoolTrainingSettings,
    User,
)
from portal.training import approval, emails
from tests.conftest import csrf_token
from tests.helpers.html import error_summary, ok_soup
from tests.training.factories import (
    OAKFIELD,
    RIVERSIDE,
    make_booking,
    make_course,
    make_session,
    school_by_urn,
)


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []
    for name in ("booking_confirmed", "booking_refused"):
        monkeypatch.setattr(
            emails, name, lambda booking, _name=name: calls.append((_name, booking.id))
        )
    freed: list[int] = []
    monkeypatch.setattr(approval.waiting_list, "offer_next", freed.append)
    calls.append(("freed", freed))
    return calls


def awaiting(session: Session, *, urn: int = OAKFIELD, approver: Approver | None = None) -> Booking:
    school = school_by_urn(urn, session=session)
    if approver is not None:
        session.add(SchoolTrainingSettings(school_id=school.id, approver=approver))
    on = make_session(make_course(session=session, price_pence=4500), session=session, capacity=2)
    booking = make_booking(
        on, school, session=session, status=BookingStatus.AWAITING_APPROVAL, charge_pence=0
    )
    session.commit()
    return booking


def user_id(session: Session, email: str) -> int:
    return session.scalars(select(User.id).where(User.email == email)).one()


def test_the_head_teacher_approves_a_place(session, client_for, told) -> None:
    booking = awaiting(session, approver=Approver.HEAD_TEACHER)
    head = client_for("head_teacher")
    page = ok_soup(head.get(f"/training/bookings/{booking.id}"))
    assert page.select_one("#booking-status").get_text(strip=True) == "Awaiting approval"
    response = head.post(
        f"/training/bookings/{booking.id}/approve",
        data={"csrf_token": csrf_token(head, f"/training/bookings/{booking.id}")},
    )
    assert response.status_code == 303
    session.expire_all()
    decided = session.get(Booking, booking.id)
    assert decided.status is BookingStatus.CONFIRMED
    assert decided.charge_pence == 4500
    assert decided.decided_by_id == user_id(session, "head@oakfield.example")
    assert ("booking_confirmed", booking.id) in told


def test_refusing_needs_a_reason_frees_the_place_and_offers_it_on(
    session, client_for, told
) -> None:
    booking = awaiting(session, approver=Approver.HEAD_TEACHER)
    head = client_for("head_teacher")
    path = f"/training/bookings/{booking.id}/refuse"
    token = csrf_token(head, path)
    response = head.post(path, data={"csrf_token": token, "reason": "  "})
    assert error_summary(response) == ["Enter why the place is not approved"]
    response = head.post(path, data={"csrf_token": token, "reason": "Not this term."})
    assert response.status_code == 303
    session.expire_all()
    refused = session.get(Booking, booking.id)
    assert (refused.status, refused.reason, refused.charge_pence) == (
        BookingStatus.REFUSED,
        "Not this term.",
        0,
    )
    assert session.get(CourseSession, refused.session_id).places_taken == 0
    assert ("booking_refused", booking.id) in told
    freed = dict(told)["freed"]
    assert freed == [refused.session_id]


def test_staff_cannot_approve(session, client_for, told) -> None:
    booking = awaiting(session, approver=Approver.HEAD_TEACHER)
    staff = client_for("school_staff")
    page = ok_soup(staff.get(f"/training/bookings/{booking.id}"))
    assert page.select_one("form[action$=approve]") is None
    token = csrf_token(staff, f"/training/bookings/{booking.id}")
    assert (
        staff.post(f"/training/bookings/{booking.id}/approve", data={"csrf_token": token})
    ).status_code == 403
    session.expire_all()
    assert session.get(Booking, booking.id).status is BookingStatus.AWAITING_APPROVAL


def test_a_named_training_lead_approves_and_sees_it_on_their_home_page(
    session, client_for, told
) -> None:
    booking = awaiting(session)
    head = client_for("head_teacher")
    staff_id = user_id(session, "staff@oakfield.example")
    form = ok_soup(head.get("/training/settings"))
    assert [o["value"] for o in form.select("#training_lead option")].count(str(staff_id)) == 1
    response = head.post(
        "/training/settings",
        data={
            "csrf_token": csrf_token(head, "/training/settings"),
            "approver": "training_lead",
            "training_lead": str(staff_id),
        },
    )
    assert response.status_code == 303
    session.expire_all()
    school = school_by_urn(OAKFIELD, session=session)
    settings = session.get(SchoolTrainingSettings, school.id)
    assert (settings.approver, settings.training_lead_id) == (Approver.TRAINING_LEAD, staff_id)
    staff = client_for("school_staff")
    home = ok_soup(staff.get("/"))
    assert "1 training booking to approve" in home.get_text(" ")
    listed = ok_soup(staff.get("/training/bookings?status=awaiting_approval"))
    assert f"/training/bookings/{booking.id}" in str(listed)
    response = staff.post(
        f"/training/bookings/{booking.id}/approve",
        data={"csrf_token": csrf_token(staff, f"/training/bookings/{booking.id}")},
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Booking, booking.id).status is BookingStatus.CONFIRMED


def test_a_training_lead_must_be_chosen_from_the_schools_staff(session, client_for) -> None:
    head = client_for("head_teacher")
    outsider = user_id(session, "head@riverside.example")
    response = head.post(
        "/training/settings",
        data={
            "csrf_token": csrf_token(head, "/training/settings"),
            "approver": "training_lead",
            "training_lead": str(outsider),
        },
    )
    assert error_summary(response) == ["Choose the training lead"]
    assert ok_soup(response).select_one("input[value=training_lead]").has_attr("checked")


def test_only_school_leaders_choose_the_approver(client_for) -> None:
    assert client_for("school_staff").get("/training/settings").status_code == 403
    trust = client_for("trust_lead")
    page = ok_soup(trust.get("/training/settings"))
    names = [o.get_text(strip=True) for o in page.select("#choose-school option")]
    assert "Riverside Academy" in names and len(names) > 1
    assert trust.get("/training/settings?school=999999").status_code == 404


def test_an_answered_booking_is_not_answered_again(session, client_for, told) -> None:
    booking = awaiting(session, urn=RIVERSIDE, approver=Approver.HEAD_TEACHER)
    academy_head = client_for("academy_head")
    token = csrf_token(academy_head, f"/training/bookings/{booking.id}")
    academy_head.post(f"/training/bookings/{booking.id}/approve", data={"csrf_token": token})
    again = academy_head.post(
        f"/training/bookings/{booking.id}/approve", data={"csrf_token": token}
    )
    assert again.status_code == 303
    page = ok_soup(academy_head.get(f"/training/bookings/{booking.id}"))
    assert "no longer waits for approval" in page.get_text(" ")
    assert [name for name, *_ in told].count("booking_confirmed") == 1
