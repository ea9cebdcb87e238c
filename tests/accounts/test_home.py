"""Each role lands on a home page made for it, and is offered only what it may use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from portal.access import Principal
from portal.clock import london_time
from portal.models import (
    BuybackWindow,
    Cohort,
    School,
    SupportRequest,
    SupportStatus,
    User,
)
from portal.navigation import SECTIONS, Section
from tests.helpers.html import ok_soup as html
from tests.helpers.html import soup


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
        ("training_coordinator", "Tamsin Demo-Training", "Arden County Council"),
    ],
)
def test_home_page_names_who_and_where(client_for, role: str, heading: str, caption: str) -> None:
    page = html(client_for(role).get("/"))
    assert page.h1.get_text(strip=True) == heading
    assert page.select_one(".govuk-caption-l").get_text(strip=True) == caption


def test_a_school_user_sees_their_schools_facts(client_for) -> None:
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


def test_a_trust_lead_sees_every_academy_in_the_trust(client_for) -> None:
    page = html(client_for("trust_lead").get("/"))
    schools = [th.get_text(strip=True) for th in page.select("#by-school tbody th")]
    assert schools == [
        "Alcester Grammar Academy",
        "Atherstone Meadows Primary School",
        "Camp Hill Primary Academy",
        "Riverside Academy",
        "Stratford Avenue Special Academy",
    ]


def test_a_caf_officer_is_shown_their_area(client_for) -> None:
    page = html(client_for("caf_officer").get("/"))
    assert "CAF officer for the North area" in page.select_one(".council-user").get_text()


# The menu's short labels (the home page gives each section its full title).
ALL_SECTIONS = ["Home", "Contacts", "CAF support", "Services"]


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("school_staff", [*ALL_SECTIONS, "Buy-back", "Training", "Schools"]),
        # CAF officers have no part in buy-back.
        ("caf_officer", [*ALL_SECTIONS, "Training", "Schools"]),
        # Administrators reach Users from Administration: the menu stays on one line.
        ("la_admin", [*ALL_SECTIONS, "Buy-back", "Training", "Schools", "Administration"]),
    ],
)
def test_navigation_offers_the_installed_sections_the_role_may_use(
    client_for, role: str, links: list[str]
) -> None:
    page = html(client_for(role).get("/"))
    assert nav_links(page) == links
    assert page.select_one('nav button[type="submit"]').get_text(strip=True) == "Sign out"


def test_nobody_signed_in_gets_no_navigation(client) -> None:
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
                "Training",
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
                "Training",
                "Schools",
                "Users",
            ],
        ),
        (
            "caf_officer",
            [
                "Local contacts",
                "CAF officer support",
                "Services for schools",
                "Training",
                "Schools",
            ],
        ),
        (
            "publisher",
            ["Local contacts", "Services for schools", "Buy-back", "Training", "Schools"],
        ),
        ("la_admin", [s.title for s in SECTIONS]),
    ],
)
def test_each_role_is_offered_exactly_its_sections_once_they_exist(
    app: Flask, session, role: str, expected: list[str]
) -> None:
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


def test_a_training_coordinators_home_is_the_councils_without_other_teams_work(
    client_for,
) -> None:
    """Council staff's home, with what the coordinator may use: every school's contacts,
    services and facts; no school of their own, support queue, buy-back or users. What needs
    doing there is training's own, if anything (portal/training/home.py)."""
    page = html(client_for("training_coordinator").get("/"))
    assert words(page.select_one(".council-user")) == (
        "Signed in as coordinator@council.example: Training coordinator"
    )
    assert page.find("a", string="Your authenticator app")["href"] == "/account/two-factor"
    for not_theirs in ("#support-queue", "#by-school", ".govuk-summary-list"):
        assert page.select_one(not_theirs) is None, not_theirs
    links = nav_links(page)
    assert {"Home", "Contacts", "Services", "Schools"} <= set(links)
    assert not {"CAF support", "Buy-back", "Users", "Administration"} & set(links)
    sections = [a.get_text(strip=True) for a in page.select(".council-section-list a")]
    assert {CONTACTS, SERVICES, SCHOOLS} <= set(sections)
    assert not {SUPPORT, BUYBACK, "Users", "Administration"} & set(sections)
    for things in to_do(page).values():
        assert all(thing.href.startswith("/training/") for thing in things), things
    # The demo's session held two days ago whose register nobody has taken.
    [register] = to_do(page)["Training"]
    assert register.text == "Take the register: Emotion coaching in the classroom"
    assert register.hint.startswith("Held on ")


def test_home_links_to_the_persons_own_account(client_for) -> None:
    school = html(client_for("school_staff").get("/"))
    assert school.find("a", string="Change your password")["href"] == "/account/password"
    assert school.find("a", string="Your authenticator app") is None
    council = html(client_for("caf_officer").get("/"))
    assert council.find("a", string="Your authenticator app")["href"] == "/account/two-factor"


def test_a_caf_officers_home_counts_their_queue_with_links_to_it(client_for) -> None:
    """The demo's North queue: two officers share it (portal_seed/demo/support.py, add_caseload)."""
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
def test_only_caf_officers_have_a_support_queue_on_their_home(client_for, role: str) -> None:
    page = html(client_for(role).get("/"))
    assert page.select_one("#support-queue") is None


# --- what needs doing (issue #17, 8) ------------------------------------------------------------


@dataclass(frozen=True)
class Thing:
    """One thing a home page lists to do, as its person sees it."""

    text: str
    href: str
    hint: str
    status: str


def words(element) -> str:
    return " ".join(element.get_text(" ").split()) if element is not None else ""


def to_do(page: BeautifulSoup) -> dict[str, list[Thing]]:
    """Each list under "What needs doing", by its heading: each thing's link, hint, status."""
    assert page.select_one("h2#to-do").get_text(strip=True) == "What needs doing"
    found = {}
    for heading in page.select("h3[id^='to-do-']"):
        things = []
        for item in heading.find_next_sibling("ul").select(".govuk-task-list__item"):
            link = item.select_one("a.govuk-task-list__link")
            things.append(
                Thing(
                    words(link),
                    link["href"],
                    words(item.select_one(".govuk-task-list__hint")),
                    words(item.select_one(".govuk-task-list__status")),
                )
            )
        found[heading.get_text(strip=True)] = things
    return found


def nothing_to_do(page: BeautifulSoup) -> str:
    return words(page.select_one("#nothing-to-do"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Buy-back's clock, in the middle of the 2027-28 windows (both open) unless moved."""
    from portal import clock
    from tests.buyback.test_buyback import DURING

    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    set_to(DURING)
    return set_to


def school_of(session, urn: int) -> School:
    return session.scalars(select(School).where(School.urn == urn)).one()


def open_requests(session, **where: object) -> list[SupportRequest]:
    return list(
        session.scalars(
            select(SupportRequest)
            .filter_by(**where)
            .where(SupportRequest.status.in_([s for s in SupportStatus if s.is_open]))
            .order_by(SupportRequest.respond_by, SupportRequest.id)
        )
    )


def test_a_head_teachers_home_says_the_buy_back_is_due_and_lists_the_schools_open_requests(
    client_for, session, clock
) -> None:
    from portal.clock import today_in_london
    from portal.support.queue import timeliness

    oakfield = school_of(session, 125601)
    page = html(client_for("head_teacher").get("/"))
    lists = to_do(page)
    assert list(lists) == ["Buy-back", "Requests for CAF officer support", "Training"]
    # The demo's place awaiting the head's approval (Oakfield's bookings need it).
    assert [thing.text for thing in lists["Training"]] == ["1 training booking to approve"]
    assert lists["Buy-back"] == [
        Thing(
            "Submit the buy-back choice for 2027-28",
            f"/buy-back/{oakfield.id}",
            "Due by 2 March 2027 at 5:00pm, not submitted.",
            "Not started",
        )
    ]
    # The school's every open request (the demo's four, whoever raised them), most pressing
    # first, each linking to its page and saying where it stands.
    requests = open_requests(session, school_id=oakfield.id)
    assert len(requests) == 4
    listed = lists["Requests for CAF officer support"]
    assert [thing.href for thing in listed] == [f"/support/{r.id}" for r in requests]
    today = today_in_london()
    for thing, request in zip(listed, requests, strict=True):
        assert thing.text == f"{request.reference}: {request.kind.label}"
        assert thing.hint.startswith("Raised on ")
        if timeliness(request, today) == "overdue":
            assert thing.status == "Overdue"
            due = request.respond_by.strftime("%-d %B %Y")
            assert f"A CAF officer's first response was due by {due}." in thing.hint
        else:
            assert thing.status == request.status.label
    assert [thing.status for thing in listed].count("Overdue") == 1  # the demo's caseload
    assert nothing_to_do(page) == ""


def test_school_staff_see_their_own_requests_and_the_buy_back_to_prepare(
    client_for, session, clock
) -> None:
    oakfield = school_of(session, 125601)
    staff = session.scalars(select(User).where(User.email == "staff@oakfield.example")).one()
    lists = to_do(html(client_for("school_staff").get("/")))
    assert lists["Buy-back"] == [
        Thing(
            "Prepare the buy-back choice for 2027-28",
            f"/buy-back/{oakfield.id}",
            "Due by 2 March 2027 at 5:00pm, not submitted. The head teacher submits it.",
            "Not started",
        )
    ]
    # Only those they raised: not the head teacher's.
    mine = open_requests(session, requester_id=staff.id)
    assert [t.href for t in lists["Requests for CAF officer support"]] == [
        f"/support/{r.id}" for r in mine
    ]
    assert [t.status for t in lists["Requests for CAF officer support"]] == ["Acknowledged"]


def test_a_choice_changed_since_submission_is_on_the_home_pages_until_it_is_sent(
    client_for, session, clock
) -> None:
    """The demo's Bulkington Village: submitted, then changed by staff."""
    from tests.buyback.test_buyback import form_data

    bulkington = school_of(session, 125612)
    head = client_for("head@bulkington.example")
    [thing] = to_do(html(head.get("/")))["Buy-back"]
    assert thing == Thing(
        "Send the changes to the buy-back choice for 2027-28",
        f"/buy-back/{bulkington.id}",
        "Submitted, but changed since submission on 1 December 2026 at 2:30pm: changes not "
        "yet sent. Submit it again by 2 March 2027 at 5:00pm.",
        "Changes not yet sent",
    )
    # Where it links says the same.
    choice = soup(head.get(thing.href))
    assert choice.select_one("#unsent h2").get_text(strip=True) == (
        "Changes not yet sent to the council"
    )
    [staff_thing] = to_do(html(client_for("staff@bulkington.example").get("/")))["Buy-back"]
    assert staff_thing.text == "Changes to the buy-back choice for 2027-28 are not yet sent"
    assert staff_thing.hint.endswith(
        "The head teacher submits it again, by 2 March 2027 at 5:00pm."
    )

    sent = head.post(thing.href, data={**form_data(choice), "declaration": "yes"})
    assert sent.status_code == 303
    page = html(head.get("/"))
    assert "Buy-back" not in to_do(page)
    assert nothing_to_do(page) == "You have nothing to do at the moment."


def test_a_head_whose_school_has_nothing_to_do_is_told_so(client_for, clock) -> None:
    """The demo's Weddington Park: submitted, no requests, nobody locked out or invited."""
    page = html(client_for("head@weddingtonpark.example").get("/"))
    assert to_do(page) == {}
    assert nothing_to_do(page) == "You have nothing to do at the moment."


def test_after_the_deadline_the_buy_back_is_no_longer_asked_for(client_for, clock) -> None:
    from tests.buyback.test_buyback import AFTER

    clock(AFTER)
    lists = to_do(html(client_for("head_teacher").get("/")))
    assert "Buy-back" not in lists
    assert "Requests for CAF officer support" in lists


def test_a_heads_home_names_locked_staff_and_invitations_waiting_for_an_answer(
    client_for, session, clock
) -> None:
    """The demo's Dunchurch Hall: a member of staff locked out, and someone invited."""
    locked = session.scalars(select(User).where(User.email == "staff@dunchurch.example")).one()
    head = client_for("head@dunchurch.example")
    people = to_do(html(head.get("/")))["People"]
    assert [(t.text, t.href, t.status) for t in people] == [
        ("Dara Demo-Staff's account is locked", f"/users/{locked.id}", "Locked"),
        ("1 invitation waiting for an answer", "/users/", ""),
    ]
    until = london_time(locked.locked_until)
    assert people[0].hint == (
        f"Failed sign-ins have locked it until {until}. If they ask, you can unlock it from "
        "their page."
    )
    # Where the job is done: the person's page has the button, the list the invitation.
    assert html(head.get(people[0].href)).select_one(f"form[action='/users/{locked.id}/unlock']")
    assert "Drew Demo-Teacher" in html(head.get(people[1].href)).get_text()
    # Oakfield's head teacher is told nothing of Dunchurch's people.
    assert "People" not in to_do(html(client_for("head_teacher").get("/")))


def test_a_trust_leads_home_lists_each_academys_buy_back_and_open_requests(
    client_for, session, clock
) -> None:
    from portal.clock import today_in_london
    from portal.support.queue import timeliness

    lead = client_for("trust_lead")
    page = html(lead.get("/"))
    assert page.select_one("#by-school caption").get_text(strip=True) == "Your academies"
    academies = session.scalars(
        select(School).where(School.trust.has(name="Meadow Learning Trust")).order_by(School.name)
    ).all()
    rows = page.select("#by-school tbody tr")
    assert len(rows) == len(academies) == 5
    today = today_in_london()
    for row, academy in zip(rows, academies, strict=True):
        name, choice, requests = row.select("th, td")
        assert name.a["href"] == f"/schools/{academy.id}"
        assert words(name) == academy.name
        assert choice.a["href"] == f"/buy-back/{academy.id}"
        assert words(choice) == (
            f"Not started : {academy.name}'s buy-back choice Due by 31 March 2027 at 5:00pm"
        )
        found = open_requests(session, school_id=academy.id)
        if not found:
            assert words(requests) == "None open"
            continue
        late = sum(timeliness(r, today) == "overdue" for r in found)
        link = requests.a["href"]
        assert link == f"/support/?school={academy.urn}"
        expected = f"{len(found)} open request{'s' if len(found) != 1 else ''}"
        assert (
            words(requests.a) == f"{expected} : {academy.name}'s requests for CAF officer support"
        )
        assert ("Overdue" in words(requests)) == bool(late)
        if late:
            assert f"{late} overdue for a first response" in words(requests)
        # The link lists exactly the requests counted.
        assert len(html(lead.get(link)).select("#queue tbody tr")) == len(found)
    counted = [words(row.select("td")[1].a) for row in rows if row.select("td")[1].a]
    assert counted[0].startswith("4 open requests")  # Atherstone Meadows: the North caseload
    assert nothing_to_do(page) == ""


def test_council_administrators_see_the_seasons_returns_and_the_councils_work(
    client_for, session, clock
) -> None:
    admin = client_for("la_admin")
    page = html(admin.get("/"))
    lists = to_do(page)
    assert list(lists) == [
        "Buy-back returns",
        "CAF officer support",
        "People",
        "Local contacts",
        "Services",
        # The demo's session whose register nobody has taken (training's coordinator's work,
        # and so the council administrators' too).
        "Training",
    ]
    # Each open window, soonest deadline first, with the returns its own page counts.
    windows = session.scalars(
        select(BuybackWindow).where(BuybackWindow.year == 2027).order_by(BuybackWindow.closes_at)
    ).all()
    returns = lists["Buy-back returns"]
    assert [t.href for t in returns] == [f"/buy-back/windows/{w.id}" for w in windows]
    assert [t.text for t in returns] == [
        "Returns for 2027-28: maintained schools",
        "Returns for 2027-28: academies and free schools",
    ]
    assert returns[0].hint.startswith("2 of ")  # Bulkington Village and Weddington Park
    assert returns[0].hint.endswith("Closes 2 March 2027 at 5:00pm.")
    assert returns[1].hint.endswith("Closes 31 March 2027 at 5:00pm.")
    for thing in returns:
        window_page = html(admin.get(thing.href))
        said = next(dd for dd in window_page.select("dd") if "have submitted" in dd.get_text())
        submitted, _, schools = words(said).split(" school")[0].partition(" of ")
        assert thing.hint.startswith(f"{submitted} of {schools} submitted so far.")
    # Requests no officer has answered in time: the queue lists the same ones.
    [overdue, *_] = lists["CAF officer support"]
    assert overdue.href == "/support/?due=overdue"
    count = int(overdue.text.split()[0])
    assert count and overdue.text.endswith("overdue for a first response")
    assert len(html(admin.get(overdue.href)).select("#queue tbody tr")) == count
    # Both demo accounts locked out.
    assert {t.text for t in lists["People"]} == {
        "Kit Demo-Office's account is locked",
        "Dara Demo-Staff's account is locked",
    }
    assert lists["Local contacts"] == [
        Thing(
            "5 contacts to check",
            "/contacts/needs-checking",
            "Not checked for more than 12 months: check that each is still right, or change it.",
            "",
        )
    ]
    listed = html(admin.get("/contacts/needs-checking")).select("tbody tr")
    assert len(listed) == 5
    assert lists["Services"][0].text == "2 draft offers for 2027-28 to publish"
    assert lists["Services"][0].href == "/services/drafts?year=2027"


def test_a_publishers_home_lists_contacts_to_check_and_drafts_to_publish(client_for, clock) -> None:
    publisher = client_for("publisher")
    lists = to_do(html(publisher.get("/")))
    assert list(lists) == ["Buy-back returns", "Local contacts", "Services"]
    [drafts] = lists["Services"]
    assert drafts == Thing(
        "2 draft offers for 2027-28 to publish",
        "/services/drafts?year=2027",
        "Schools see only published offers: check the drafts, then publish them together.",
        "",
    )
    drafts_page = html(publisher.get(drafts.href))
    # The demo's two new services, one ready and one not: both waiting.
    assert "Online safety training for staff" in drafts_page.get_text()
    assert "Outdoor learning residentials" in drafts_page.get_text()


def test_a_register_file_checked_and_schools_flagged_are_on_an_administrators_home(
    client_for, session, clock
) -> None:
    from portal.models import ImportStatus, RegisterImport

    admin = client_for("la_admin")
    assert "Schools register" not in to_do(html(admin.get("/")))
    finished = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    record = RegisterImport(
        filename="edubasealldata20261201.csv",
        stored_path="imports/waiting.csv",
        status=ImportStatus.READY,
        created_at=finished,
        finished_at=finished,
    )
    session.add(record)
    school_of(session, 125602).review_note = "Closed; successor URN 149001 to check."
    session.commit()
    [waiting, flagged] = to_do(html(admin.get("/")))["Schools register"]
    assert waiting == Thing(
        "1 register file checked, not applied",
        f"/register/imports/{record.id}",
        "edubasealldata20261201.csv, was uploaded on 1 December 2026 at 10:00am: read what it "
        "would change, then apply it. Its file is kept until 31 December 2026.",
        "Checked, not applied",
    )
    assert flagged.text == "1 school flagged for review"
    assert flagged.href == "/register/reviews"
    # Publishers do not keep the register.
    assert "Schools register" not in to_do(html(client_for("publisher").get("/")))


def test_a_caf_officers_home_is_their_queue(client_for) -> None:
    page = html(client_for("caf_officer").get("/"))
    assert page.select_one("#support-queue") is not None
    assert page.select_one("#to-do") is None
    assert nothing_to_do(page) == ""


def test_the_sql_for_a_windows_schools_is_the_cohorts_own_rule(session) -> None:
    """The home page counts a window's schools in SQL; the window's page, in Python."""
    from portal.buyback.windows import in_cohort

    schools = session.scalars(select(School)).all()
    for cohort in Cohort:
        found = set(session.scalars(select(School.id).where(in_cohort(cohort))))
        assert found == {s.id for s in schools if cohort.includes(s)}, cohort


def test_the_written_out_task_list_is_the_govuk_macros_task_list(app: Flask) -> None:
    """The home page's task lists are written out for speed (templates/macros/lists.html):
    they must stay what govukTaskList makes from the same things."""
    from portal.todo import ToDo
    from tests.contacts.test_contacts import squeeze

    template = app.jinja_env.from_string(
        '{% from "macros/lists.html" import to_do_list, govuk_to_do_list %}'
        "{{ to_do_list('to-do-x', items) }}|{{ govuk_to_do_list('to-do-x', items) }}"
    )
    items = (
        ToDo(
            "Submit the choice <for> 2027-28",
            "/buy-back/1?a=1&b=2",
            "Due by 31 March.",
            "Not started",
            "blue",
        ),
        ToDo("Changes not yet sent", "/buy-back/2", status="Changes not yet sent", colour="yellow"),
        ToDo("Buy-back", None, hint="Opens on 1 February & closes in March"),
        ToDo("Nothing to tag", "/x", status="Draft"),
        ToDo("Bare", None),
    )
    with app.test_request_context():
        for chosen in ((items[0],), items):
            ours, theirs = template.render(items=chosen).split("|")
            assert squeeze(ours) == squeeze(theirs)
