"""Each role lands on a home page made for it, and is offered only what it may use."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from portal.access import Principal
from portal.navigation import SECTIONS, Section


def html(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def nav_links(page: BeautifulSoup) -> list[str]:
    nav = page.select_one('nav[aria-label="Sections of the portal"]')
    return [a.get_text(strip=True) for a in nav.select("a")]


@pytest.mark.parametrize(
    ("role", "heading", "caption"),
    [
        ("head_teacher", "Oakfield Primary School", "Hannah Demo-Head"),
        ("school_staff", "Oakfield Primary School", "Sol Demo-Staff"),
        ("academy_head", "Riverside Academy", "Ravi Demo-Head"),
        ("trust_lead", "Meadow Learning Trust", "Morgan Demo-Trust"),
        ("caf_officer", "Chris Demo-North", "Arden County Council"),
        ("publisher", "Priya Demo-Publisher", "Arden County Council"),
        ("la_admin", "Alex Demo-Admin", "Arden County Council"),
    ],
)
def test_home_page_names_who_and_where(client_for, role: str, heading: str, caption: str) -> None:  # type: ignore[no-untyped-def]
    page = html(client_for(role).get("/"))
    assert page.h1.get_text(strip=True) == heading
    assert page.select_one(".govuk-caption-l").get_text(strip=True) == caption


def test_a_school_user_sees_their_schools_facts(client_for) -> None:  # type: ignore[no-untyped-def]
    page = html(client_for("school_staff").get("/"))
    facts = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in page.select(".govuk-summary-list__row")
    }
    assert facts == {
        "URN": "125601",
        "Type": "Community school",
        "Phase": "Primary",
        "Pupils on roll": "412",
        "Area": "North",
    }
    assert "School staff, Oakfield Primary School" in page.select_one(".council-user").get_text()


def test_a_trust_lead_sees_every_academy_in_the_trust(client_for) -> None:  # type: ignore[no-untyped-def]
    page = html(client_for("trust_lead").get("/"))
    schools = [a.get_text(strip=True) for a in page.select("main ul.govuk-list a")]
    assert schools == [
        "Alcester Grammar Academy",
        "Atherstone Meadows Primary School",
        "Camp Hill Primary Academy",
        "Riverside Academy",
        "Stratford Avenue Special Academy",
    ]


def test_a_caf_officer_is_shown_their_area(client_for) -> None:  # type: ignore[no-untyped-def]
    page = html(client_for("caf_officer").get("/"))
    assert "CAF officer for the North area" in page.select_one(".council-user").get_text()


# The menu's short labels (the home page gives each section its full title).
ALL_SECTIONS = ["Home", "Contacts", "CAF support", "Services"]


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("school_staff", [*ALL_SECTIONS, "Buy-back", "Schools"]),
        # CAF officers have no part in buy-back.
        ("caf_officer", [*ALL_SECTIONS, "Schools"]),
        ("la_admin", [*ALL_SECTIONS, "Buy-back", "Schools", "Users", "Administration"]),
    ],
)
def test_navigation_offers_the_installed_sections_the_role_may_use(
    client_for, role: str, links: list[str]
) -> None:  # type: ignore[no-untyped-def]
    page = html(client_for(role).get("/"))
    assert nav_links(page) == links
    assert page.select_one('nav button[type="submit"]').get_text(strip=True) == "Sign out"


def test_nobody_signed_in_gets_no_navigation(client) -> None:  # type: ignore[no-untyped-def]
    page = html(client.get("/sign-in"))
    assert page.select_one('nav[aria-label="Sections of the portal"]') is None
    assert "Sign out" not in page.get_text()


def _installed(app: Flask, *endpoints: str) -> None:
    for endpoint in endpoints:
        app.view_functions[endpoint] = lambda: "stub"


CONTACTS, SUPPORT, SERVICES = "Local contacts", "CAF officer support", "Services for schools"
BUYBACK, SCHOOLS = "Buy-back", "Schools"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "school_staff",
            [
                "Local contacts",
                "CAF officer support",
                "Services for schools",
                "Buy-back",
                "Schools",
            ],
        ),
        (
            "head_teacher",
            [
                "Local contacts",
                "CAF officer support",
                "Services for schools",
                "Buy-back",
                "Schools",
                "Users",
            ],
        ),
        (
            "caf_officer",
            ["Local contacts", "CAF officer support", "Services for schools", "Schools"],
        ),
        ("publisher", ["Local contacts", "Services for schools", "Buy-back", "Schools"]),
        ("la_admin", [s.title for s in SECTIONS]),
    ],
)
def test_each_role_is_offered_exactly_its_sections_once_they_exist(
    app: Flask, session, role: str, expected: list[str]
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from portal.models import User
    from portal.navigation import sections_for
    from tests.conftest import ROLE_ACCOUNTS

    user = session.scalars(select(User).where(User.email == ROLE_ACCOUNTS[role])).one()
    with app.test_request_context():
        # As if every later capability's blueprint were installed.
        real = dict(app.view_functions)
        try:
            _installed(app, *(s.endpoint for s in SECTIONS))
            offered: list[Section] = sections_for(Principal.of(user))
        finally:
            app.view_functions.clear()
            app.view_functions.update(real)
    assert [s.title for s in offered] == expected


def test_home_links_to_the_persons_own_account(client_for) -> None:  # type: ignore[no-untyped-def]
    school = html(client_for("school_staff").get("/"))
    assert school.find("a", string="Change your password")["href"] == "/account/password"
    assert school.find("a", string="Your authenticator app") is None
    council = html(client_for("caf_officer").get("/"))
    assert council.find("a", string="Your authenticator app")["href"] == "/account/two-factor"


def test_a_caf_officers_home_counts_their_queue_with_links_to_it(client_for) -> None:  # type: ignore[no-untyped-def]
    """The demo's North queue: two officers share it (portal/demo.py, _caseload)."""
    officer = client_for("caf_officer")
    page = html(officer.get("/"))
    section = page.select_one("#support-queue").find_next("ul")
    links = {a["id"]: (a.get_text(strip=True), a["href"]) for a in section.select("a")}
    assert links == {
        "queue-new": ("6 new", "/support/?status=new"),
        "queue-due-today": ("2 due today", "/support/?due=today"),
        "queue-overdue": ("2 overdue", "/support/?due=overdue"),
        "queue-mine": ("2 assigned to you", "/support/?owner=mine"),
    }
    # Each link lists exactly the requests it counts.
    for text, href in links.values():
        queue = html(officer.get(href))
        count = int(text.split()[0])
        assert len(queue.select("#queue tbody tr")) == count, href
    # The colleague's home counts their own.
    colleague = html(client_for("caf2.north@council.example").get("/"))
    assert colleague.select_one("#queue-mine").get_text(strip=True) == "2 assigned to you"


@pytest.mark.parametrize("role", ["la_admin", "publisher", "head_teacher", "school_staff"])
def test_only_caf_officers_have_a_support_queue_on_their_home(client_for, role: str) -> None:  # type: ignore[no-untyped-def]
    page = html(client_for(role).get("/"))
    assert page.select_one("#support-queue") is None
