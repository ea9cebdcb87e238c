"""A session's page for its coordinator: bookings, the waiting list in order, and the
register (attended keeps the price; did not attend costs the late charge), and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import Attendance, AuditEvent, BookingStatus
from portal.training.charges import late_charge_for
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

MANAGER = "la_admin"


def held_session(session, *, started: bool = True, late_charge_pence: int | None = 2500):
    """A session (started an hour ago, unless not) of a £50 course, with two confirmed
    places, one waiting for approval and two on the waiting list."""
    course = make_course(session=session, price_pence=5000, late_charge_pence=late_charge_pence)
    start = utcnow().replace(microsecond=0) + (
        timedelta(hours=-1) if started else timedelta(days=3)
    )
    held = make_session(course, session=session, starts_at=start, capacity=3)
    oakfield = school_by_urn(OAKFIELD, session=session)
    riverside = school_by_urn(RIVERSIDE, session=session)
    came = make_booking(held, oakfield, attendee_name="Ada Came", session=session)
    away = make_booking(held, riverside, attendee_name="Bo Away", session=session)
    make_booking(
        held,
        oakfield,
        status=BookingStatus.AWAITING_APPROVAL,
        attendee_name="Cy Pending",
        session=session,
    )
    second = make_booking(
        held,
        riverside,
        status=BookingStatus.WAITING,
        attendee_name="Di Second",
        session=session,
        joined_list_at=utcnow() - timedelta(hours=1),
    )
    first = make_booking(
        held,
        oakfield,
        status=BookingStatus.WAITING,
        attendee_name="Ed First",
        session=session,
        joined_list_at=utcnow() - timedelta(hours=2),
    )
    session.commit()
    return held, came, away, first, second


def page_path(held) -> str:
    return f"/training/manage/sessions/{held.id}"


def test_the_session_page_shows_bookings_and_the_waiting_list_in_order(client_for, session) -> None:
    held, *_ = held_session(session)
    page = ok_soup(client_for(MANAGER).get(page_path(held)))
    rows = [
        [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in page.select("#bookings tbody tr")
    ]
    assert [row[0].split(" ")[0:2] for row in rows] == [
        ["Ada", "Came"],
        ["Bo", "Away"],
        ["Cy", "Pending"],
    ]
    assert rows[0][1:] == ["Oakfield Primary School", "Booked", "£50.00", "£50.00"]
    assert rows[2][2] == "Awaiting approval"
    waiting = [li.get_text(" ", strip=True) for li in page.select("#waiting-list li")]
    assert [w.split(",")[0] for w in waiting] == ["Ed First", "Di Second"]


def mark(client, held, marks: dict):
    path = f"{page_path(held)}/register"
    data = {"csrf_token": csrf_token(client, page_path(held))}
    data.update({f"attendance-{booking.id}": value for booking, value in marks.items()})
    return client.post(path, data=data)


def test_the_register_charges_the_late_charge_for_a_no_show(client_for, session) -> None:
    held, came, away, *_ = held_session(session)
    client = client_for(MANAGER)
    page = ok_soup(client.get(page_path(held)))
    legends = [lg.get_text(strip=True) for lg in page.select("#register ~ div legend")]
    # Only the confirmed places are on the register.
    assert legends == [
        "Ada Came, Oakfield Primary School",
        "Bo Away, " + away.school.name,
    ]
    response = mark(client, held, {came: "attended", away: "absent"})
    assert response.status_code == 303
    session.expire_all()
    assert (came.attendance, came.charge_pence) == (Attendance.ATTENDED, 5000)
    assert (away.attendance, away.charge_pence) == (Attendance.ABSENT, 2500)
    assert held.register_taken_at is not None
    shown = ok_soup(client.get(page_path(held))).get_text(" ", strip=True)
    assert "The register has been saved: 1 attended, 1 did not attend." in shown
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "training.register_taken", AuditEvent.subject_id == held.id
        )
    ).one()
    assert (event.detail["attended"], event.detail["absent"]) == (1, 1)
    # Marked again, the register is corrected, and so is the charge.
    assert mark(client, held, {came: "attended", away: "attended"}).status_code == 303
    session.expire_all()
    assert (away.attendance, away.charge_pence) == (Attendance.ATTENDED, 5000)


def test_without_a_late_charge_a_no_show_costs_the_price(client_for, session) -> None:
    held, came, away, *_ = held_session(session, late_charge_pence=None)
    assert mark(client_for(MANAGER), held, {came: "absent", away: "absent"}).status_code == 303
    session.expire_all()
    assert [came.charge_pence, away.charge_pence] == [5000, 5000]
    assert late_charge_for(came) == 5000


def test_everyone_on_the_register_must_be_marked(client_for, session) -> None:
    held, came, *_ = held_session(session)
    client = client_for(MANAGER)
    response = mark(client, held, {came: "attended"})
    assert response.status_code == 200
    assert error_summary(response) == ["Mark everyone as attended or did not attend"]
    page = ok_soup(response)
    assert "Select whether Bo Away attended" in page.get_text()
    # What was marked is kept.
    assert page.select_one(f"#attendance-{came.id}").has_attr("checked")
    session.expire_all()
    assert came.attendance is None and held.register_taken_at is None


def test_the_register_waits_for_the_session_to_start(client_for, session) -> None:
    held, came, away, *_ = held_session(session, started=False)
    client = client_for(MANAGER)
    page = ok_soup(client.get(page_path(held)))
    assert "The register can be taken once the session has started." in page.get_text()
    response = mark(client, held, {came: "attended", away: "absent"})
    assert "The register can be taken once the session has started" in error_summary(response)
    session.expire_all()
    assert away.charge_pence == 5000 and away.attendance is None


def test_the_register_downloads_as_csv(client_for, session) -> None:
    held, came, away, *_ = held_session(session)
    away.attendee_name = "=HYPERLINK(1)"
    session.commit()
    client = client_for(MANAGER)
    mark(client, held, {came: "attended", away: "absent"})
    response = client.get(f"{page_path(held)}/register.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["Attendee"] for r in rows] == ["Ada Came", "'=HYPERLINK(1)", "Cy Pending"]
    assert (rows[1]["Attendance"], rows[1]["Charge (£)"]) == ("Did not attend", "25.00")
    assert rows[0]["URN"] == str(OAKFIELD)


@pytest.mark.parametrize("role", ["head_teacher", "school_staff", "trust_lead", "publisher"])
def test_school_roles_never_mark_the_register(client_for, session, role) -> None:
    held, came, away, *_ = held_session(session)
    client = client_for(role)
    response = client.post(
        f"{page_path(held)}/register",
        data={
            "csrf_token": csrf_token(client, "/"),
            f"attendance-{came.id}": "absent",
            f"attendance-{away.id}": "absent",
        },
    )
    assert response.status_code == 403
    assert client.get(page_path(held)).status_code == 403
    session.expire_all()
    assert came.attendance is None


def test_the_session_page_asks_the_same_few_queries_however_many_are_booked(
    client_for, session, count_queries
) -> None:
    client = client_for(MANAGER)
    counts = []
    for places in (2, 12):
        course = make_course(session=session, price_pence=1000)
        held = make_session(course, session=session, capacity=20)
        for number in range(places):
            school = school_by_urn(OAKFIELD if number % 2 else RIVERSIDE, session=session)
            make_booking(held, school, session=session)
            make_booking(held, school, status=BookingStatus.WAITING, session=session)
        session.commit()
        client.get(page_path(held))  # the signed-in person's first page of the session
        with count_queries() as counter:
            assert client.get(page_path(held)).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 12, counts


def test_an_offer_past_its_time_is_not_shown_as_offered(client_for, session) -> None:
    course = make_course(session=session)
    held = make_session(course, session=session)
    oakfield = school_by_urn(OAKFIELD, session=session)
    make_booking(
        held,
        oakfield,
        status=BookingStatus.OFFERED,
        attendee_name="Old Offer",
        offer_expires_at=utcnow() - timedelta(minutes=1),
        session=session,
    )
    make_booking(
        held,
        oakfield,
        status=BookingStatus.OFFERED,
        attendee_name="New Offer",
        offer_expires_at=utcnow() + timedelta(days=1),
        session=session,
    )
    session.commit()
    page = ok_soup(client_for(MANAGER).get(page_path(held)))
    statuses = {
        tr.select("td")[0].get_text(" ", strip=True).split(" ")[0]: tr.select("td")[2].get_text(
            strip=True
        )
        for tr in page.select("#bookings tbody tr")
    }
    assert statuses["Old"] == "Offer lapsed"
    assert statuses["New"].startswith("Place offered until ")
