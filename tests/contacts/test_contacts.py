"""Local contacts: each school sees its own area's people first, and anyone can be found."""

from __future__ import annotations

import csv
import io
import re

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.contacts import cards as contacts_cards
from portal.models import (
    Area,
    AuditEvent,
    Contact,
    ContactRole,
    Membership,
    OutboxMessage,
    OutboxStatus,
    Role,
    School,
    SchoolStatus,
    User,
)
from tests.conftest import csrf_token
from tests.helpers.html import ok_soup as soup

NORTH_AND_COUNTYWIDE = 7 + 6
ACTIVE_CONTACTS = 5 * 7 + 6


def cards(page: BeautifulSoup) -> list[dict[str, str]]:
    """Each contact card in the results: its title and its rows."""
    found = []
    for card in page.select("#results .govuk-summary-card"):
        rows = {
            row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)
            for row in card.select(".govuk-summary-list__row")
        }
        rows["title"] = card.select_one(".govuk-summary-card__title").get_text(" ", strip=True)
        found.append(rows)
    return found


def names(page: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in page.select("#results .govuk-summary-card__title a")]


# --- a school's own contacts ------------------------------------------------------------------


def test_a_school_sees_its_areas_contacts_and_the_countywide_ones_grouped(client_for) -> None:
    page = soup(client_for("school_staff").get("/contacts/"))
    assert (
        page.select_one("#results h2").get_text(strip=True)
        == "Contacts for Oakfield Primary School"
    )
    found = cards(page)
    assert len(found) == NORTH_AND_COUNTYWIDE
    assert {c["Serves"] for c in found} == {"North", "Countywide"}
    groups = [h.get_text(strip=True) for h in page.select("#results h3.govuk-heading-m")]
    assert groups == [
        "Early help and the CAF",
        "Families and young people",
        "Children's social care",
        "Attendance and welfare",
        "Special educational needs and psychology",
        "Countywide specialists",
    ]
    caf = found[0]
    assert caf["title"] == "CAF officer: Chris Demo-North CAF officer"
    assert caf["Telephone"] == "0121 496 0100"
    assert caf["E-mail"] == "caf.north@council.example"
    assert "Team Around the Family" in caf["Contact them about"]
    childrens_team = next(c for c in found if c["title"].startswith("Children's team"))
    assert childrens_team["Out of hours"].startswith("Emergency Duty Team")


def test_the_safeguarding_routes_come_first(client_for) -> None:
    page = soup(client_for("school_staff").get("/contacts/"))
    box = page.select_one("main .council-safeguarding")
    assert box is page.select_one("main").find(class_="govuk-notification-banner")
    text = box.get_text(" ", strip=True)
    assert "If a child is in immediate danger, call 999." in text
    assert "children's services front door on 01632 960 000" in text
    assert "This portal is not for reporting safeguarding concerns." in text


def test_the_front_door_number_comes_from_configuration(make_app) -> None:
    from tests.conftest import sign_in

    client = make_app(CHILDRENS_SERVICES_FRONT_DOOR_PHONE="0300 555 0101").test_client()
    sign_in(client, "staff@oakfield.example")
    assert "front door on 0300 555 0101" in soup(client.get("/contacts/")).get_text(" ", strip=True)


@pytest.mark.parametrize(
    ("role", "areas"),
    [
        ("school_staff", {"North"}),
        ("academy_head", {"Nuneaton and Bedworth"}),
        ("caf_officer", {"North"}),
        # The trust's academies are in three areas.
        ("trust_lead", {"North", "Nuneaton and Bedworth", "Stratford"}),
    ],
)
def test_nobody_sees_another_areas_contacts_as_their_own(
    client_for, role: str, areas: set[str]
) -> None:
    found = cards(soup(client_for(role).get("/contacts/")))
    assert {c["Serves"] for c in found} == areas | {"Countywide"}
    assert len(found) == 7 * len(areas) + 6


def test_council_wide_staff_see_the_whole_directory_paged(client_for) -> None:
    page = soup(client_for("la_admin").get("/contacts/"))
    assert page.select_one("#results h2").get_text(strip=True) == f"{ACTIVE_CONTACTS} contacts"
    assert len(cards(page)) == 20
    assert page.select_one(".govuk-pagination__next a")["href"] == "/contacts/?page=2"


# --- searching --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("psychology", ["Educational Psychology Service"]),
        ("chris demo", ["Chris Demo-North"]),
        ("caf.rugby@", ["Rob Demo-Rugby"]),
        # What they help with.
        ("allegations", ["Local Authority Designated Officer (LADO)"]),
        # A role's name finds every contact in that role.
        (
            "education social work",
            [
                "Bo Demo-Welfare",
                "Niall Demo-Welfare",
                "Rory Demo-Welfare",
                "Stan Demo-Welfare",
                "Wes Demo-Welfare",
            ],
        ),
        ("zebra crossing", []),
        ("100%", []),
    ],
)
def test_search_finds_by_name_role_or_what_they_help_with(
    client_for, query: str, expected: list[str]
) -> None:
    page = soup(client_for("school_staff").get("/contacts/", query_string={"q": query}))
    assert sorted(names(page)) == sorted(expected)
    assert page.select_one("#q")["value"] == query
    if not expected:
        assert "No contacts match your search" in page.select_one("#results").get_text()


def test_search_by_area_name_finds_that_areas_contacts(client_for) -> None:
    found = cards(soup(client_for("school_staff").get("/contacts/?q=rugby")))
    assert len(found) == 7
    assert {c["Serves"] for c in found} == {"Rugby"}


def test_retired_contacts_are_never_found_by_schools(client_for) -> None:
    page = soup(client_for("school_staff").get("/contacts/?q=behaviour"))
    assert names(page) == []


def _reference(contacts: list[Contact], role: ContactRole | None, area: object) -> set[str]:
    chosen = set()
    for contact in contacts:
        if contact.retired_at is not None or (role and contact.role != role):
            continue
        if area == "countywide" and not contact.countywide:
            continue
        if isinstance(area, int) and area not in {a.id for a in contact.areas}:
            continue
        chosen.add(contact.name)
    return chosen


@pytest.fixture
def staff(client_for):
    return client_for("school_staff")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_filters_return_exactly_the_matching_contacts(staff, session, data) -> None:
    contacts = list(session.scalars(select(Contact)))
    area_ids = list(session.scalars(select(Area.id)))
    role = data.draw(st.none() | st.sampled_from(list(ContactRole)))
    area = data.draw(st.none() | st.just("countywide") | st.sampled_from(area_ids))
    args = {"role": role.value if role else "", "area": "" if area is None else str(area)}
    expected = _reference(contacts, role, area)
    shown: list[str] = []
    page_number = 1
    while True:
        page = soup(staff.get("/contacts/", query_string={**args, "page": page_number}))
        shown += names(page)
        if page.select_one(".govuk-pagination__next") is None:
            break
        page_number += 1
    if role is None and area is None:
        # No filter at all: the school's own contacts, not a search.
        expected = {
            c.name
            for c in contacts
            if c.retired_at is None and (c.countywide or "North" in [a.name for a in c.areas])
        }
    assert sorted(shown) == sorted(expected)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_searching_the_text_finds_what_ilike_finds_in_each_part(app, session, data) -> None:
    """A search looks in Contact.search_text (the parts lower-cased once, joined by line
    breaks): it must find exactly the contacts whose name, job title, what they help with or
    e-mail address ILIKE would find the words in, one part at a time, on either database."""
    from sqlalchemy import or_

    from portal.contacts.directory import ContactSearch, search

    if not session.scalars(select(Contact).where(Contact.name == "Zoë Öztürk")).first():
        session.add(
            Contact(
                name="Zoë Öztürk",
                job_title="Adviser_100%",
                role=ContactRole.SPECIALIST,
                help_with="İlk yardım, STRASSE and Straße",  # noqa: RUF001  (the dotless i is meant)
                phone="+441214960780",
                email="zoe@council.example",
                countywide=True,
            )
        )
        session.commit()
    contacts = list(session.scalars(select(Contact)))
    texts = [
        text
        for c in contacts
        for text in (c.name, c.job_title or "", c.help_with, c.email)
        if len(text) > 2
    ]
    text = data.draw(st.sampled_from(texts))
    start = data.draw(st.integers(0, len(text) - 2))
    words = text[start : start + data.draw(st.integers(2, 12))]
    words = data.draw(st.sampled_from([words, words.upper(), words.swapcase()]))
    # Now and then, words no part holds but two parts side by side would.
    other = data.draw(st.sampled_from(contacts))
    words = data.draw(
        st.sampled_from([words, words, f"{other.name}\n{other.job_title}", "100%", "r_1", "ö"])
    )
    typed = " ".join(words.split())  # as ContactSearch.from_args makes it
    parts = (Contact.name, Contact.job_title, Contact.help_with, Contact.email)
    expected = set(
        session.scalars(
            select(Contact.id).where(
                Contact.retired_at.is_(None),
                or_(*(part.icontains(typed, autoescape=True) for part in parts)),
            )
        )
    )
    with app.test_request_context():
        found = search(ContactSearch(query=typed, include_retired=False, page=1)).page
        ids = {card.id for card in found.items}
        number = 1
        while found.has_next:
            number += 1
            found = search(ContactSearch(query=typed, include_retired=False, page=number)).page
            ids |= {card.id for card in found.items}
    by_area_role_or_countywide = {
        c.id
        for c in contacts
        if c.retired_at is None
        and (
            any(typed.lower() in a.name.lower() for a in c.areas)
            or typed.lower() in c.role.label.lower()
            or (len(typed) >= 4 and "countywide".startswith(typed.lower()) and c.countywide)
        )
    }
    assert ids - by_area_role_or_countywide == expected - by_area_role_or_countywide


def test_a_search_never_matches_across_two_parts_of_a_contact(staff) -> None:
    """Contact.search_text joins a contact's parts with line breaks; a search's spaces are
    made single, so no search holds one, and none finds a name run into a job title."""
    assert names(soup(staff.get("/contacts/", query_string={"q": "Demo-North"}))) != []
    for q in ("Demo-North\nCAF officer", "Demo-North\n\nCAF", "demo-north  caf officer"):
        page = soup(staff.get("/contacts/", query_string={"q": q}))
        assert names(page) == [], q


def test_a_schools_contacts_are_the_directory_as_it_is_now_whoever_changed_it(
    app, client_for, session
) -> None:
    """The areas and an area's key contacts are worked out once per version of the directory
    (contact_directory), which the database itself moves with any change: one made by the
    portal, or straight in the database (a script, psql), is on the next page, and a change
    rolled back takes the page back with it."""
    staff = client_for("school_staff")

    def page() -> tuple[str, list[str]]:
        shown = soup(staff.get("/contacts/"))
        return shown.select_one("#results p").get_text(" ", strip=True), names(shown)

    def straight_in_the_database(sql: str) -> None:
        # On the test's connection, but beneath the portal's engine: nothing of the portal
        # sees the statement go by.
        session.connection().connection.driver_connection.execute(sql)

    intro, before = page()
    assert "Chris Demo-North" in before and "Rugby" not in intro
    assert page() == (intro, before)  # worked out once, the same again
    straight_in_the_database(
        "UPDATE contact SET name = 'Christine Demo-North' WHERE email = 'caf.north@council.example'"
    )
    _, now = page()
    assert "Christine Demo-North" in now and "Chris Demo-North" not in now
    straight_in_the_database("UPDATE area SET name = 'North Warwickshire' WHERE code = 'north'")
    intro, _ = page()
    assert "serve the North Warwickshire area" in intro
    rugby_only = session.scalars(
        select(Contact).where(Contact.areas.any(Area.code == "rugby"), ~Contact.countywide)
    ).first()
    north = session.scalars(select(Area).where(Area.code == "north")).one()
    link = "INSERT INTO contact_area (contact_id, area_id) VALUES ({}, {})"
    straight_in_the_database(link.format(rugby_only.id, north.id))
    _, now = page()
    assert rugby_only.name in now
    # The portal's own change, then one rolled back.
    publisher = client_for("publisher")
    path = f"/contacts/{rugby_only.id}/edit"
    form = _form(
        publisher,
        path,
        name="Robin Demo-Renamed",
        job_title=rugby_only.job_title or "",
        role=rugby_only.role.value,
        help_with=rugby_only.help_with,
        email=rugby_only.email,
        coverage=[str(north.id)],
    )
    assert publisher.post(path, data=form).status_code == 303
    _, now = page()
    assert "Robin Demo-Renamed" in now and rugby_only.name not in now
    savepoint = session.begin_nested()
    straight_in_the_database("DELETE FROM contact_area")
    straight_in_the_database("DELETE FROM contact WHERE NOT countywide")
    _, emptied = page()
    assert "Robin Demo-Renamed" not in emptied and "Christine Demo-North" not in emptied
    savepoint.rollback()
    _, back = page()
    assert "Robin Demo-Renamed" in back and "Christine Demo-North" in back


def test_a_search_finds_the_directory_as_it_is_now_whoever_changed_it(client_for, session) -> None:
    """A search looks through the directory as read once per version (contact_directory),
    which the database itself moves with any change: a contact renamed, retired or moved to
    another area, or an area renamed, straight in the database (a script, psql) or by the
    portal, is what the next search finds; and a change rolled back is undone in it too."""
    staff = client_for("school_staff")

    def found(q: str, htmx: bool = False) -> list[str]:
        headers = {"HX-Request": "true"} if htmx else {}
        response = staff.get("/contacts/", query_string={"q": q}, headers=headers)
        html = response.get_data(as_text=True)
        # The fragment is what goes inside #results.
        page = (
            soup(response)
            if not htmx
            else BeautifulSoup(f'<div id="results">{html}</div>', "html.parser")
        )
        return names(page)

    def straight_in_the_database(sql: str) -> None:
        session.connection().connection.driver_connection.execute(sql)

    assert "Chris Demo-North" in found("Demo-North")
    assert found("Demo-North") == found("Demo-North", htmx=True)
    straight_in_the_database(
        "UPDATE contact SET name = 'Christine Demo-Renamed' "
        "WHERE email = 'caf.north@council.example'"
    )
    assert "Christine Demo-Renamed" in found("Demo-Renamed", htmx=True)
    assert "Chris Demo-North" not in found("Demo-North", htmx=True)
    # The stored search text moves with the name.
    assert found("christine demo-renamed", htmx=True) == ["Christine Demo-Renamed"]
    rugby_before = found("rugby", htmx=True)
    assert rugby_before and "Christine Demo-Renamed" not in rugby_before
    straight_in_the_database("UPDATE area SET name = 'Rugby and Dunchurch' WHERE code = 'rugby'")
    assert found("dunchurch", htmx=True) == rugby_before
    straight_in_the_database(
        "INSERT INTO contact_area (contact_id, area_id) SELECT contact.id, area.id"
        " FROM contact, area"
        " WHERE contact.email = 'caf.north@council.example' AND area.code = 'rugby'"
    )
    assert "Christine Demo-Renamed" in found("dunchurch", htmx=True)
    straight_in_the_database(
        "UPDATE contact SET retired_at = CURRENT_TIMESTAMP "
        "WHERE email = 'caf.north@council.example'"
    )
    assert found("Demo-Renamed", htmx=True) == []
    savepoint = session.begin_nested()
    straight_in_the_database("DELETE FROM contact_area")
    straight_in_the_database("DELETE FROM contact")
    assert found("dunchurch", htmx=True) == []
    savepoint.rollback()
    assert found("dunchurch", htmx=True) == [
        name for name in rugby_before if name != "Christine Demo-Renamed"
    ]


def test_the_head_of_the_page_is_each_persons_own_and_as_the_template_draws_it(
    client_for,
) -> None:
    """The head of the contacts page (the safeguarding box, the actions, the search form) is
    drawn once for each set of areas and of what the person may do (display.directory_head):
    each person still sees the actions that are theirs, whoever asked before them, and the
    head kept is the head the template draws afresh."""
    from portal.contacts import display

    def head(role: str) -> tuple[str, bool, bool, bool]:
        page = soup(client_for(role).get("/contacts/"))
        main = page.select_one("main")
        links = [a.get_text(strip=True) for a in main.select(".council-actions a")]
        return (
            squeeze(str(main).split('<div id="results"')[0]),
            "Add a contact" in links,
            "Download the directory (CSV)" in links,
            main.select_one("#retired") is not None,
        )

    staff, publisher = head("school_staff"), head("publisher")
    assert staff[1:] == (False, False, False)
    assert publisher[1:] == (True, True, True)
    assert head("school_staff") == staff and head("publisher") == publisher
    display._heads.clear()
    assert head("publisher") == publisher and head("school_staff") == staff
    # Searching, the head holds what was typed, drawn afresh.
    searched = soup(client_for("school_staff").get("/contacts/?q=rugby"))
    assert searched.select_one("#q")["value"] == "rugby"


def test_the_area_filter_names_the_areas_as_they_are_now(client_for, session) -> None:
    """The filters are drawn once for each list of areas (portal/components.py): a renamed
    area is a new list, drawn afresh."""
    admin = client_for("la_admin")

    def options() -> list[str]:
        page = soup(admin.get("/contacts/"))
        return [option.get_text(strip=True) for option in page.select("#area option")]

    assert "North" in options()
    north = session.scalars(select(Area).where(Area.code == "north")).one()
    north.name = "North Warwickshire"
    session.commit()
    now = options()
    assert "North Warwickshire" in now and "North" not in now


def test_unknown_filter_values_are_ignored_not_errors(client_for) -> None:
    response = client_for("school_staff").get("/contacts/?role=wizard&area=mars&page=x")
    assert response.status_code == 200


def test_htmx_search_gets_only_the_results(client_for) -> None:
    client = client_for("school_staff")
    response = client.get("/contacts/?q=psychology", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert "Safeguarding" not in html
    assert "Educational Psychology Service" in html


def test_the_search_form_works_without_javascript_and_htmx_enhances_it(client_for) -> None:
    form = soup(client_for("school_staff").get("/contacts/")).select_one('form[role="search"]')
    assert (form["method"], form["action"]) == ("get", "/contacts/")
    assert {field["name"] for field in form.select("input, select") if field.get("name")} == {
        "q",
        "role",
        "area",
    }
    assert form.select_one("button").get_text(strip=True) == "Search"
    assert form["hx-get"] == "/contacts/"
    assert form["hx-target"] == "#results"
    assert form["hx-push-url"] == "true"
    assert "delay:300ms" in form["hx-trigger"]
    assert form["hx-indicator"] == "#search-indicator"


def test_contacts_page_queries_do_not_grow_with_the_directory(
    client_for, session, count_queries
) -> None:
    school_user, admin = client_for("school_staff"), client_for("la_admin")
    pages = [
        (school_user, "/contacts/"),
        (school_user, "/contacts/?q=demo"),
        (admin, "/contacts/"),
        (admin, "/contacts/?q=team&page=2"),
    ]

    def measure() -> list[int]:
        counts = []
        for client, path in pages:
            # Each page worked out in full: nothing kept from a page or a directory before.
            contacts_cards.cards_cache.clear()
            with count_queries() as counter:
                assert client.get(path).status_code == 200
            counts.append(counter.count)
        return counts

    before = measure()
    north = session.scalars(select(Area).where(Area.code == "north")).one()
    for n in range(60):
        session.add(
            Contact(
                name=f"Extra Demo-Team {n}",
                role=list(ContactRole)[n % len(ContactRole)],
                help_with="More of the same",
                phone="+441214960777",
                email=f"extra{n}@council.example",
                countywide=n % 2 == 0,
                areas=[] if n % 2 == 0 else [north],
            )
        )
    session.commit()
    # None grows. (The admin's page 2 of "team" is past the last page at first, which costs
    # a count and the last page as well; with more contacts it is a page of its own.)
    after = measure()
    assert all(now <= then for now, then in zip(after, before, strict=True)), (before, after)
    assert max(before) <= 12


# --- keeping the directory ----------------------------------------------------------------------


def _form(client, path: str, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, path),
        "name": "Pat Demo-Newcomer",
        "job_title": "CAF officer",
        "role": "caf_officer",
        "help_with": "Early help assessments for the Rugby area",
        "phone": "0121 496 0555",
        "email": "Pat.Demo@Council.example",
        "out_of_hours": "",
        "coverage": [],
    }
    data.update(fields)
    return data


def test_a_publisher_adds_a_contact_and_it_is_audited(client_for, session) -> None:
    client = client_for("publisher")
    rugby = session.scalar(select(Area.id).where(Area.code == "rugby"))
    response = client.post(
        "/contacts/new", data=_form(client, "/contacts/new", coverage=[str(rugby)])
    )
    assert response.status_code == 303
    contact = session.scalars(select(Contact).where(Contact.name == "Pat Demo-Newcomer")).one()
    assert contact.phone == "+441214960555"
    assert contact.email == "pat.demo@council.example"
    assert [a.name for a in contact.areas] == ["Rugby"]
    assert contact.last_checked_by.email == "publisher@council.example"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "contact.created")).one()
    assert event.subject_id == contact.id
    assert event.actor.email == "publisher@council.example"
    assert event.detail["values"]["coverage"] == ["Rugby"]
    page = soup(client.get(response.headers["Location"]))
    assert "Pat Demo-Newcomer has been added to the directory." in page.get_text()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"name": "", "help_with": "", "phone": "", "email": "", "role": ""},
            {
                "name": "Enter the contact's name",
                "role": "Choose the contact's role",
                "help_with": "Enter what schools should contact them about",
                "phone": "Enter a telephone number",
                "email": "Enter an e-mail address",
                "coverage": "Choose countywide or at least one area",
            },
        ),
        (
            {"phone": "12345", "email": "not-an-address", "coverage": ["countywide", "1"]},
            {
                "phone": "Enter a UK telephone number, like 0121 496 0000 or 07700 900 982",
                "email": "Enter an e-mail address in the correct format, like name@council.example",
                "coverage": "Choose either countywide or one or more areas, not both",
            },
        ),
    ],
)
def test_bad_input_is_explained_beside_each_field_and_kept(client_for, fields, errors) -> None:
    client = client_for("publisher")
    response = client.post("/contacts/new", data=_form(client, "/contacts/new", **fields))
    page = soup(response)
    assert page.title.get_text().startswith("Error: ")
    summary = [(a["href"], a.get_text(strip=True)) for a in page.select(".govuk-error-summary a")]
    assert summary == [(f"#{name}", message) for name, message in errors.items()]
    for name, message in errors.items():
        assert message in page.select_one(f"#{name}-error").get_text()
    # What was typed is still there.
    for name in ("phone", "email", "name"):
        if name in fields:
            assert page.select_one(f"#{name}")["value"] == fields[name]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(phone=st.text(max_size=30))
def test_any_phone_input_is_saved_as_a_valid_number_or_explained(
    publisher, session, phone: str
) -> None:
    data = _form(
        publisher, "/contacts/new", phone=phone, coverage=["countywide"], name="Hypo Demo-Phone"
    )
    response = publisher.post("/contacts/new", data=data)
    if "\x00" in phone:
        assert response.status_code == 400
        return
    if response.status_code == 303:
        saved = session.scalars(select(Contact).where(Contact.name == "Hypo Demo-Phone")).first()
        assert saved.phone.startswith("+44")
    else:
        page = soup(response)
        assert page.select_one("#phone-error") is not None


@pytest.fixture
def publisher(client_for):
    return client_for("publisher")


def _contact(session, name: str) -> Contact:
    return session.scalars(select(Contact).where(Contact.name == name)).one()


def test_an_edit_is_audited_from_what_to_what(client_for, session) -> None:
    client = client_for("publisher")
    contact = _contact(session, "Educational Psychology Service")
    path = f"/contacts/{contact.id}/edit"
    form = soup(client.get(path))
    assert form.select_one("#phone")["value"] == "0117 496 0600"
    assert form.select_one("#coverage")["value"] == "countywide"
    assert form.select_one("#coverage").has_attr("checked")
    response = client.post(
        path,
        data=_form(
            client,
            path,
            name=contact.name,
            job_title="",
            role="educational_psychology",
            help_with=contact.help_with,
            phone="0117 496 0650",
            email=contact.email,
            coverage=["countywide"],
        ),
    )
    assert response.status_code == 303
    session.expire_all()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "contact.updated")).one()
    assert event.detail["changes"] == {"phone": ["+441174960600", "+441174960650"]}
    assert event.actor.email == "publisher@council.example"
    history = (
        soup(client.get(f"/contacts/{contact.id}"))
        .select_one(".council-history")
        .get_text(" ", strip=True)
    )
    assert "Updated by Priya Demo-Publisher" in history
    assert "Phone: “+441174960600” to “+441174960650”" in history


def test_retiring_hides_a_contact_from_schools_but_keeps_its_history(client_for, session) -> None:
    publisher, staff = client_for("publisher"), client_for("school_staff")
    contact = _contact(session, "North Targeted Youth Support")
    confirm = soup(publisher.get(f"/contacts/{contact.id}/retire"))
    assert "Are you sure you want to retire North Targeted Youth Support?" in confirm.h1.get_text()
    response = publisher.post(
        f"/contacts/{contact.id}/retire",
        data={"csrf_token": csrf_token(publisher, f"/contacts/{contact.id}/retire")},
    )
    assert response.status_code == 303
    assert "North Targeted Youth Support" not in names(soup(staff.get("/contacts/")))
    assert staff.get(f"/contacts/{contact.id}").status_code == 404
    kept = soup(publisher.get(f"/contacts/{contact.id}"))
    assert "Retired" in kept.get_text()
    assert "Retired by Priya Demo-Publisher" in kept.select_one(".council-history").get_text(
        " ", strip=True
    )
    publisher.post(
        f"/contacts/{contact.id}/reinstate",
        data={"csrf_token": csrf_token(publisher, f"/contacts/{contact.id}")},
    )
    assert "North Targeted Youth Support" in names(soup(staff.get("/contacts/")))


def test_contacts_not_checked_for_a_year_need_checking_until_marked(client_for, session) -> None:
    client = client_for("publisher")
    page = soup(client.get("/contacts/needs-checking"))
    stale = [a.get_text(strip=True) for a in page.select("tbody a")]
    assert sorted(stale) == sorted(
        f"{area} Targeted Youth Support"
        for area in ("North", "Nuneaton and Bedworth", "Rugby", "Warwick", "Stratford")
    )
    contact = _contact(session, "Rugby Targeted Youth Support")
    token = csrf_token(client, "/contacts/needs-checking")
    row = client.post(
        f"/contacts/{contact.id}/check",
        data={"csrf_token": token, "from": "list"},
        headers={"HX-Request": "true"},
    )
    assert "<html" not in row.get_data(as_text=True)
    assert "Checked" in soup(row).get_text()
    plain = client.post(f"/contacts/{contact.id}/check", data={"csrf_token": token, "from": "list"})
    assert plain.headers["Location"] == "/contacts/needs-checking"
    after = [
        a.get_text(strip=True)
        for a in soup(client.get("/contacts/needs-checking")).select("tbody a")
    ]
    assert "Rugby Targeted Youth Support" not in after
    assert len(after) == 4
    checked = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact.checked")
    ).all()
    assert [e.subject_id for e in checked] == [contact.id, contact.id]


def test_how_long_before_a_contact_needs_checking_is_configurable(make_app, session) -> None:
    from tests.conftest import sign_in

    client = make_app(CONTACT_CHECK_MONTHS=1).test_client()
    sign_in(client, "publisher@council.example")
    page = soup(client.get("/contacts/needs-checking"))
    # Area contacts were checked 30 to 36 days ago: a month's limit catches most of them.
    assert len(page.select("tbody tr")) == 20
    assert "Contacts nobody has checked for 1 months" in page.get_text()


def test_the_directory_downloads_as_csv(client_for) -> None:
    response = client_for("caf_officer").get("/contacts/export.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="contacts-')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == ACTIVE_CONTACTS
    caf = next(r for r in rows if r["Name"] == "Chris Demo-North")
    assert (caf["Role"], caf["Phone"], caf["Areas"]) == ("CAF officer", "0121 496 0100", "North")


def test_csv_cells_cannot_smuggle_spreadsheet_formulas(client_for, session) -> None:
    contact = _contact(session, "Educational Psychology Service")
    contact.help_with = '=HYPERLINK("http://evil.example")'
    session.commit()
    body = client_for("la_admin").get("/contacts/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body


# --- posters ------------------------------------------------------------------------------------


def test_a_large_teams_key_people_are_shown_and_the_rest_are_a_link_away(
    client_for, session
) -> None:
    """A big council may have dozens of one role in an area: a school's page shows five of
    each (its poster four), and links to the whole list."""
    north = session.scalars(select(Area).where(Area.code == "north")).one()
    for n in range(8):
        session.add(
            Contact(
                name=f"Aaron Demo-Worker {n}",
                role=ContactRole.FAMILY_SUPPORT,
                help_with="Family support in the north",
                phone="+441214960778",
                email=f"family{n}@council.example",
                areas=[north],
            )
        )
    session.commit()
    total = session.scalar(
        select(func.count(Contact.id)).where(
            Contact.role == ContactRole.FAMILY_SUPPORT,
            Contact.retired_at.is_(None),
            Contact.areas.any(Area.id == north.id),
        )
    )
    staff = client_for("school_staff")
    page = soup(staff.get("/contacts/"))
    family = [c["title"] for c in cards(page) if c["title"].startswith("Family support:")]
    # By name: the demo's own family support worker sorts after these.
    assert family == [f"Family support: Aaron Demo-Worker {n}" for n in range(5)]
    link = page.find("a", string=f"See all {total} Family support contacts")
    assert link is not None
    everyone = soup(staff.get(link["href"]))
    assert everyone.select_one("#results h2").get_text(strip=True) == f"{total} contacts"
    poster = soup(staff.get("/contacts/poster"))
    rows = [th.get_text(" ", strip=True) for th in poster.select('tbody th[scope="row"]')]
    assert sum(row.startswith("Family support: Aaron Demo-Worker") for row in rows) == 4


def test_a_school_prints_its_own_poster(client_for) -> None:
    page = soup(client_for("school_staff").get("/contacts/poster"))
    posters = page.select("article.council-poster")
    assert len(posters) == 1
    poster = posters[0]
    assert poster.h1.get_text(strip=True) == "Oakfield Primary School"
    text = poster.get_text(" ", strip=True)
    assert "call 999" in text
    assert "01632 960 000" in text
    assert "key contacts as at" in text
    rows = [th.get_text(" ", strip=True) for th in poster.select('tbody th[scope="row"]')]
    assert len(rows) == NORTH_AND_COUNTYWIDE
    assert "Rugby" not in text


def test_a_council_officer_prints_every_school_in_an_area(client_for, session) -> None:
    north = session.scalars(select(Area).where(Area.code == "north")).one()
    expected = sorted(session.scalars(select(School.name).where(School.area_id == north.id)))
    client = client_for("la_admin")
    chooser = soup(client.get("/contacts/poster"))
    link = chooser.find("a", string="Posters for every school in the North area")["href"]
    page = soup(client.get(link))
    assert [p.h1.get_text(strip=True) for p in page.select("article.council-poster")] == expected


def test_an_areas_posters_print_a_batch_at_a_time(client_for, session, monkeypatch) -> None:
    """A large council's area has a thousand schools: its posters come in batches."""
    from portal.contacts import routes

    monkeypatch.setattr(routes, "POSTERS_PER_PRINT", 3)
    north = session.scalars(select(Area).where(Area.code == "north")).one()
    expected = list(
        session.scalars(
            select(School.name).where(School.area_id == north.id).order_by(School.name, School.id)
        )
    )
    assert len(expected) > 3
    client = client_for("la_admin")
    printed: list[str] = []
    path = f"/contacts/poster?area={north.id}"
    while path:
        page = soup(client.get(path))
        printed += [p.h1.get_text(strip=True) for p in page.select("article.council-poster")]
        assert len(page.select("article.council-poster")) <= 3
        assert f"The area has {len(expected)} schools" in page.get_text()
        following = page.select_one(".govuk-pagination__next a")
        path = following["href"] if following else ""
    assert printed == expected


def test_another_schools_poster_is_not_found(client_for, session) -> None:
    riverside = session.scalar(select(School.id).where(School.urn == 140201))
    assert client_for("school_staff").get(f"/contacts/poster?school={riverside}").status_code == 404


def test_months_before_clamps_to_the_end_of_the_month() -> None:
    from datetime import UTC, datetime

    from portal.clock import months_before

    assert months_before(datetime(2027, 3, 31, 9, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, 9, tzinfo=UTC
    )
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 12) == datetime(2026, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2027, 2, 28, tzinfo=UTC)


def test_only_those_who_keep_the_directory_can_find_retired_contacts(client_for) -> None:
    publisher = soup(client_for("publisher").get("/contacts/?q=behaviour&retired=1"))
    assert names(publisher) == ["Behaviour Support Outreach Team"]
    assert "Retired" in publisher.select_one(".govuk-summary-card__title").get_text()
    assert names(soup(client_for("publisher").get("/contacts/?q=behaviour"))) == []
    # A school user asking for them is simply not given them.
    assert names(soup(client_for("school_staff").get("/contacts/?q=behaviour&retired=1"))) == []
    assert soup(client_for("school_staff").get("/contacts/")).select_one("#retired") is None


def test_the_written_out_contact_card_is_the_govuk_macros_card(app, session) -> None:
    """Contact cards are written out for speed: they must stay what govukSummaryList makes."""
    template = app.jinja_env.from_string(
        '{% from "macros/contacts.html" import contact_card, govuk_contact_card %}'
        "{{ contact_card(c, level, coverage) }}|{{ govuk_contact_card(c, level, coverage) }}"
    )
    contacts = session.scalars(select(Contact)).all()
    assert any(c.is_retired for c in contacts) and any(c.job_title for c in contacts)
    with app.test_request_context():
        for contact in contacts:
            for level, coverage in ((3, True), (4, False)):
                ours, theirs = template.render(c=contact, level=level, coverage=coverage).split("|")
                assert squeeze(ours) == squeeze(theirs), contact.name


def test_cards_read_as_rows_show_what_the_contacts_themselves_show(app, session) -> None:
    """A school's page and a search read their cards as plain rows (the areas each contact
    serves a row each): every card must be what the contact itself would show."""
    from portal.contacts.cards import ContactCard
    from portal.contacts.directory import ContactSearch, search
    from portal.contacts.key_contacts import PAGE_PER_ROLE, key_contacts

    north, rugby = (
        session.scalars(select(Area).where(Area.code == code)).one() for code in ("north", "rugby")
    )
    # Serving two areas: named in the areas' name order, whatever order they were given in.
    session.add(
        Contact(
            name="Aaron Demo-Both",
            role=ContactRole.CAF_OFFICER,
            help_with="Both areas",
            phone="+441214960779",
            email="both@council.example",
            areas=[rugby, north],
        )
    )
    session.commit()
    expected = {c.id: ContactCard.of(c) for c in session.scalars(select(Contact))}
    assert expected[max(expected)].coverage == "North, Rugby"
    with app.test_request_context():
        everyone: list[ContactCard] = []
        number = 1
        while True:
            page = search(ContactSearch(include_retired=True, page=number)).page
            everyone += page.items
            if not page.has_next:
                break
            number += 1
        assert len(everyone) == page.total == len(expected)
        assert {card.id: card for card in everyone} == expected
        assert any(card.is_retired for card in everyone)
        grouped = key_contacts([north.id], PAGE_PER_ROLE)
        shown = [card for view in grouped for card in view.contacts]
        assert len(shown) == NORTH_AND_COUNTYWIDE + 1
        assert all(card == expected[card.id] for card in shown)


# How templates/contacts/index.html drew a school's groups before display.py wrote them out.
_GROUPS_AS_THE_TEMPLATE_DREW_THEM = """
{% for view in groups %}
  <h3 class="govuk-heading-m">{{ view.group.value }}</h3>
  {{ contact_cards(view.contacts, heading_level=4) }}
  {% if view.more %}
    <ul class="govuk-list">
    {% for role, (total, countywide) in view.more.items() %}
      {% set area = "countywide" if countywide
         else (my_areas[0].id if my_areas | length == 1 else None) %}
      <li><a class="govuk-link" href="{{ url_for('contacts.index', role=role.value, area=area)
        }}">See all {{ total }} {{ role.label }} contacts</a></li>
    {% endfor %}
    </ul>
  {% endif %}
{% endfor %}
"""


def test_a_schools_groups_written_out_are_identical_to_the_template(app, session) -> None:
    """contact_groups_html (display.py) draws a school's groups once per answer of
    key_contacts: the markup the template's loop drew, whitespace between tags aside, with
    "see all" links to one area, to the countywide ones, and to every area."""
    from portal.contacts.display import contact_groups_html
    from portal.contacts.key_contacts import key_contacts

    north, rugby = (
        session.scalars(select(Area).where(Area.code == code)).one() for code in ("north", "rugby")
    )
    with app.test_request_context():
        template = app.jinja_env.from_string(_GROUPS_AS_THE_TEMPLATE_DREW_THEM)
        for areas in ([north], [north, rugby]):
            # One of each role, so that every role with more has its link.
            groups = key_contacts([area.id for area in areas], 1)
            assert any(view.more for view in groups)
            single = areas[0].id if len(areas) == 1 else None
            drawn = contact_groups_html(groups, single)
            assert contact_groups_html(groups, single) is drawn  # drawn once
            expected = template.render(groups=groups, my_areas=areas)
            assert squeeze(str(drawn)) == squeeze(expected)
            assert "area=countywide" in drawn


def squeeze(html: str) -> str:
    """The markup with the whitespace between and inside tags that browsers ignore removed."""
    html = re.sub(r">\s+", ">", html.strip())
    return re.sub(r"\s+<", "<", html)


# --- the annual letter --------------------------------------------------------------------------


def _letters(page: BeautifulSoup) -> list[BeautifulSoup]:
    return page.select("article.council-letter")


def _school_id(session, urn: int) -> int:
    return session.scalar(select(School.id).where(School.urn == urn))


def test_a_school_sees_its_own_letter_addressed_to_its_head_teacher(client_for) -> None:
    from portal.clock import london_time

    page = soup(client_for("school_staff").get("/contacts/letter"))
    (letter,) = _letters(page)
    assert letter.h1.get_text(strip=True) == "Your key contacts for Oakfield Primary School"
    assert len(page.select("h1")) == 1
    address = letter.select_one("address").get_text(" ", strip=True)
    assert address.startswith("Hannah Demo-Head Head teacher Oakfield Primary School")
    text = letter.get_text(" ", strip=True)
    assert "Dear Hannah Demo-Head," in text
    assert "Yours sincerely," in text
    assert london_time(utcnow(), "%-d %B %Y") in text  # dated
    assert "Arden County Council" in letter.select_one(".council-letter__from").get_text()
    # The key contact in the area's team first, and whom to escalate to.
    assert "Ask Chris Demo-North, CAF officer, first: telephone 0121 496 0100" in text
    assert "Nell Demo-Secondary" in text and "Noah Demo-Primary" in text
    # The safeguarding routes, and the way to CAF support.
    assert "call 999" in text
    assert "front door (MASH) on 01632 960 000" in text
    support = letter.find("a", string="Ask a CAF officer for support")
    assert support["href"] == "http://localhost/support/new"
    # The school's own contacts (its area's and the countywide ones), each with its check.
    rows = letter.select('tbody th[scope="row"]')
    assert len(rows) == NORTH_AND_COUNTYWIDE
    assert "Rugby" not in text
    assert letter.select_one("thead").get_text(" ", strip=True).endswith("Last checked")
    assert all(
        re.fullmatch(r"\d{1,2} \w{3} \d{4}", td.get_text(strip=True))
        for td in letter.select("tbody td.council-paper-table__checked")
    )


def test_a_school_with_no_head_teacher_is_written_to_as_the_head_teacher(
    client_for, session
) -> None:
    hartshill = _school_id(session, 125602)
    (letter,) = _letters(
        soup(client_for("caf_officer").get(f"/contacts/letter?school={hartshill}"))
    )
    assert (
        letter.select_one("address")
        .get_text(" ", strip=True)
        .startswith("The head teacher Hartshill Green Primary School")
    )
    text = letter.get_text(" ", strip=True)
    assert "Dear head teacher," in text and "Yours faithfully," in text


def test_another_schools_letter_is_not_found_and_only_the_council_prints_them_all(
    client_for, session
) -> None:
    riverside = _school_id(session, 140201)
    staff = client_for("school_staff")
    assert staff.get(f"/contacts/letter?school={riverside}").status_code == 404
    assert staff.get("/contacts/letter?all=1").status_code == 403
    trust = soup(client_for("trust_lead").get("/contacts/letter"))
    academies = sorted(
        session.scalars(select(School.name).where(School.trust.has(group_uid="TR01001")))
    )
    assert (
        sorted(
            letter.h1.get_text(strip=True).removeprefix("Your key contacts for ")
            for letter in _letters(trust)
        )
        == academies
    )


def test_the_council_prints_an_areas_letters_or_every_schools(
    client_for, session, monkeypatch
) -> None:
    from portal.contacts import routes

    admin = client_for("la_admin")
    chooser = soup(admin.get("/contacts/letter"))
    assert chooser.h1.get_text(strip=True) == "Annual letters of key contacts"
    north = chooser.find("a", string="Letters for every school in the North area")["href"]
    expected = sorted(session.scalars(select(School.name).where(School.area.has(code="north"))))
    printed = [
        letter.h1.get_text(strip=True).removeprefix("Your key contacts for ")
        for letter in _letters(soup(admin.get(north)))
    ]
    assert printed == expected
    # Every school, a batch at a time.
    monkeypatch.setattr(routes, "LETTERS_PER_PRINT", 7)
    every = list(session.scalars(select(School.name).order_by(School.name, School.id)))
    seen: list[str] = []
    path = chooser.find("a", string="Letters for every school")["href"]
    while path:
        page = soup(admin.get(path))
        letters = _letters(page)
        assert len(letters) <= 7
        assert len(page.select("h1")) == len(letters)  # one heading per printed page
        seen += [
            letter.h1.get_text(strip=True).removeprefix("Your key contacts for ")
            for letter in letters
        ]
        following = page.select_one(".govuk-pagination__next a")
        path = following["href"] if following else ""
    assert seen == every


def _outbox(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_the_letters_are_emailed_one_to_each_head_and_the_page_says_who_had_none(
    client_for, session
) -> None:
    north = session.scalars(select(Area).where(Area.code == "north")).one()
    oakfield = session.scalars(select(School).where(School.urn == 125601)).one()
    # A co-head at Oakfield gets a letter of their own; a deactivated head gets none.
    for email, name, active in (
        ("cohead@oakfield.example", "Cleo Demo-Cohead", True),
        ("former.head@oakfield.example", "Fred Demo-Former", False),
    ):
        session.add(
            User(
                email=email,
                display_name=name,
                password_hash="x",
                is_active=active,
                memberships=[Membership(role=Role.HEAD_TEACHER, school=oakfield)],
            )
        )
    session.commit()
    before = len(_outbox(session))
    publisher = client_for("publisher")
    form = soup(publisher.get("/contacts/letter")).select_one(
        'form[action="/contacts/letter/send"]'
    )
    assert form.select_one("select#area option").get_text(strip=True) == "Every school"
    response = publisher.post(
        "/contacts/letter/send",
        data={"csrf_token": csrf_token(publisher, "/contacts/letter"), "area": str(north.id)},
    )
    assert response.status_code == 303
    assert re.fullmatch(r"/contacts/letter/sent/\d+", response.headers["Location"])
    session.expire_all()
    sent = _outbox(session)[before:]
    assert sorted(m.recipient for m in sent) == [
        "cohead@oakfield.example",
        "head@oakfield.example",
    ]
    mail = next(m for m in sent if m.recipient == "head@oakfield.example")
    assert mail.subject == "Your key contacts from Arden County Council: Oakfield Primary School"
    assert "Dear Cleo Demo-Cohead and Hannah Demo-Head," in mail.body
    assert "front door (MASH) on 01632 960 000" in mail.body
    assert "call 999" in mail.body
    assert "Ask Chris Demo-North, CAF officer, first" in mail.body
    assert "http://localhost/support/new" in mail.body
    assert "Last checked" in mail.body
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact.letters_sent")
    ).one()
    assert event.actor.email == "publisher@council.example"
    assert (event.subject_type, event.subject_id) == ("Area", north.id)
    assert sorted(event.detail["messages"]) == sorted(m.id for m in sent)
    north_schools = session.scalars(select(School).where(School.area_id == north.id)).all()
    headless = sorted(s.name for s in north_schools if s.id != oakfield.id)
    assert len(event.detail["without_head_teacher"]) == len(headless) == 7

    page = soup(publisher.get(response.headers["Location"]))
    text = page.get_text(" ", strip=True)
    assert "2 letters to head teachers at 1 of 8 schools." in text
    assert "0 sent so far, 2 waiting to be sent." in text
    assert page.select_one("h2").get_text(strip=True) == (
        "7 schools had no head teacher to send to"
    )
    assert [th.get_text(strip=True) for th in page.select("tbody th")] == headless
    # Once the outbox's worker has sent them (and failed one), the page says so.
    sent[0].status = OutboxStatus.SENT
    sent[1].status = OutboxStatus.FAILED
    session.commit()
    again = soup(publisher.get(response.headers["Location"])).get_text(" ", strip=True)
    assert "1 sent so far, 1 could not be sent." in again


def test_letters_to_every_school_and_a_choice_that_is_not_one(client_for, session) -> None:
    admin = client_for("la_admin")
    token = csrf_token(admin, "/contacts/letter")
    before = session.scalar(select(func.count(OutboxMessage.id)))
    wrong = admin.post("/contacts/letter/send", data={"csrf_token": token, "area": "mars"})
    page = soup(wrong)
    assert page.title.get_text().startswith("Error: ")
    assert page.select_one(".govuk-error-summary a")["href"] == "#area"
    assert page.select_one("#area-error") is not None
    assert session.scalar(select(func.count(OutboxMessage.id))) == before
    response = admin.post("/contacts/letter/send", data={"csrf_token": token, "area": ""})
    session.expire_all()
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact.letters_sent")
    ).one()
    open_schools = session.scalar(
        select(func.count(School.id)).where(School.status == SchoolStatus.OPEN)
    )
    assert event.detail["schools"] == open_schools
    # One letter for each of the demo's active head teachers at an open school.
    heads = (
        select(Membership.user_id, Membership.school_id)
        .join(User, User.id == Membership.user_id)
        .join(School, School.id == Membership.school_id)
        .where(
            Membership.role == Role.HEAD_TEACHER,
            User.is_active.is_(True),
            School.status == SchoolStatus.OPEN,
        )
    )
    found = session.execute(heads).all()
    letters, schools = len(found), len({school_id for _, school_id in found})
    assert letters >= 2
    assert len(event.detail["messages"]) == letters
    text = soup(admin.get(response.headers["Location"])).get_text(" ", strip=True)
    assert f"{letters} letters to head teachers at {schools} of {open_schools} schools." in text
    assert "head teachers of every school" in text


def test_only_those_who_keep_the_directory_send_the_letters(client_for) -> None:
    officer = client_for("caf_officer")
    chooser = soup(officer.get("/contacts/letter"))
    assert chooser.select_one('form[action="/contacts/letter/send"]') is None
    token = csrf_token(officer, "/contacts/letter")
    assert officer.post("/contacts/letter/send", data={"csrf_token": token}).status_code == 403


def test_the_letters_page_offers_only_what_the_person_may_print_or_send(client_for) -> None:
    """A training coordinator sees every school's contacts but neither prints every school's
    letters at once nor e-mails them: the page offers an area's letters, nothing it would
    then refuse."""
    coordinator = client_for("training_coordinator")
    page = soup(coordinator.get("/contacts/letter"))
    links = [a["href"] for a in page.select("main a.govuk-link")]
    assert "/contacts/letter?all=1" not in links
    assert any(link.startswith("/contacts/letter?area=") for link in links)
    assert page.select_one('form[action="/contacts/letter/send"]') is None
    assert "e-mail them" not in page.get_text(" ", strip=True)
    for link in links:
        assert coordinator.get(link).status_code == 200, link
    # Those who may are still offered both.
    publisher = soup(client_for("publisher").get("/contacts/letter"))
    assert publisher.find("a", string="Letters for every school") is not None
    assert "e-mail them to every head teacher" in publisher.get_text(" ", strip=True)


def test_contact_cards_say_when_each_contact_was_last_checked(client_for) -> None:
    found = cards(soup(client_for("school_staff").get("/contacts/")))
    assert all(re.fullmatch(r"\d{1,2} \w+ \d{4}", card["Last checked"]) for card in found)
    poster = soup(client_for("school_staff").get("/contacts/poster"))
    checked = poster.select("article.council-poster tbody td.council-paper-table__checked")
    assert len(checked) == NORTH_AND_COUNTYWIDE
