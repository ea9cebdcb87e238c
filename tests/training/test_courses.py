"""The training coordinator's courses: the list, adding and changing a course (prices typed
in pounds, kept in pence; a change made meanwhile is never lost), publishing, withdrawing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import (
    AuditEvent,
    Course,
    CourseStatus,
    Service,
    ServiceKind,
    SessionStatus,
    StaffLevel,
)
from tests.conftest import csrf_token
from tests.helpers.html import error_summary, ok_soup, soup
from tests.training.factories import make_course, make_session

MANAGER = "la_admin"

COURSE = {
    "title": "Designated safeguarding lead: new to the role",
    "description": "Two days on the duties of a designated safeguarding lead.",
    "audience": "New designated safeguarding leads",
    "staff_level": "designated_leads",
    "learning_outcomes": "Know the statutory guidance\n\n  Make a referral  \n",
    "duration_hours": "6",
    "duration_minutes": "30",
    "charged": "yes",
    "price": "95.50",
    "member_service": "",
    "member_price": "",
    "academy_price": "",
    "cancellation_days": "10",
    "late_charge": "",
}


def post_course(client, data: dict, path: str = "/training/manage/courses/new"):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def course_id_of(response) -> int:
    match = re.fullmatch(r"/training/manage/courses/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def traded_service(session) -> Service:
    return session.scalars(
        select(Service).where(Service.kind == ServiceKind.TRADED).order_by(Service.id)
    ).first()


def test_a_coordinator_adds_a_draft_course_with_prices_in_pence(client_for, session) -> None:
    client = client_for(MANAGER)
    service = traded_service(session)
    response = post_course(
        client,
        {
            **COURSE,
            "member_service": str(service.id),
            "member_price": "80",
            "academy_price": "1,100.05",
            "late_charge": "40.00",
        },
    )
    assert response.status_code == 303
    course = session.get(Course, course_id_of(response))
    assert course.status is CourseStatus.DRAFT
    assert course.staff_level is StaffLevel.DESIGNATED_LEADS
    assert course.learning_outcomes == "Know the statutory guidance\nMake a referral"
    assert course.duration_minutes == 6 * 60 + 30
    assert (course.price_pence, course.member_price_pence, course.member_service_id) == (
        9550,
        8000,
        service.id,
    )
    assert (course.academy_price_pence, course.late_charge_pence) == (110005, 4000)
    assert course.cancellation_days == 10
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "training.course_created", AuditEvent.subject_id == course.id
        )
    ).one()
    assert event.detail["values"]["price_pence"] == 9550
    page = ok_soup(client.get(response.headers["Location"]))
    assert page.h1.get_text(strip=True) == COURSE["title"]
    assert "Draft" in page.select_one(".govuk-tag").get_text()
    text = page.get_text(" ", strip=True)
    assert "£95.50" in text and "£80.00 for schools buying " + service.name in text


def test_a_free_course_may_still_charge_for_a_no_show(client_for, session) -> None:
    response = post_course(
        client_for(MANAGER), {**COURSE, "charged": "no", "price": "", "late_charge": "25"}
    )
    course = session.get(Course, course_id_of(response))
    assert (course.price_pence, course.late_charge_pence) == (0, 2500)
    assert course.is_free


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Enter the course's title"),
        ({"price": "12.345"}, "price", None),
        ({"price": ""}, "price", "Enter the price of a place, or choose Free"),
        ({"price": "1000000.01"}, "price", "Amount must be £1,000,000.00 or less"),
        ({"member_price": "10"}, "member_service", "Choose the service whose buyers pay less"),
        ({"duration_hours": "0", "duration_minutes": "10"}, "duration_hours", None),
        ({"duration_minutes": "75"}, "duration_hours", None),
        (
            {"duration_hours": "", "duration_minutes": ""},
            "duration_hours",
            "Enter how long the course lasts",
        ),
        ({"cancellation_days": "91"}, "cancellation_days", "Enter a number of days from 0 to 90"),
        ({"late_charge": "-5"}, "late_charge", None),
    ],
)
def test_a_mistake_is_said_beside_its_field_and_what_was_typed_is_kept(
    client_for, change, field, message
) -> None:
    response = post_course(client_for(MANAGER), {**COURSE, **change})
    assert response.status_code == 200
    page = soup(response)
    summary = error_summary(response)
    assert summary, "no error summary"
    assert page.title.get_text().startswith("Error:")
    assert f"#{field}" in [a["href"] for a in page.select(".govuk-error-summary a")]
    if message:
        assert message in summary
    # What was typed stays in the form.
    assert page.select_one("#audience")["value"] == COURSE["audience"]
    assert page.select_one("#description").get_text() == COURSE["description"]


def test_a_lower_price_cannot_be_more_than_the_price(client_for, session) -> None:
    service = traded_service(session)
    response = post_course(
        client_for(MANAGER),
        {**COURSE, "member_service": str(service.id), "member_price": "100"},
    )
    assert "The lower price must be no more than the price per place" in error_summary(response)


def test_only_a_traded_service_can_give_a_lower_price(client_for, session) -> None:
    free = session.scalars(select(Service).where(Service.kind != ServiceKind.TRADED)).first()
    response = post_course(
        client_for(MANAGER), {**COURSE, "member_service": str(free.id), "member_price": "10"}
    )
    assert response.status_code == 200
    assert error_summary(response)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=12))
def test_any_price_typed_is_taken_in_pence_or_refused_never_a_server_error(
    client_for, session, price
) -> None:
    client = client_for(MANAGER)
    response = post_course(client, {**COURSE, "price": price})
    # 400: a NUL character, which the portal refuses whole (portal/security.py).
    assert response.status_code in (200, 303, 400)
    if response.status_code == 303:
        course = session.get(Course, course_id_of(response))
        assert 0 < course.price_pence <= 100_000_000


def edit_path(course: Course) -> str:
    return f"/training/manage/courses/{course.id}/edit"


def form_of(client, path: str) -> dict:
    page = ok_soup(client.get(path))
    data = {}
    for field in page.select("form[method=post] input, form[method=post] textarea"):
        name = field.get("name")
        if not name or field.get("type") in ("submit",):
            continue
        if field.get("type") == "radio":
            if field.has_attr("checked"):
                data[name] = field["value"]
            continue
        data[name] = field.get_text() if field.name == "textarea" else field.get("value", "")
    for select_box in page.select("form[method=post] select"):
        chosen = select_box.select_one("option[selected]") or select_box.select_one("option")
        data[select_box["name"]] = chosen.get("value", "")
    return data


def test_a_course_is_changed_from_the_form_as_it_was_shown(client_for, session) -> None:
    course = make_course(session=session, price_pence=4550, late_charge_pence=1000)
    session.commit()
    client = client_for(MANAGER)
    data = form_of(client, edit_path(course))
    assert (data["price"], data["late_charge"], data["charged"]) == ("45.50", "10", "yes")
    assert data["version"] == str(course.version)
    response = client.post(edit_path(course), data={**data, "title": "A better title"})
    assert response.status_code == 303
    session.refresh(course)
    assert course.title == "A better title"
    assert (course.price_pence, course.late_charge_pence) == (4550, 1000)
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "training.course_updated", AuditEvent.subject_id == course.id
        )
    ).one()
    assert event.detail["changes"] == {"title": [data["title"], "A better title"]}


def test_a_change_made_meanwhile_is_told_not_lost(client_for, session) -> None:
    course = make_course(session=session)
    session.commit()
    first = client_for(MANAGER)
    seen = form_of(first, edit_path(course))
    # Someone else saves a change while the form is open.
    course.audience = "Everyone"
    session.commit()
    response = first.post(edit_path(course), data={**seen, "title": "Mine"})
    assert response.status_code == 200
    page = soup(response)
    assert "Someone else changed this course" in page.get_text()
    # The form now shows the course as it is, with the other change.
    assert page.select_one("#audience")["value"] == "Everyone"
    session.refresh(course)
    assert (course.title, course.audience) == (seen["title"], "Everyone")


def test_publish_and_withdraw_ask_first_then_act(client_for, session) -> None:
    course = make_course(session=session, status=CourseStatus.DRAFT)
    session.commit()
    client = client_for(MANAGER)
    path = f"/training/manage/courses/{course.id}/publish"
    confirm = ok_soup(client.get(path))
    assert confirm.h1.get_text(strip=True) == f"Publish {course.title}?"
    session.refresh(course)
    assert course.status is CourseStatus.DRAFT
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 303
    session.refresh(course)
    assert course.status is CourseStatus.PUBLISHED
    path = f"/training/manage/courses/{course.id}/withdraw"
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 303
    session.refresh(course)
    assert course.status is CourseStatus.WITHDRAWN
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.subject_type == "Course", AuditEvent.subject_id == course.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["training.course_published", "training.course_withdrawn"]


def test_the_list_counts_each_courses_sessions_to_come_and_their_places(
    client_for, session
) -> None:
    course = make_course(session=session, title="Aaa first in the list")
    make_session(course, session=session, capacity=20, places_taken=5)
    make_session(course, session=session, capacity=10, places_taken=10)
    # Neither a past session nor a cancelled one is still to come.
    make_session(course, session=session, starts_at=utcnow() - timedelta(days=3), capacity=50)
    make_session(course, session=session, capacity=30, status=SessionStatus.CANCELLED)
    session.commit()
    page = ok_soup(client_for(MANAGER).get("/training/manage/"))
    row = next(tr for tr in page.select("tbody tr") if tr.a.get_text(strip=True) == course.title)
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[1:] == ["Published", "Free", "2", "15 of 30"]


def test_the_list_filters_by_status_and_is_paged(client_for, session) -> None:
    for number in range(26):
        make_course(session=session, title=f"Withdrawn {number:02d}", status=CourseStatus.WITHDRAWN)
    make_course(session=session, title="A draft", status=CourseStatus.DRAFT)
    session.commit()
    client = client_for(MANAGER)
    page = ok_soup(client.get("/training/manage/?status=withdrawn"))
    titles = [a.get_text(strip=True) for a in page.select("tbody tr td:first-child a")]
    assert "A draft" not in titles
    assert titles[:2] == ["Withdrawn 00", "Withdrawn 01"]
    assert len(titles) == 25
    second = ok_soup(client.get("/training/manage/?status=withdrawn&page=2"))
    assert "Withdrawn 25" in second.get_text()
    drafts = ok_soup(client.get("/training/manage/?status=draft")).get_text()
    assert "A draft" in drafts and "Withdrawn 00" not in drafts


@pytest.mark.parametrize("role", ["head_teacher", "school_staff", "academy_head", "publisher"])
def test_only_those_who_manage_training_reach_the_pages(client_for, role) -> None:
    assert client_for(role).get("/training/manage/").status_code == 403


def test_the_list_asks_the_same_few_queries_however_many_courses(
    client_for, session, count_queries
) -> None:
    client = client_for(MANAGER)
    counts = []
    for more in (1, 30):
        for _ in range(more):
            course = make_course(session=session)
            make_session(course, session=session, places_taken=3)
        session.commit()
        with count_queries() as counter:
            assert client.get("/training/manage/").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 12, counts


def test_with_htmx_the_filter_swaps_in_only_the_list(client_for, session) -> None:
    make_course(session=session, title="Only in the list", status=CourseStatus.DRAFT)
    session.commit()
    response = client_for(MANAGER).get(
        "/training/manage/?status=draft", headers={"HX-Request": "true"}
    )
    page = ok_soup(response)
    assert page.select_one("header") is None and page.h1 is None
    assert "Only in the list" in page.select_one("table").get_text()
