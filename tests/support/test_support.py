"""CAF officer support: a school's request reaches its area's officers, is worked to an
outcome, and nothing is lost on the way."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from portal.models import (
    AuditEvent,
    OutboxMessage,
    School,
    SupportEvent,
    SupportRequest,
    SupportStatus,
    User,
)
from tests.conftest import csrf_token
from tests.helpers.html import soup

ANSWERS = {
    "consent": {"consent": "yes"},
    "kind": {"kind": "completing"},
    "child": {"initials": "js", "year_group": "Year 4"},
    "level": {"level": "2a"},
    "needs": {"needs": ["attendance", "emotional_health"]},
    "urgency": {"urgency": "soon"},
    "contact": {
        "contact_by": "phone",
        "contact_phone": "0121 496 0999",
        "contact_times": "Mornings",
    },
    "details": {"details": "Attendance has fallen since October."},
}

# A meeting a week from now: the form takes only dates within a year of today.
MEETING_DAY = date.today() + timedelta(days=7)
MEETING_FIELDS = [str(MEETING_DAY.day), str(MEETING_DAY.month), str(MEETING_DAY.year)]


def answer(client, slug: str, data: dict, **query) -> object:
    path = f"/support/new/{slug}"
    token = csrf_token(client, path)
    return client.post(path, query_string=query, data={"csrf_token": token, **data})


def raise_request(client, answers: dict | None = None, submit: bool = True):
    """Walk the question pages as a person would, following each redirect."""
    answers = {**ANSWERS, **(answers or {})}
    response = client.get("/support/new")
    assert response.status_code == 200
    location = soup(response).select_one("a.govuk-button--start")["href"]
    while location.startswith("/support/new/") and not location.endswith("/check"):
        slug = location.rsplit("/", 1)[1]
        response = answer(client, slug, answers[slug])
        assert response.status_code == 303, soup(response).select_one(".govuk-error-summary")
        location = response.headers["Location"]
    assert location == "/support/new/check"
    if not submit:
        return client.get(location)
    check = client.get(location)
    key = soup(check).select_one('input[name="submission_key"]')["value"]
    return client.post(
        location, data={"csrf_token": csrf_token(client, location), "submission_key": key}
    )


def created(session, response) -> SupportRequest:
    request_id = int(re.search(r"/support/(\d+)/sent", response.headers["Location"]).group(1))
    return session.get(SupportRequest, request_id)


# --- raising a request ------------------------------------------------------------------------


def test_the_first_page_interrupts_with_the_safeguarding_routes(client_for) -> None:
    page = soup(client_for("school_staff").get("/support/new"))
    text = page.select_one("main").get_text(" ", strip=True)
    assert page.h1.get_text(strip=True) == "Is a child in danger or at risk of significant harm?"
    assert "If a child is in immediate danger, call 999 now." in text
    assert "children's services front door on 01632 960 000" in text
    assert text.index("999") < text.index("Ask a CAF officer for support")


def test_a_school_raises_a_request_that_reaches_its_areas_officers(client_for, session) -> None:
    response = raise_request(client_for("school_staff"))
    assert response.status_code == 303
    request = created(session, response)
    assert re.fullmatch(r"CAF-20\d\d-\d{6}", request.reference)
    assert request.school.name == "Oakfield Primary School"
    assert request.area.name == "North"
    assert request.status is SupportStatus.NEW
    assert (request.child_initials, request.child_year_group) == ("JS", "Year 4")
    assert request.needs == ["attendance", "emotional_health"]
    assert request.contact_phone == "0121 496 0999"
    assert request.respond_by > request.submitted_at.date()
    mail = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.subject.contains(request.reference))
        .order_by(OutboxMessage.id)
    ).all()
    # The requester, then each of the North area's two officers.
    assert [m.recipient for m in mail] == [
        "staff@oakfield.example",
        "caf.north@council.example",
        "caf2.north@council.example",
    ]
    assert all(request.reference in m.subject for m in mail)
    sent = soup(client_for("school_staff").get(response.headers["Location"]))
    assert request.reference in sent.select_one(".govuk-panel").get_text()


def test_check_your_answers_shows_everything_with_a_change_link(client_for) -> None:
    page = soup(raise_request(client_for("school_staff"), submit=False))
    rows = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)
        for row in page.select(".govuk-summary-list__row")
    }
    assert rows["The child"] == "JS, Year 4"
    assert rows["Areas of need"] == "Attendance, Emotional health and wellbeing"
    assert rows["Contact me"] == "By telephone on 0121 496 0999, Mornings"
    changes = [a["href"] for a in page.select(".govuk-summary-list__actions a")]
    assert "/support/new/needs?change=1" in changes


def test_answers_are_kept_after_going_back(client_for) -> None:
    client = client_for("school_staff")
    raise_request(client, submit=False)
    level = soup(client.get("/support/new/level"))
    assert level.select_one('input[value="2a"]').has_attr("checked")
    assert level.select_one(".govuk-back-link")["href"] == "/support/new/child"
    child = soup(client.get("/support/new/child"))
    assert child.select_one("#initials")["value"] == "js"


def test_a_change_from_check_your_answers_comes_back_to_it(client_for) -> None:
    client = client_for("school_staff")
    raise_request(client, submit=False)
    response = answer(client, "urgency", {"urgency": "urgent"}, change=1)
    assert response.headers["Location"] == "/support/new/check"


def test_without_consent_only_anonymous_advice_can_be_asked(client_for, session) -> None:
    client = client_for("school_staff")
    answer(client, "consent", {"consent": "no"})
    kinds = [i["value"] for i in soup(client.get("/support/new/kind")).select('input[name="kind"]')]
    assert kinds == ["advice", "training"]
    assert answer(client, "kind", {"kind": "completing"}).status_code == 200  # not a choice
    child = soup(client.get("/support/new/child"))
    assert child.select_one("#initials") is None
    response = raise_request(
        client,
        {
            "consent": {"consent": "no"},
            "kind": {"kind": "advice"},
            "child": {"year_group": "Year 4"},
        },
    )
    request = created(session, response)
    assert (request.consent, request.child_initials) == (False, None)


def test_training_asks_nothing_about_a_child(client_for, session) -> None:
    response = raise_request(client_for("school_staff"), {"kind": {"kind": "training"}})
    request = created(session, response)
    assert (request.child_year_group, request.level_of_need, request.needs) == (None, None, [])


@pytest.mark.parametrize(
    ("slug", "data", "errors"),
    [
        ("consent", {}, {"consent": "Select whether the family has given consent"}),
        (
            "child",
            {"initials": "J0hn", "year_group": ""},
            {
                "initials": "Initials must be 1 to 3 letters, like JS",
                "year_group": "Choose the child's year group",
            },
        ),
        ("needs", {}, {"needs": "Select at least one area of need"}),
        (
            "contact",
            {"contact_by": "phone", "contact_phone": ""},
            {"contact_phone": "Enter a telephone number to be called on"},
        ),
        (
            "contact",
            {"contact_by": "phone", "contact_phone": "123"},
            {"contact_phone": "Enter a UK telephone number, like 0121 496 0000 or 07700 900 982"},
        ),
    ],
)
def test_bad_answers_are_explained_beside_the_question(client_for, slug, data, errors) -> None:
    client = client_for("school_staff")
    answer(client, "consent", {"consent": "yes"})
    answer(client, "kind", {"kind": "completing"})
    response = answer(client, slug, data)
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error: ")
    assert [a.get_text(strip=True) for a in page.select(".govuk-error-summary a")] == list(
        errors.values()
    )
    for name, message in errors.items():
        assert message in page.select_one(f"#{name}-error").get_text()


def test_pressing_submit_twice_makes_one_request(client_for, session) -> None:
    client = client_for("school_staff")
    check = raise_request(client, submit=False)
    key = soup(check).select_one('input[name="submission_key"]')["value"]
    token = csrf_token(client, "/support/new/check")
    first = client.post("/support/new/check", data={"csrf_token": token, "submission_key": key})
    second = client.post("/support/new/check", data={"csrf_token": token, "submission_key": key})
    assert first.headers["Location"] == second.headers["Location"]
    made = session.scalars(select(SupportRequest).where(SupportRequest.submission_key == key)).all()
    assert len(made) == 1
    assert first.headers["Location"] == f"/support/{made[0].id}/sent"
    assert (
        len(
            session.scalars(
                select(SupportRequest).where(SupportRequest.requester_id == made[0].requester_id)
            ).all()
        )
        == 2
    )  # with the demo one


def test_a_trust_lead_chooses_the_academy(client_for, session) -> None:
    client = client_for("trust_lead")
    schools = [
        label.get_text(strip=True)
        for label in soup(client.get("/support/new/school")).select("label")
    ]
    assert "Riverside Academy" in schools and "Oakfield Primary School" not in schools
    riverside = session.scalar(select(School.id).where(School.urn == 140201))
    response = raise_request(client, {"school": {"school": str(riverside)}})
    assert created(session, response).area.name == "Nuneaton and Bedworth"


def test_council_staff_cannot_raise_requests(client_for) -> None:
    assert client_for("caf_officer").get("/support/new").status_code == 403


# --- who sees what --------------------------------------------------------------------------------


@pytest.fixture
def oakfield_request(client_for, session) -> SupportRequest:
    return created(session, raise_request(client_for("school_staff")))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("school_staff", 200),  # raised it
        ("head_teacher", 200),  # the whole school's
        ("caf_officer", 200),  # North's officer
        ("la_admin", 200),
        ("academy_head", 404),
        ("trust_lead", 404),
        ("publisher", 404),
        ("caf.rugby@council.example", 404),
    ],
)
def test_who_sees_a_request(client_for, oakfield_request, role: str, status: int) -> None:
    assert client_for(role).get(f"/support/{oakfield_request.id}").status_code == status


def test_staff_see_only_the_requests_they_raised(
    app: Flask, client_for, session, oakfield_request
) -> None:
    from portal.models import Membership, Role

    colleague = User(
        email="senco@oakfield.example", display_name="Sam Demo-Senco", password_hash="x"
    )
    colleague.memberships.append(
        Membership(role=Role.SCHOOL_STAFF, school_id=oakfield_request.school_id)
    )
    session.add(colleague)
    session.commit()
    with app.test_client() as client:
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = colleague.get_id()
        assert client.get(f"/support/{oakfield_request.id}").status_code == 404
        assert oakfield_request.reference not in client.get("/support/").get_data(as_text=True)


# --- working the queue ----------------------------------------------------------------------------


def update(client, request: SupportRequest, **data):
    path = f"/support/{request.id}"
    page = soup(client.get(path))
    version = page.select_one('input[name="version"]')["value"]
    form = {"csrf_token": csrf_token(client, path), "version": version, "shared": "school"}
    form.update(data)
    return client.post(path, data=form)


def test_an_officer_works_a_request_to_an_outcome(client_for, session, oakfield_request) -> None:
    officer = client_for("caf_officer")
    assert update(officer, oakfield_request, action="acknowledged").status_code == 303
    refused = update(officer, oakfield_request, action="in_progress")
    assert "Enter the meeting date" in soup(refused).select_one(".govuk-error-summary").get_text()
    assert (
        update(
            officer, oakfield_request, action="in_progress", meeting_on=MEETING_FIELDS
        ).status_code
        == 303
    )
    assert (
        update(
            officer,
            oakfield_request,
            action="closed",
            outcome="assessment_started",
            note="TAF booked",
        ).status_code
        == 303
    )
    session.expire_all()
    request = session.get(SupportRequest, oakfield_request.id)
    assert request.status is SupportStatus.CLOSED
    assert request.meeting_on == MEETING_DAY
    assert request.assigned_officer.email == "caf.north@council.example"
    assert request.first_response_at is not None
    statuses = [e.to_status for e in request.events]
    assert statuses == [
        SupportStatus.NEW,
        SupportStatus.ACKNOWLEDGED,
        SupportStatus.IN_PROGRESS,
        SupportStatus.CLOSED,
    ]
    to_school = session.scalars(
        select(OutboxMessage.subject).where(
            OutboxMessage.recipient == "staff@oakfield.example",
            OutboxMessage.subject.contains(request.reference),
        )
    ).all()
    assert len(to_school) == 4  # the confirmation and three status changes
    # A closed request takes nothing more: no form, and a page that says so.
    closed = soup(officer.get(f"/support/{request.id}"))
    assert closed.select('input[name="action"]') == []
    assert closed.find("h2", string="Update this request") is None
    assert "This request is closed: nothing more can be recorded on it." in closed.get_text()


def test_private_notes_stay_with_the_council(client_for, oakfield_request) -> None:
    officer = client_for("caf_officer")
    update(officer, oakfield_request, action="note", note="Spoke to the SENCO", shared="school")
    update(
        officer, oakfield_request, action="note", note="Sibling known to the team", shared="council"
    )
    school_view = (
        client_for("school_staff").get(f"/support/{oakfield_request.id}").get_data(as_text=True)
    )
    assert "Spoke to the SENCO" in school_view
    assert "Sibling known to the team" not in school_view
    assert "Sibling known to the team" in officer.get(f"/support/{oakfield_request.id}").get_data(
        as_text=True
    )


@pytest.mark.parametrize("version", ["x", "²", "99999999999999999999", ""])
def test_an_unreadable_version_is_a_conflict_not_an_error(
    client_for, oakfield_request, version: str
) -> None:
    response = update(
        client_for("caf_officer"), oakfield_request, action="acknowledged", version=version
    )
    assert response.status_code == 200
    summary = soup(response).select_one(".govuk-error-summary").get_text()
    assert "Someone else has just updated this request" in summary


def test_two_officers_at_once_lose_nothing(client_for, session, oakfield_request) -> None:
    first, second = client_for("caf_officer"), client_for("la_admin")
    path = f"/support/{oakfield_request.id}"
    seen = soup(second.get(path)).select_one('input[name="version"]')["value"]
    assert update(first, oakfield_request, action="acknowledged").status_code == 303
    stale = second.post(
        path,
        data={
            "csrf_token": csrf_token(second, path),
            "version": seen,
            "action": "redirected",
            "redirect_reason": "another_area",
            "note": "Family moved to Rugby",
            "shared": "school",
        },
    )
    page = soup(stale)
    assert stale.status_code == 200
    assert (
        "Someone else has just updated this request"
        in page.select_one(".govuk-error-summary").get_text()
    )
    assert page.select_one("#note").get_text() == "Family moved to Rugby"
    assert page.select_one('input[name="redirect_reason"][value="another_area"]').has_attr(
        "checked"
    )
    session.expire_all()
    assert session.get(SupportRequest, oakfield_request.id).status is SupportStatus.ACKNOWLEDGED
    # Read, then saved again: it goes through.
    new_version = page.select_one('input[name="version"]')["value"]
    again = second.post(
        path,
        data={
            "csrf_token": csrf_token(second, path),
            "version": new_version,
            "action": "redirected",
            "redirect_reason": "another_area",
            "note": "Family moved to Rugby",
            "shared": "school",
        },
    )
    assert again.status_code == 303
    session.expire_all()
    assert session.get(SupportRequest, oakfield_request.id).status is SupportStatus.REDIRECTED


def test_the_queue_filters_and_shows_what_is_due(client_for, session, oakfield_request) -> None:
    from portal.models import Area

    rugby_school = session.scalars(select(School).where(School.urn == 125613)).one()
    other = created(
        session, raise_request(client_for("school_staff"), {"urgency": {"urgency": "urgent"}})
    )
    other.respond_by = date(2020, 1, 6)  # long overdue
    session.commit()
    officer = client_for("caf_officer")
    page = soup(officer.get("/support/"))
    rows = {
        tr.select_one("a").get_text(): tr.get_text(" ", strip=True)
        for tr in page.select("#queue tbody tr")
    }
    assert {oakfield_request.reference, other.reference} <= set(rows)
    # Only North's requests (demo ones included).
    schools = {tr.select("td")[1].get_text(strip=True) for tr in page.select("#queue tbody tr")}
    north = set(session.scalars(select(School.name).join(Area).where(Area.name == "North")).all())
    assert "Oakfield Primary School" in schools and schools <= north
    assert "Overdue" in rows[other.reference]
    # Sorted by the date a response is due: the overdue one first.
    assert next(iter(rows)) == other.reference
    urgent = soup(officer.get("/support/?urgency=urgent"))
    assert other.reference in [a.get_text() for a in urgent.select("#queue tbody a")]
    assert oakfield_request.reference not in urgent.get_text()
    assert rugby_school.name not in page.get_text()
    closed = soup(officer.get("/support/?status=closed"))
    assert closed.select("#queue tbody tr") == []


def queue_rows(page: BeautifulSoup) -> dict[str, dict[str, str]]:
    """Each row of the queue by reference: its cells by column heading."""
    headings = [th.get_text(strip=True) for th in page.select("#queue thead th")]
    return {
        tr.select_one("a").get_text(): dict(
            zip(headings, (td.get_text(" ", strip=True) for td in tr.select("td")), strict=True)
        )
        for tr in page.select("#queue tbody tr")
    }


def demo_reference(session, key: str) -> str:
    return session.scalar(
        select(SupportRequest.reference).where(SupportRequest.submission_key == key)
    )


def test_the_queue_shows_who_each_request_is_with(client_for, session) -> None:
    rows = queue_rows(soup(client_for("caf_officer").get("/support/")))
    assert rows[demo_reference(session, "demo-caseload-2")]["Assigned to"] == "Jo Demo-North"
    assert rows[demo_reference(session, "demo-caseload-4")]["Assigned to"] == (
        "Chris Demo-North (you)"
    )
    assert rows[demo_reference(session, "demo-caseload-1")]["Assigned to"] == "Nobody yet"
    # A school's own list has no such column: who at the council has it is the council's.
    school = soup(client_for("head_teacher").get("/support/"))
    assert "Assigned to" not in [th.get_text(strip=True) for th in school.select("thead th")]
    assert school.select_one("select#owner") is None


# The queue's rows as the template drew them before they were written out in Python.
TEMPLATE_QUEUE_ROWS = """
{% for item in items %}
{% set when = timeliness(item, today) %}
<tr class="govuk-table__row">
  <td class="govuk-table__cell"><a class="govuk-link" href="{{ url_for('support.show', request_id=item.id) }}">{{ item.reference }}</a></td>
  <td class="govuk-table__cell">{{ item.school_name }}</td>
  <td class="govuk-table__cell">{{ item.kind.label }}</td>
  <td class="govuk-table__cell">{{ item.urgency.label }}</td>
  <td class="govuk-table__cell"><strong class="govuk-tag {{ status_classes[item.status.value] }}">{{ item.status.label }}</strong></td>
  {% if is_officer %}
  <td class="govuk-table__cell">
    {%- if item.assigned_officer_id == viewer_id %}{{ item.officer }} (you)
    {%- elif item.assigned_officer_id %}{{ item.officer }}
    {%- else %}Nobody yet{% endif -%}
  </td>
  {% endif %}
  <td class="govuk-table__cell">
    {{ item.respond_by | long_date }}
    {% if when == "overdue" %}<strong class="govuk-tag govuk-tag--red">Overdue</strong>{% elif when == "due" %}<strong class="govuk-tag govuk-tag--orange">Due today</strong>{% endif %}
  </td>
</tr>
{% endfor %}
"""  # noqa: E501


@pytest.mark.parametrize("is_officer", [True, False])
def test_the_written_out_queue_rows_are_what_the_template_drew(
    app: Flask, is_officer: bool
) -> None:
    """The queue's rows are written out in Python for speed (portal/support/display.py): they
    must stay what the template drew, names escaped, every status, tag and owner."""
    from types import SimpleNamespace

    from portal.models import SupportKind, Urgency
    from portal.support.display import queue_rows_html
    from portal.support.queue import timeliness
    from portal.support.routes import STATUS_CLASSES
    from tests.contacts.test_contacts import squeeze

    today = date(2027, 3, 10)
    items = [
        SimpleNamespace(
            id=n + 1,
            reference=f"CAF-2027-{n:06d}",
            school_name=f"St Mary's & <Oak> {n}",
            kind=list(SupportKind)[n % len(SupportKind)],
            urgency=list(Urgency)[n % len(Urgency)],
            status=status,
            assigned_officer_id=[None, 7, 8][n % 3],
            officer=[None, 'Jo "Jay" O\'Neil', "Chris <Demo>"][n % 3],
            respond_by=today + timedelta(days=n % 3 - 1),
            first_response_at=today if n % 4 == 3 else None,
        )
        for n, status in enumerate(list(SupportStatus) * 3)
    ]
    with app.test_request_context("/support/"):
        drawn = app.jinja_env.from_string(TEMPLATE_QUEUE_ROWS).render(
            items=items,
            today=today,
            timeliness=timeliness,
            status_classes=STATUS_CLASSES,
            is_officer=is_officer,
            viewer_id=8,
        )
        written = queue_rows_html(items, today=today, viewer_id=8, is_officer=is_officer)
    assert "(you)" in drawn or not is_officer
    assert "Overdue" in drawn and "Due today" in drawn
    assert squeeze(str(written)) == squeeze(drawn)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("respond_by", lambda r: (r.respond_by, r.id)),
        ("oldest", lambda r: (r.submitted_at, r.id)),
        ("newest", lambda r: (-r.submitted_at.timestamp(), -r.id)),
    ],
)
def test_the_queue_is_in_the_order_asked_for_page_after_page(
    client_for, session, monkeypatch, sort: str, order
) -> None:
    """The queue sorts and pages its requests, then names their schools and officers: the
    rows come in the order asked for, on every page."""
    from portal.models import Area
    from portal.support import queue, statements

    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    north = session.scalars(select(Area).where(Area.name == "North")).one()
    open_requests = session.scalars(
        select(SupportRequest).where(
            SupportRequest.area_id == north.id,
            SupportRequest.status.in_(statements.OPEN_STATUSES),
        )
    ).all()
    assert len(open_requests) > 4
    expected = [r.reference for r in sorted(open_requests, key=order)]
    officer = client_for("caf_officer")
    shown: list[str] = []
    for number in range(1, (len(open_requests) + 1) // 2 + 1):
        page = soup(officer.get("/support/", query_string={"sort": sort, "page": number}))
        shown += list(queue_rows(page))
    assert shown == expected


@pytest.mark.parametrize(
    ("query", "keys", "tag"),
    [
        ({"due": "overdue"}, {"demo-caseload-1", "demo-caseload-2"}, "Overdue"),
        ({"due": "today"}, {"demo-caseload-3", "demo-caseload-4"}, "Due today"),
        ({"owner": "mine"}, {"demo-request-1", "demo-caseload-4"}, None),
        (
            {"owner": "unassigned"},
            {"demo-request-2", "demo-request-4", "demo-caseload-1", "demo-caseload-3"},
            None,
        ),
        ({"owner": "mine", "due": "today"}, {"demo-caseload-4"}, "Due today"),
    ],
)
def test_the_queue_filters_by_officer_and_by_when_a_response_is_due(
    client_for, session, query: dict[str, str], keys: set[str], tag: str | None
) -> None:
    page = soup(client_for("caf_officer").get("/support/", query_string=query))
    rows = queue_rows(page)
    assert set(rows) == {demo_reference(session, key) for key in keys}
    if tag:
        assert all(tag in row["Respond by"] for row in rows.values())
    # The form says what it was asked, so that sending it again keeps the filters.
    for name, value in query.items():
        assert page.select_one(f"select#{name} option[selected]")["value"] == value


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_home_page_counts_are_the_queues_own(app: Flask, session, data) -> None:
    """Whatever the state of the area's requests, each count on an officer's home page is
    the number of requests its link lists, and what timeliness() tags on each row."""
    from werkzeug.datastructures import MultiDict

    from portal.access import Principal
    from portal.db import db
    from portal.models import Area
    from portal.support import queue

    chris, jo = people(session, "caf.north@council.example", "caf2.north@council.example")
    requests = session.scalars(select(SupportRequest).join(Area).where(Area.name == "North")).all()
    today = date(2027, 3, 10)
    for request in requests:
        request.status = data.draw(st.sampled_from(list(SupportStatus)))
        request.respond_by = today + timedelta(days=data.draw(st.integers(-2, 2)))
        request.first_response_at = data.draw(st.sampled_from([None, request.submitted_at]))
        request.assigned_officer_id = data.draw(st.sampled_from([None, chris.id, jo.id]))
    session.commit()

    with app.test_request_context():
        who = Principal.of(db.session.get(User, chris.id))
        counts = queue.queue_counts(who, today)
        assert counts is not None

        def listed(name: str) -> int:
            filters = queue.QueueFilter.from_args(MultiDict(counts.LINKS[name]))
            return queue.queue(who, filters, today).total

        assert counts.new == listed("new")
        assert counts.due_today == listed("due_today")
        assert counts.overdue == listed("overdue")
        assert counts.mine == listed("mine")
    tags = [queue.timeliness(r, today) for r in requests]
    assert counts.overdue == tags.count("overdue")
    assert counts.due_today == tags.count("due")
    assert counts.new == sum(r.status is SupportStatus.NEW for r in requests)
    assert counts.mine == sum(
        r.status.is_open and r.assigned_officer_id == chris.id for r in requests
    )


@pytest.mark.parametrize("typed", ["oakfield", "  Oakfield   Primary ", "125601"])
def test_the_queue_filters_by_a_schools_name_or_urn(client_for, oakfield_request, typed) -> None:
    officer = client_for("caf_officer")
    page = soup(officer.get("/support/", query_string={"school": typed}))
    schools = {tr.select("td")[1].get_text(strip=True) for tr in page.select("#queue tbody tr")}
    assert schools == {"Oakfield Primary School"}
    # What was typed stays in the box, tidied.
    assert page.select_one("input#school")["value"] == " ".join(typed.split())


def test_a_school_filter_that_matches_nothing_says_so(client_for, oakfield_request) -> None:
    # % and _ are text to find, not wildcards that would match every school.
    page = soup(client_for("caf_officer").get("/support/?school=100%25_"))
    assert page.select("#queue tbody tr") == []
    assert "No requests match." in page.select_one("#queue").get_text()


def test_the_queue_refreshes_itself_with_its_filters(client_for, oakfield_request) -> None:
    officer = client_for("caf_officer")
    fragment = officer.get("/support/?urgency=soon&sort=newest", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html
    poller = soup(fragment).select_one('[hx-trigger="every 60s"]')
    assert "urgency=soon" in poller["hx-get"] and "sort=newest" in poller["hx-get"]
    assert oakfield_request.reference in html


def kept_counts(session) -> dict[tuple[int, str], int]:
    """support_request_count, as the database keeps it (empty counts left out)."""
    from portal.models import support_request_count as kept

    rows = session.execute(select(kept.c.area_id, kept.c.status, kept.c.n)).all()
    return {(area, status): n for area, status, n in rows if n}


def rows_counts(session) -> dict[tuple[int, str], int]:
    """The same, counted over the requests themselves."""
    from sqlalchemy import func

    rows = session.execute(
        select(SupportRequest.area_id, SupportRequest.status, func.count()).group_by(
            SupportRequest.area_id, SupportRequest.status
        )
    ).all()
    return {(area, SupportStatus(status).value): n for area, status, n in rows}


def queue_total(client, **filters: str) -> int:
    text = soup(client.get("/support/", query_string=filters)).select_one("#queue p").get_text()
    found = re.search(r"(\d+) requests?\.", text)
    return int(found.group(1)) if found else 0


def test_the_queues_count_is_the_requests_count_after_any_change(
    client_for, session, oakfield_request
) -> None:
    """The queue counts requests from the counts the database keeps (migration 0022): they
    must be what counting the requests gives, after requests are raised, worked, moved to
    another area or deleted, by the portal or straight in the database."""
    from sqlalchemy import delete, func
    from sqlalchemy import update as sql_update

    from portal.models import Area

    officer, admin = client_for("caf_officer"), client_for("la_admin")
    north = oakfield_request.area_id
    other = session.scalars(select(Area.id).where(Area.id != north)).first()

    def expected(area: int | None, statuses: list[SupportStatus]) -> int:
        query = select(func.count()).where(SupportRequest.status.in_(statuses))
        if area is not None:
            query = query.where(SupportRequest.area_id == area)
        return session.scalar(query.select_from(SupportRequest))

    def check() -> None:
        session.expire_all()
        assert kept_counts(session) == rows_counts(session)
        open_ = [s for s in SupportStatus if s.is_open]
        assert queue_total(officer) == expected(north, open_)
        assert queue_total(officer, status="new") == expected(north, [SupportStatus.NEW])
        assert queue_total(officer, status="") == expected(north, list(SupportStatus))
        assert queue_total(admin) == expected(None, open_)
        assert queue_total(admin, status="closed") == expected(None, [SupportStatus.CLOSED])

    check()
    before = queue_total(officer)
    update(officer, oakfield_request, action="acknowledged", note="Called the school")
    check()
    move_to(session, oakfield_request, SupportStatus.CLOSED)
    check()
    assert queue_total(officer) == before - 1
    # Moved to another area and back to new, straight in the database.
    session.execute(
        sql_update(SupportRequest)
        .where(SupportRequest.id == oakfield_request.id)
        .values(area_id=other, status=SupportStatus.NEW)
    )
    session.commit()
    check()
    session.execute(delete(SupportEvent).where(SupportEvent.request_id == oakfield_request.id))
    session.execute(delete(SupportRequest).where(SupportRequest.id == oakfield_request.id))
    session.commit()
    check()
    # A request raised, then every request redirected in one statement.
    raise_request(client_for("school_staff"))
    check()
    session.execute(sql_update(SupportRequest).values(status=SupportStatus.REDIRECTED))
    session.commit()
    check()
    assert queue_total(admin) == 0


def test_a_rugby_officer_does_not_see_norths_queue(client_for, oakfield_request) -> None:
    page = client_for("caf.rugby@council.example").get("/support/").get_data(as_text=True)
    assert oakfield_request.reference not in page


def test_closed_requests_are_anonymised_after_the_retention_period(
    app: Flask, client_for, session, oakfield_request
) -> None:
    from datetime import timedelta

    officer = client_for("caf_officer")
    update(officer, oakfield_request, action="acknowledged")
    update(officer, oakfield_request, action="closed", outcome="advice_given", note="By phone")
    session.expire_all()
    request = session.get(SupportRequest, oakfield_request.id)
    assert request.status is SupportStatus.CLOSED
    request.updated_at = request.updated_at - timedelta(days=800)
    session.commit()
    result = app.test_cli_runner().invoke(args=["support", "anonymise", "--older-than", "24"])
    assert result.exit_code == 0, result.output
    assert "1 request" in result.output
    session.expire_all()
    request = session.get(SupportRequest, oakfield_request.id)
    assert (request.child_initials, request.details, request.needs) == (None, None, [])
    assert request.anonymised_at is not None
    assert request.status is SupportStatus.CLOSED and request.urgency is not None
    assert all(
        e.note is None
        for e in session.scalars(select(SupportEvent).where(SupportEvent.request_id == request.id))
    )
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "support.anonymised")
    ).one()
    assert audit.detail["references"] == [request.reference]


# --- the update form asks only what fits the request's status -------------------------------


def move_to(session, request: SupportRequest, status: SupportStatus) -> None:
    """Put the request in ``status`` directly, as if it had been worked there."""
    found = session.get(SupportRequest, request.id)
    found.status = status
    session.commit()


@pytest.mark.parametrize(
    ("status", "actions", "legends"),
    [
        (
            SupportStatus.NEW,
            ["Acknowledge it", "Redirect it", "Add a note only"],
            ["What do you want to do?", "Reason (if redirecting)", "Who can read the note?"],
        ),
        (
            SupportStatus.ACKNOWLEDGED,
            [
                "Arrange a meeting (in progress)",
                "Close it with an outcome",
                "Redirect it",
                "Add a note only",
            ],
            [
                "What do you want to do?",
                "Meeting date (if arranging the meeting)",
                "Outcome (if closing)",
                "Reason (if redirecting)",
                "Who can read the note?",
            ],
        ),
        (
            SupportStatus.IN_PROGRESS,
            ["Close it with an outcome", "Redirect it", "Add a note only"],
            [
                "What do you want to do?",
                "Outcome (if closing)",
                "Reason (if redirecting)",
                "Who can read the note?",
            ],
        ),
        (SupportStatus.CLOSED, [], []),
        (SupportStatus.REDIRECTED, [], []),
    ],
)
def test_the_update_form_asks_only_what_fits_the_status(
    client_for, session, oakfield_request, status, actions, legends
) -> None:
    move_to(session, oakfield_request, status)
    page = soup(client_for("caf_officer").get(f"/support/{oakfield_request.id}"))
    offered = [
        page.select_one(f'label[for="{radio["id"]}"]').get_text(strip=True)
        for radio in page.select('input[name="action"]')
    ]
    assert offered == actions
    assert [legend.get_text(strip=True) for legend in page.select("form legend")] == legends
    # A meeting date is asked for only where a meeting can be arranged.
    assert bool(page.select("#meeting_on-day")) == (status is SupportStatus.ACKNOWLEDGED)


def test_the_update_forms_fields_are_drawn_once_for_each_status_never_with_typing(
    app: Flask,
) -> None:
    """A form as first shown is drawn once for each status (portal/support/display.py): it
    must be what drawing that form gives, for each status, whether a page's GET drew it
    first (UnsentUpdateForm, no form built) or a form did; a form with something posted in
    it is drawn afresh, and what was typed never reaches another officer's page."""
    from portal.support import display
    from portal.support.officer_forms import UnsentUpdateForm, UpdateForm

    first = {}
    for status in [s for s in SupportStatus if s.is_open]:
        with app.test_request_context("/support/1"):
            fresh = display._draw_update_fields(UpdateForm(status=status))
            display._blank_update_fields.pop(status, None)
            first[status] = display.update_fields_html(UnsentUpdateForm.of(status, 3))
            assert first[status] == fresh
            assert display.update_fields_html(UpdateForm(status=status)) == fresh
            display._blank_update_fields.pop(status, None)
            assert display.update_fields_html(UpdateForm(status=status)) == fresh
            assert display.update_fields_html(UnsentUpdateForm.of(status, 4)) == fresh
    assert len(set(first.values())) == len(first)
    posted = {"action": "note", "note": "Mum <rang> twice", "shared": "council"}
    with app.test_request_context("/support/1", method="POST", data=posted):
        typed = display.update_fields_html(UpdateForm(status=SupportStatus.NEW))
    assert "Mum &lt;rang&gt; twice" in typed
    assert typed != first[SupportStatus.NEW]
    with app.test_request_context("/support/1"):
        again = display.update_fields_html(UpdateForm(status=SupportStatus.NEW))
    assert "rang" not in again
    assert again == first[SupportStatus.NEW]


def test_the_assign_forms_fields_are_drawn_once_for_each_choice_never_with_posting(
    app: Flask,
) -> None:
    """The assign form as first shown is drawn once for each set of officers, whom the
    request is with and its area (portal/support/display.py): it must be what drawing the
    form gives; a change to any of them draws it again; a posted form is drawn afresh and
    its drawing never kept."""
    from portal.support import display
    from portal.support.officer_forms import AssignForm, UnsentAssignForm
    from portal.support.request_page import Officer

    chris, jo, left = Officer(3, "Chris <North>"), Officer(4, "Jo North"), Officer(9, "Al Gone")
    cases = [
        ((chris, jo), None, "North"),
        ((chris, jo), jo, "North"),
        ((chris, jo), jo, "South"),
        ((chris, Officer(4, "Jo Renamed")), Officer(4, "Jo Renamed"), "North"),
        ((chris,), left, "North"),
    ]
    drawn = set()
    for officers, current, area in cases:
        with app.test_request_context("/support/1"):
            form = AssignForm(formdata=None, officers=officers, current=current)
            form.officer.data = str(current.id) if current else ""
            fresh = display._draw_assign_fields(form, area)
            unsent = UnsentAssignForm(officers, current)
            assert display.assign_fields_html(unsent, area) == fresh
            assert display.assign_fields_html(unsent, area) == fresh
            assert display.assign_fields_html(form, area) == fresh
            drawn.add(fresh)
    assert len(drawn) == len(cases)
    assert "Chris &lt;North&gt;" in next(iter(drawn))
    kept = dict(display._blank_assign_fields)
    with app.test_request_context("/support/1/assign", method="POST", data={"officer": "77"}):
        posted = AssignForm(officers=(chris, jo), current=None)
        posted.validate()
        errors = display.assign_fields_html(posted, "North")
    assert "Choose a CAF officer of this request" in errors
    assert display._blank_assign_fields == kept


@pytest.mark.parametrize(
    ("status", "data", "message"),
    [
        (
            SupportStatus.NEW,
            {"action": "in_progress", "meeting_on": MEETING_FIELDS},
            "This request is new: it can be acknowledged or redirected now, "
            "not given a meeting date",
        ),
        (
            SupportStatus.NEW,
            {"action": "closed", "outcome": "advice_given"},
            "This request is new: it can be acknowledged or redirected now, "
            "not closed with an outcome",
        ),
        (
            SupportStatus.ACKNOWLEDGED,
            {"action": "acknowledged"},
            "This request is acknowledged already",
        ),
        (
            SupportStatus.IN_PROGRESS,
            {"action": "acknowledged"},
            "This request is in progress: it can be closed with an outcome or redirected now, "
            "not acknowledged",
        ),
        (
            SupportStatus.CLOSED,
            {"action": "note", "note": "One more thing"},
            "This request is closed: nothing more can be recorded on it",
        ),
        (
            SupportStatus.REDIRECTED,
            {"action": "acknowledged"},
            "This request is redirected: nothing more can be recorded on it",
        ),
    ],
)
def test_a_post_that_does_not_fit_the_status_is_refused_and_says_why(
    client_for, session, oakfield_request, status, data, message
) -> None:
    move_to(session, oakfield_request, status)
    officer = client_for("caf_officer")
    path = f"/support/{oakfield_request.id}"
    version = session.get(SupportRequest, oakfield_request.id).version
    response = officer.post(
        path,
        data={"csrf_token": csrf_token(officer, path), "version": str(version), **data},
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error: ")
    assert message in page.select_one(".govuk-error-summary").get_text()
    if status.is_open:
        # Beside the question, too.
        assert message in page.select_one("#action-error").get_text()
    session.expire_all()
    after = session.get(SupportRequest, oakfield_request.id)
    assert (after.status, after.version, len(after.events)) == (status, version, 1)


def test_the_workflow_refuses_what_does_not_fit_whatever_the_form(app: Flask, session) -> None:
    from portal.db import db
    from portal.support import updates

    request = session.scalars(
        select(SupportRequest).where(SupportRequest.status == SupportStatus.NEW)
    ).first()
    officer = session.scalars(select(User).where(User.email == "caf.north@council.example")).one()
    with app.app_context():
        found = db.session.get(SupportRequest, request.id)
        actor = db.session.get(User, officer.id)
        with pytest.raises(updates.UpdateRefused, match="not closed with an outcome"):
            updates.update(
                found, updates.Update(to_status=SupportStatus.CLOSED), actor, found.version
            )


# --- giving a request to a colleague ------------------------------------------------------


def people(session, *emails: str) -> list[User]:
    return [session.scalars(select(User).where(User.email == e)).one() for e in emails]


def assign(client, request: SupportRequest, officer: str):
    path = f"/support/{request.id}"
    return client.post(
        f"{path}/assign", data={"csrf_token": csrf_token(client, path), "officer": officer}
    )


def test_an_officer_gives_a_request_to_a_colleague_who_is_told(
    client_for, session, oakfield_request
) -> None:
    chris, jo = people(session, "caf.north@council.example", "caf2.north@council.example")
    officer = client_for("caf_officer")
    page = soup(officer.get(f"/support/{oakfield_request.id}"))
    choices = [o.get_text(strip=True) for o in page.select("select#officer option")]
    # The North area's officers (and nobody): not Rugby's, nor anyone else.
    assert choices == ["Nobody (unassigned)", "Chris Demo-North", "Jo Demo-North"]

    response = assign(officer, oakfield_request, str(jo.id))
    assert response.status_code == 303
    shown = soup(officer.get(response.headers["Location"]))
    assert (
        "This request is with Jo Demo-North now: they have been told by e-mail."
        in shown.select_one(".govuk-notification-banner").get_text()
    )
    assert "Assigned to Jo Demo-North" in shown.select_one(".council-history").get_text()
    session.expire_all()
    request = session.get(SupportRequest, oakfield_request.id)
    assert request.assigned_officer_id == jo.id
    event = request.events[-1]
    assert (event.assignment, event.assigned_to_id, event.actor_id) == (True, jo.id, chris.id)
    told = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.recipient == "caf2.north@council.example",
            OutboxMessage.subject.contains(request.reference),
            OutboxMessage.subject.contains("is now yours"),
        )
    ).one()
    assert "Chris Demo-North has given you" in told.body
    audit = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "support.assigned", AuditEvent.subject_id == request.id
        )
    ).one()
    assert (audit.actor_id, audit.detail["to_officer"]) == (chris.id, jo.email)
    # The school does not see who the council gave it to on its timeline.
    school = soup(client_for("school_staff").get(f"/support/{request.id}"))
    assert "Assigned to" not in school.select_one(".council-history").get_text()
    assert school.select_one("select#officer") is None

    # Jo finds it under "mine"; Chris does not.
    mine = soup(client_for("caf2.north@council.example").get("/support/?owner=mine"))
    assert request.reference in [a.get_text() for a in mine.select("#queue tbody a")]
    theirs = soup(officer.get("/support/?owner=mine"))
    assert request.reference not in theirs.select_one("#queue").get_text()


def test_a_request_can_be_given_back_to_nobody_and_taken(
    client_for, session, oakfield_request
) -> None:
    (chris,) = people(session, "caf.north@council.example")
    officer = client_for("caf_officer")
    assert assign(officer, oakfield_request, str(chris.id)).status_code == 303
    session.expire_all()
    assert session.get(SupportRequest, oakfield_request.id).assigned_officer_id == chris.id
    # Taking it oneself sends no e-mail.
    assert not session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.subject.contains(oakfield_request.reference),
            OutboxMessage.subject.contains("is now yours"),
        )
    ).all()
    response = assign(officer, oakfield_request, "")
    assert response.status_code == 303
    page = soup(officer.get(response.headers["Location"]))
    assert "Nobody is assigned to this request now." in page.get_text()
    assert "Unassigned" in page.select_one(".council-history").get_text()
    session.expire_all()
    assert session.get(SupportRequest, oakfield_request.id).assigned_officer_id is None
    unassigned = soup(officer.get("/support/?owner=unassigned"))
    row = next(
        tr
        for tr in unassigned.select("#queue tbody tr")
        if tr.select_one("a").get_text() == oakfield_request.reference
    )
    assert "Nobody yet" in row.get_text()


@pytest.mark.parametrize("who", ["caf.rugby@council.example", "admin@council.example", "999999"])
def test_only_an_officer_of_the_area_can_be_given_a_request(
    client_for, session, oakfield_request, who: str
) -> None:
    # Another area's officer, an administrator, or nobody at all.
    officer_id = who if who.isdigit() else str(people(session, who)[0].id)
    response = assign(client_for("caf_officer"), oakfield_request, officer_id)
    assert response.status_code == 200
    page = soup(response)
    message = "Choose a CAF officer of this request's area, or nobody"
    assert message in page.select_one(".govuk-error-summary").get_text()
    assert message in page.select_one("#officer-error").get_text()
    session.expire_all()
    assert session.get(SupportRequest, oakfield_request.id).assigned_officer_id is None


def test_a_closed_request_cannot_be_given_to_anyone(client_for, session, oakfield_request) -> None:
    (jo,) = people(session, "caf2.north@council.example")
    move_to(session, oakfield_request, SupportStatus.CLOSED)
    officer = client_for("caf_officer")
    assert soup(officer.get(f"/support/{oakfield_request.id}")).select_one("select#officer") is None
    response = assign(officer, oakfield_request, str(jo.id))
    assert response.status_code == 200
    assert (
        "This request is closed: nothing more can be recorded on it"
        in soup(response).select_one(".govuk-error-summary").get_text()
    )
    session.expire_all()
    assert session.get(SupportRequest, oakfield_request.id).assigned_officer_id is None


def test_the_last_officer_to_act_is_not_overwritten_by_assigning(
    client_for, session, oakfield_request
) -> None:
    """Acting on an unassigned request takes it; acting on a colleague's leaves it theirs."""
    (jo,) = people(session, "caf2.north@council.example")
    officer = client_for("caf_officer")
    assign(officer, oakfield_request, str(jo.id))
    assert update(officer, oakfield_request, action="acknowledged").status_code == 303
    session.expire_all()
    assert session.get(SupportRequest, oakfield_request.id).assigned_officer_id == jo.id


def test_a_refused_update_still_shows_who_the_request_is_with(
    client_for, session, oakfield_request
) -> None:
    (jo,) = people(session, "caf2.north@council.example")
    officer = client_for("caf_officer")
    assign(officer, oakfield_request, str(jo.id))
    refused = update(officer, oakfield_request, action="note", note="")
    page = soup(refused)
    assert "Enter the note" in page.select_one(".govuk-error-summary").get_text()
    assert page.select_one("select#officer option[selected]").get_text(strip=True) == (
        "Jo Demo-North"
    )


def test_an_officer_who_has_left_the_area_is_shown_but_cannot_be_given_more(
    client_for, session, oakfield_request
) -> None:
    from portal.models import Area

    (jo,) = people(session, "caf2.north@council.example")
    officer = client_for("caf_officer")
    assign(officer, oakfield_request, str(jo.id))
    # Jo moves to Rugby.
    jo.memberships[0].area = session.scalars(select(Area).where(Area.name == "Rugby")).one()
    session.commit()
    page = soup(officer.get(f"/support/{oakfield_request.id}"))
    assert page.select_one("select#officer option[selected]").get_text(strip=True) == (
        "Jo Demo-North (no longer an officer here)"
    )
    # Sent unchanged, nothing changes; another North request cannot be given to her.
    unchanged = assign(officer, oakfield_request, str(jo.id))
    assert unchanged.status_code == 303
    assert "This request was with Jo Demo-North already." in soup(
        officer.get(unchanged.headers["Location"])
    ).get_text(" ")
    other = session.scalars(
        select(SupportRequest).where(SupportRequest.submission_key == "demo-caseload-1")
    ).one()
    assert assign(officer, other, str(jo.id)).status_code == 200
    session.expire_all()
    assert session.get(SupportRequest, other.id).assigned_officer_id is None


def test_the_support_pages_read_through_the_driver_what_sqlalchemy_reads(app, session) -> None:
    """A request's page, the queue filtered by status alone and a school's home page send
    statements made once for each shape of who may see requests
    (portal.access.support_request_scope_shape, its values bound when sent) through the
    driver itself (portal.db.driver_records). For every account of the demo: their home
    page's open requests are SQLAlchemy's; shown_request finds exactly the requests
    support_request_scope (its ids bound) lets them see, and each row comes back with the
    values, of the same types, that SQLAlchemy's own rows hold; the queue's pages are
    SQLAlchemy's, for every status and order."""
    from portal.access import (
        Principal,
        support_request_scope,
        support_request_scope_shape,
    )
    from portal.db import db, driver_records
    from portal.pagination import paginate_rows
    from portal.support import home as support_home
    from portal.support import queue, request_page

    def typed(rows) -> list[list[tuple[object, type]]]:
        return [[(value, type(value)) for value in row] for row in rows]

    request_ids = session.scalars(select(SupportRequest.id)).all()
    user_ids = session.scalars(select(User.id)).all()
    seen = kept = homes = 0
    with app.test_request_context():
        for user_id in user_ids:
            who = Principal.of(db.session.get(User, user_id))
            visible = set(
                db.session.scalars(select(SupportRequest.id).where(support_request_scope(who)))
            )
            shape, values = support_request_scope_shape(who)
            # Their home page's open requests.
            listed = support_home._open_requests_query(shape)
            theirs = db.session.execute(listed, values).all()
            assert typed(driver_records(listed, values)) == typed(theirs)
            homes += bool(theirs)
            statement = request_page._shown_statement(shape)
            for request_id in request_ids:
                shown = request_page.shown_request(who, request_id)
                assert (shown is not None) == (request_id in visible), (user_id, request_id)
                if shown is not None:
                    seen += 1
                    params = {**values, "request_id": request_id}
                    theirs = db.session.execute(statement, params).all()
                    assert typed(driver_records(statement, params)) == typed(theirs)
            for status in ("open", "", *(s.value for s in SupportStatus)):
                for sort in queue.SORTS:
                    filters = queue.QueueFilter(status=status, sort=sort)
                    if not queue._counts_kept(shape, filters):
                        continue
                    kept += 1
                    ours = queue.queue(who, filters)
                    listed = queue.queue_query(who, filters).with_only_columns(
                        *queue._QUEUE_COLUMNS
                    )
                    theirs = paginate_rows(listed, 1, queue.PAGE_SIZE)
                    assert ours.total == theirs.total
                    assert typed(ours.items) == typed(theirs.items)
    assert seen and kept and homes


def test_updating_and_assigning_do_not_read_the_timeline(
    client_for, session, count_queries, oakfield_request
) -> None:
    """A new entry is added beside the request, not appended to its timeline, which would
    read every entry first (a read that grows with every update): neither an update nor an
    assignment reads the timeline, and each entry is on it afterwards."""
    (jo,) = people(session, "caf2.north@council.example")
    officer = client_for("caf_officer")
    before = len(soup(officer.get(f"/support/{oakfield_request.id}")).select(".council-history li"))
    with count_queries() as sent:
        assert assign(officer, oakfield_request, str(jo.id)).status_code == 303
        assert (
            update(officer, oakfield_request, action="note", note="Rang the school.").status_code
            == 303
        )
    timeline_reads = [
        statement
        for statement in sent.statements
        if statement.lstrip().upper().startswith("SELECT") and "FROM support_event" in statement
    ]
    assert timeline_reads == []
    page = soup(officer.get(f"/support/{oakfield_request.id}"))
    entries = page.select(".council-history li")
    assert len(entries) == before + 2
    assert "Rang the school." in page.get_text(" ")


def test_the_queues_first_page_is_planned_once(app, session) -> None:
    """PostgreSQL plans the officer's queue once per connection, not every time it is opened:
    its first page's statement binds no page size or offset (pagination.PagedQuery.of), so
    after the driver prepares it PostgreSQL keeps one plan for it. With both bound it costed
    that one plan far above the plan for the values sent and planned afresh each time, a
    third of the statement's time."""
    if session.bind.dialect.name != "postgresql":
        pytest.skip("plans of prepared statements are PostgreSQL's")
    from portal.access import Principal
    from portal.db import db
    from portal.support import queue

    (officer,) = people(session, "caf.north@council.example")
    with app.test_request_context():
        who = Principal.of(db.session.get(User, officer.id))
        for _ in range(20):
            assert queue.queue(who, queue.QueueFilter()).items
        plans = db.session.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%support_request_count%'"
            )
        ).all()
    assert plans, "the driver did not prepare the queue's statement"
    assert all(generic > 0 for generic, _custom in plans), plans
