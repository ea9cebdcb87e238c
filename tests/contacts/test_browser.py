"""Local contacts in a real browser: search as you type (and without JavaScript), every page
through axe and the CSP guard, a publisher adding, correcting and checking contacts, and the
posters printing one A4 page per school. See tests/browser_fixtures.py for the fixtures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from portal.contacts.key_contacts import POSTER_ROOM_MM, poster_row_mm
from portal.contacts.letters import LETTER_ROOM_MM, letter_row_mm
from portal.db import db
from portal.models import Area, Contact, ContactRole, EstablishmentType, Phase, School
from portal_seed.demo import AREA_CONTACTS, AREA_FIRST_NAMES, AREAS, SCHOOLS
from tests.helpers.browser import assert_no_page_load, set_marker, visit

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, PageGuard, SignIn

SEARCH_LABEL = "Name, role, area or what they help with"
OAKFIELD = "Oakfield Primary School"

# The demo's education social worker in each area: "{first} Demo-Welfare".
_WELFARE = next(
    i for i, row in enumerate(AREA_CONTACTS) if row[0] is ContactRole.EDUCATION_SOCIAL_WORK
)
EDUCATION_SOCIAL_WORKERS = sorted(
    f"{AREA_FIRST_NAMES[code][_WELFARE]} Demo-Welfare" for code, _ in AREAS
)
NORTH_SCHOOLS = sorted(name for name, _urn, *_, area, _trust in SCHOOLS if area == "north")
MEADOW_ACADEMIES = sorted(name for name, *_, trust in SCHOOLS if trust == "TR01001")


def heads_to_write_to(live_app: Flask, area_code: str) -> tuple[list[str], int, int]:
    """Whom the annual letter is e-mailed to in an area, read from the live database (other
    tests add people to it): the open schools with an active head teacher (by name), how
    many such head teachers there are, and how many open schools the area has."""
    from portal.models import Membership, Role, SchoolStatus, User

    with live_app.app_context():
        heads = db.session.execute(
            select(User.id, School.name)
            .join(Membership, Membership.user_id == User.id)
            .join(School, School.id == Membership.school_id)
            .join(Area, Area.id == School.area_id)
            .where(
                Area.code == area_code,
                School.status == SchoolStatus.OPEN,
                Membership.role == Role.HEAD_TEACHER,
                User.is_active.is_(True),
            )
        ).all()
        open_schools = len(
            db.session.scalars(
                select(School.id)
                .join(Area)
                .where(Area.code == area_code, School.status == SchoolStatus.OPEN)
            ).all()
        )
    return sorted({name for _, name in heads}), len(heads), open_schools


def letters_sent(schools: list[str], heads: int, of: int) -> str:
    """What the page says it e-mailed."""
    letters = "1 letter" if heads == 1 else f"{heads} letters"
    return f"{letters} to head teachers at {len(schools)} of {of} schools."


def card_names(page: Page) -> list[str]:
    """The names on the contact cards in #results, in order."""
    return page.locator("#results .govuk-summary-card__title a").all_inner_texts()


def contact_path(page: Page, name: str) -> str:
    """The path of the contact called ``name``, found by searching for it."""
    visit(page, f"/contacts/?{urlencode({'q': name})}")
    href = page.locator("#results").get_by_role("link", name=name, exact=True).get_attribute("href")
    assert href is not None and re.fullmatch(r"/contacts/\d+", href), href
    return href


def count_pdf_pages(pdf: bytes) -> int:
    """How many pages Chromium's PDF has, having checked that every one is A4."""
    # Chromium writes each page object uncompressed: "/Type /Page", never "/Type /Pages".
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    sizes = {(round(float(w)), round(float(h))) for w, h in boxes}
    # A4 is 210 by 297 mm: 595.3 by 841.9 points.
    assert sizes == {(595, 842)}, f"the PDF's pages are not all A4 (in points): {sizes}"
    return pages


# --- search as you type ------------------------------------------------------------------------


def test_search_as_you_type_swaps_only_the_results(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "staff@oakfield.example")
    visit(page, "/contacts/")
    results = page.locator("#results")
    mine = results.get_by_role("heading", name=f"Contacts for {OAKFIELD}", exact=True)
    expect(mine).to_be_visible()
    expect(results).to_contain_text("serve the North area")
    check_page(page, "/contacts/ as a school user")
    set_marker(page)

    page.get_by_label(SEARCH_LABEL, exact=True).press_sequentially("psychology")

    expect(results).to_contain_text("Educational Psychology Service")
    expect(page).to_have_url(re.compile(r"/contacts/?\?(.*&)?q=psychology(&|$)"))
    expect(results.get_by_role("heading", level=2)).to_have_text("1 contact")
    # The grouped view of the school's own (North) contacts has gone: a search shows the directory.
    expect(mine).to_have_count(0)
    expect(results).not_to_contain_text("serve the North area")
    expect(results.get_by_role("heading", name="Early help and the CAF")).to_have_count(0)
    assert card_names(page) == ["Educational Psychology Service"]
    # The fragment goes inside the live region, not a second #results nested in it.
    expect(page.locator("[id=results]")).to_have_count(1)
    assert_no_page_load(page, "typing a search")
    check_page(page, "/contacts/ after searching for 'psychology' as you type")

    # Words and role narrow each other, so clear the words (back to the school's own contacts)
    # before choosing a role.
    page.get_by_label(SEARCH_LABEL, exact=True).fill("")
    expect(mine).to_be_visible()
    page.get_by_label("Role", exact=True).select_option(label="Education social work")

    expect(page).to_have_url(re.compile(r"[?&]role=education_social_work(&|$)"))
    expect(results.get_by_role("heading", level=2)).to_have_text(
        f"{len(EDUCATION_SOCIAL_WORKERS)} contacts"
    )
    expect(results.locator(".govuk-summary-card")).to_have_count(len(EDUCATION_SOCIAL_WORKERS))
    assert sorted(card_names(page)) == EDUCATION_SOCIAL_WORKERS
    assert_no_page_load(page, "choosing a role")
    check_page(page, "/contacts/ filtered to education social workers")


def test_search_works_without_javascript_and_can_be_bookmarked(
    no_js_page: Page, base_url: str, sign_in: SignIn, page_guard: PageGuard
) -> None:
    # Only the guard here, not axe: with JavaScript off axe.run never settles (see
    # tests/app/test_browser.py). The same templates go through axe with JavaScript on.
    page = no_js_page
    sign_in(page, "staff@oakfield.example")
    visit(page, "/contacts/")
    results = page.locator("#results")
    expect(results.get_by_role("heading", name=f"Contacts for {OAKFIELD}")).to_be_visible()

    page.get_by_label(SEARCH_LABEL, exact=True).fill("psychology")
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page).to_have_url(re.compile(r"/contacts/?\?(.*&)?q=psychology(&|$)"))
    expect(results.get_by_role("heading", level=2)).to_have_text("1 contact")
    assert card_names(page) == ["Educational Psychology Service"]
    page_guard.check("/contacts/ after searching without JavaScript")

    # The address is the search: opened afresh, it shows the same results.
    bookmark = page.url
    again = page.context.new_page()
    visit(again, bookmark)
    expect(again.get_by_label(SEARCH_LABEL, exact=True)).to_have_value("psychology")
    expect(again.locator("#results").get_by_role("heading", level=2)).to_have_text("1 contact")
    assert card_names(again) == ["Educational Psychology Service"]

    # The role filter, too.
    again.get_by_label(SEARCH_LABEL, exact=True).fill("")
    again.get_by_label("Role", exact=True).select_option(label="Education social work")
    again.get_by_role("button", name="Search", exact=True).click()
    expect(again).to_have_url(re.compile(r"[?&]role=education_social_work(&|$)"))
    expect(again.locator("#results .govuk-summary-card")).to_have_count(
        len(EDUCATION_SOCIAL_WORKERS)
    )
    assert sorted(card_names(again)) == EDUCATION_SOCIAL_WORKERS
    page_guard.check("/contacts/ filtered by role without JavaScript")


# --- every contacts page through axe -----------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "heading"),
    [
        ("caf.north@council.example", "Your contacts"),
        ("admin@council.example", re.compile(r"^\s*\d+ contacts\s*$")),
    ],
)
def test_contacts_page_is_accessible_for_council_staff(
    page: Page, sign_in: SignIn, check_page: CheckPage, email: str, heading: str | re.Pattern[str]
) -> None:
    # The school user's /contacts/ goes through axe in the search-as-you-type test.
    sign_in(page, email)
    visit(page, "/contacts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Local contacts")
    expect(page.locator("#results h2").first).to_have_text(heading)
    expect(page.locator("#results .govuk-summary-card").first).to_be_visible()
    check_page(page, f"/contacts/ as {email}")


def test_publisher_pages_are_accessible(
    page: Page, base_url: str, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "publisher@council.example")
    path = contact_path(page, "Educational Psychology Service")

    visit(page, path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Educational Psychology Service")
    expect(page.get_by_role("heading", name="History", level=2)).to_be_visible()
    expect(page.get_by_role("link", name="Change Educational Psychology Service")).to_be_visible()
    expect(
        page.get_by_role("button", name="Mark as checked Educational Psychology Service")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Retire Educational Psychology Service")).to_be_visible()
    check_page(page, f"{path} as a publisher")

    visit(page, f"{path}/edit")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Change Educational Psychology Service"
    )
    expect(page.get_by_label("Name", exact=True)).to_have_value("Educational Psychology Service")
    check_page(page, f"{path}/edit")

    visit(page, f"{path}/retire")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to retire Educational Psychology Service?"
    )
    expect(page.get_by_role("button", name="Yes, retire this contact")).to_be_visible()
    check_page(page, f"{path}/retire")

    visit(page, "/contacts/needs-checking")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts that need checking")
    expect(page.get_by_role("button", name=re.compile("^Mark as checked")).first).to_be_visible()
    check_page(page, "/contacts/needs-checking")

    visit(page, "/contacts/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a contact")
    check_page(page, "/contacts/new")

    page.get_by_role("button", name="Save contact").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    links = summary.get_by_role("link")
    expected = {
        "Enter the contact's name": "name",
        "Choose the contact's role": "role",
        "Enter what schools should contact them about": "help_with",
        "Enter a telephone number": "phone",
        "Enter an e-mail address": "email",
        "Choose countywide or at least one area": "coverage",
    }
    expect(links).to_have_text(list(expected))
    check_page(page, "/contacts/new submitted empty")
    # Each error links to its field, and GOV.UK Frontend moves the focus there.
    for message, field_id in expected.items():
        link = summary.get_by_role("link", name=message, exact=True)
        assert link.get_attribute("href") == f"#{field_id}"
        field = page.locator(f"[id={field_id}]")
        expect(field).to_have_count(1)
        assert field.evaluate("e => e.tagName") in ("INPUT", "SELECT", "TEXTAREA")
        expect(page.locator(f"[id={field_id}-error]")).to_contain_text(message)
        link.click()
        expect(field).to_be_focused()


# --- a publisher keeps the directory ------------------------------------------------------------


def test_publisher_adds_corrects_and_checks_contacts(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    # Unique per run: the live server's database is shared by the whole session.
    name = f"Browser Test {uuid.uuid4().hex[:8]}"
    sign_in(page, "publisher@council.example")
    visit(page, "/contacts/")
    page.get_by_role("link", name="Add a contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a contact")

    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Role", exact=True).select_option(label="Family support")
    page.get_by_label("What schools should contact them about").fill(
        "Parenting courses for families in the browser tests"
    )
    page.get_by_label("Telephone", exact=True).fill("0121 496 0555")
    page.get_by_label("E-mail address", exact=True).fill("browser.test@council.example")
    page.get_by_label("North area", exact=True).check()
    page.get_by_role("button", name="Save contact").click()

    expect(page).to_have_url(re.compile(r"/contacts/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(f"{name} has been added to the directory.")
    expect(page.locator(".govuk-summary-list")).to_contain_text("0121 496 0555")
    expect(page.locator(".govuk-summary-list")).to_contain_text("North")
    check_page(page, "a new contact's page with the success banner")
    contact_url = page.url

    # A telephone number that is not one: the error is beside the field, and what was typed kept.
    page.get_by_role("link", name=f"Change {name}").click()
    phone = page.get_by_label("Telephone", exact=True)
    expect(phone).to_have_value("0121 496 0555")
    phone.fill("12345")
    page.get_by_role("button", name="Save contact").click()

    message = "Enter a UK telephone number, like 0121 496 0000 or 07700 900 982"
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    expect(page.locator(".govuk-error-summary").get_by_role("link", name=message)).to_have_count(1)
    expect(page.locator("#phone-error")).to_contain_text(message)
    expect(phone).to_have_value("12345")
    expect(phone).to_have_accessible_description(re.compile(re.escape(message)))
    expect(page.get_by_label("Name", exact=True)).to_have_value(name)
    expect(page.get_by_label("North area", exact=True)).to_be_checked()
    check_page(page, "changing a contact with an invalid telephone number")

    phone.fill("0121 496 0556")
    page.get_by_role("button", name="Save contact").click()
    expect(page).to_have_url(contact_url)
    expect(banner).to_contain_text(f"{name} has been updated.")
    expect(page.locator(".govuk-summary-list")).to_contain_text("0121 496 0556")
    history = page.locator(".council-history")
    expect(history.locator("li").first).to_contain_text("Updated")
    expect(history).to_contain_text("+441214960555")
    check_page(page, "a contact's page after correcting it")

    # Marking a contact as checked turns its row into a confirmation, in place.
    visit(page, "/contacts/needs-checking")
    rows = page.locator("table tbody tr")
    assert rows.count() > 0, "no contact needs checking: the demo data should leave some"
    row_id = rows.first.get_attribute("id")
    assert row_id is not None and re.fullmatch(r"contact-\d+", row_id), row_id
    checked_name = rows.first.get_by_role("link").inner_text()
    row = page.locator(f"[id={row_id}]")
    set_marker(page)

    row.get_by_role("button", name=f"Mark as checked {checked_name}").click()

    expect(row.locator(".govuk-tag")).to_have_text("Checked")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(row.get_by_role("link", name=checked_name)).to_be_visible()
    expect(page.locator(f"[id={row_id}]")).to_have_count(1)
    assert_no_page_load(page, "marking a contact as checked")
    check_page(page, "/contacts/needs-checking after marking a contact as checked")

    # And at the next load it has left the list.
    visit(page, "/contacts/needs-checking")
    expect(page.locator(f"[id={row_id}]")).to_have_count(0)


# --- posters: one A4 page per school ------------------------------------------------------------


def test_council_prints_one_poster_page_per_school_in_an_area(
    page: Page, sign_in: SignIn, check_page: CheckPage, page_guard: PageGuard
) -> None:
    sign_in(page, "admin@council.example")
    visit(page, "/contacts/poster")
    expect(page.get_by_role("heading", level=1)).to_have_text("Print key contacts posters")
    check_page(page, "/contacts/poster (choosing an area) as admin")

    page.get_by_role("link", name="Posters for every school in the North area").click()
    expect(page).to_have_url(re.compile(r"/contacts/poster\?area=\d+$"))
    posters = page.locator("article.council-poster")
    expect(posters).to_have_count(len(NORTH_SCHOOLS))
    assert len(NORTH_SCHOOLS) == 8
    expect(posters.locator("h1")).to_have_text(NORTH_SCHOOLS)
    page_guard.check("the North area's posters")
    # (axe on a page of several posters: test_a_page_of_several_posters_is_accessible.)

    pdf = page.pdf(prefer_css_page_size=True)
    assert count_pdf_pages(pdf) == posters.count() == 8


def test_schools_and_trusts_print_their_own_posters(
    page: Page, sign_in: SignIn, check_page: CheckPage, page_guard: PageGuard
) -> None:
    sign_in(page, "staff@oakfield.example")
    visit(page, "/contacts/poster")
    posters = page.locator("article.council-poster")
    expect(posters).to_have_count(1)
    expect(posters.get_by_role("heading", level=1)).to_have_text(OAKFIELD)
    expect(page).to_have_title(re.compile(f"^Key contacts poster for {OAKFIELD}"))
    check_page(page, "/contacts/poster as a school user")
    assert count_pdf_pages(page.pdf(prefer_css_page_size=True)) == 1

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "trust@meadowtrust.example")
    visit(page, "/contacts/poster")
    expect(posters).to_have_count(len(MEADOW_ACADEMIES))
    expect(posters.locator("h1")).to_have_text(MEADOW_ACADEMIES)
    page_guard.check("/contacts/poster as a trust lead")
    assert count_pdf_pages(page.pdf(prefer_css_page_size=True)) == len(MEADOW_ACADEMIES)


def test_a_page_of_several_posters_is_accessible(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    """Each poster's safeguarding box is a landmark: its id, and its name, must be its own."""
    sign_in(page, "admin@council.example")
    visit(page, "/contacts/poster")
    page.get_by_role("link", name="Posters for every school in the North area").click()
    expect(page.locator("article.council-poster")).to_have_count(len(NORTH_SCHOOLS))
    ids = page.locator("[id]").evaluate_all("elements => elements.map(e => e.id)")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"ids used more than once on the North area's posters: {duplicates}"
    check_page(page, "the North area's posters")


# --- every printed page is one sheet with one heading --------------------------------------------

# As long as a publisher may make each field (portal/contacts/forms.py), or nearly.
LONG_WORDS = "Support for families and schools across the area, " * 20


@pytest.fixture
def full_area(live_app: Flask, request: pytest.FixtureRequest) -> Iterator[tuple[int, bool]]:
    """The Stratford area with more contacts than a page can show, every role four times
    over, every field long, and a school with a long name: the most a sheet must hold.
    "tall": every contact has an out-of-hours line (rows as tall as they get); "many": none
    has (as many rows as fit)."""
    tall = request.param == "tall"
    with live_app.app_context():
        area = db.session.scalars(select(Area).where(Area.code == "stratford")).one()
        for role in ContactRole:
            for n in range(4):
                db.session.add(
                    Contact(
                        name=f"Full Demo-Sheet {n} of the {role.label} team, as long as names get",
                        job_title="Senior practitioner and deputy team manager for the area",
                        role=role,
                        help_with=LONG_WORDS[:1000],
                        phone="+441214960777",
                        email=f"full.demo.sheet.{n}.{role.value}.team.for.the.area@council.example",
                        out_of_hours=LONG_WORDS[:300] if tall else None,
                        areas=[area],
                    )
                )
        db.session.add(
            School(
                urn=199999,
                name=(
                    "The Full Demo-Sheet Church of England Voluntary Aided Primary School"
                    " and Nursery"
                ),
                establishment_type=EstablishmentType.VOLUNTARY_AIDED,
                phase=Phase.PRIMARY,
                pupils_on_roll=200,
                postcode="CV37 0ZZ",
                area=area,
            )
        )
        db.session.commit()
        area_id = area.id
    try:
        yield area_id, tall
    finally:
        with live_app.app_context():
            db.session.execute(delete(Contact).where(Contact.name.startswith("Full Demo-Sheet")))
            db.session.execute(delete(School).where(School.urn == 199999))
            db.session.commit()


@pytest.mark.parametrize("full_area", ["tall", "many"], indirect=True)
@pytest.mark.parametrize(
    ("kind", "room", "row_mm"),
    [("poster", POSTER_ROOM_MM, poster_row_mm), ("letter", LETTER_ROOM_MM, letter_row_mm)],
)
def test_each_poster_and_letter_prints_as_one_page_with_one_heading(
    page: Page,
    sign_in: SignIn,
    page_guard: PageGuard,
    full_area: tuple[int, bool],
    kind: str,
    room: float,
    row_mm: Callable[[Contact], float],
) -> None:
    area_id, tall = full_area
    # The rows the full area's contacts fill the room with (the demo's own may be shorter).
    most = int(room // row_mm(Contact(out_of_hours="yes" if tall else None)))
    sign_in(page, "admin@council.example")
    visit(page, f"/contacts/{kind}?area={area_id}")
    sheets = page.locator(f"article.council-{kind}")
    count = sheets.count()
    assert count >= 2
    for index in range(count):
        sheet = sheets.nth(index)
        expect(sheet.locator("h1")).to_have_count(1)
        # As many rows as the sheet has room for, most of them as tall as a row gets.
        assert sheet.locator('tbody th[scope="row"]').count() >= most
    expect(page.locator("h1")).to_have_count(count)
    page_guard.check(f"the Stratford area's {kind}s, full")
    # One A4 page per sheet: so exactly one heading on every page printed.
    assert count_pdf_pages(page.pdf(prefer_css_page_size=True)) == count


# --- the annual letter ----------------------------------------------------------------------------


def test_a_school_prints_its_own_annual_letter(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "head@oakfield.example")
    visit(page, "/contacts/")
    page.get_by_role("link", name="The annual letter of key contacts").click()
    letters = page.locator("article.council-letter")
    expect(letters).to_have_count(1)
    expect(letters.get_by_role("heading", level=1)).to_have_text(
        f"Your key contacts for {OAKFIELD}"
    )
    expect(letters.locator("address")).to_contain_text("Hannah Demo-Head")
    expect(letters).to_contain_text(re.compile(r"Dear [^,]*Hannah Demo-Head[^,]*,"))
    check_page(page, "/contacts/letter as a head teacher")
    assert count_pdf_pages(page.pdf(prefer_css_page_size=True)) == 1


def test_the_council_prints_an_areas_letters_and_emails_every_head(
    page: Page, sign_in: SignIn, check_page: CheckPage, live_app: Flask
) -> None:
    sign_in(page, "admin@council.example")
    visit(page, "/contacts/")
    page.get_by_role("link", name="The annual letter of key contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annual letters of key contacts")
    check_page(page, "/contacts/letter (choosing) as admin")

    page.get_by_role("link", name="Letters for every school in the North area").click()
    letters = page.locator("article.council-letter")
    expect(letters).to_have_count(len(NORTH_SCHOOLS))
    expect(letters.locator("h1")).to_have_text(
        [f"Your key contacts for {name}" for name in NORTH_SCHOOLS]
    )
    check_page(page, "the North area's letters")
    assert count_pdf_pages(page.pdf(prefer_css_page_size=True)) == len(NORTH_SCHOOLS)

    page.go_back()
    page.get_by_label("Which schools", exact=True).select_option(label="Schools in the North area")
    page.get_by_role("button", name="E-mail the letters").click()
    expect(page).to_have_url(re.compile(r"/contacts/letter/sent/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Annual letters e-mailed")
    with_head, heads, open_schools = heads_to_write_to(live_app, "north")
    assert OAKFIELD in with_head and open_schools == len(NORTH_SCHOOLS)
    expect(page.locator("main")).to_contain_text(letters_sent(with_head, heads, open_schools))
    expect(page.locator("main")).to_contain_text(f"0 sent so far, {heads} waiting to be sent.")
    without = [name for name in NORTH_SCHOOLS if name not in with_head]
    expect(page.locator("main").get_by_role("heading", level=2)).to_have_text(
        f"{len(without)} schools had no head teacher to send to"
    )
    expect(page.locator("tbody th")).to_have_text(without)
    check_page(page, "the letters e-mailed")


def test_the_letters_are_emailed_without_javascript(
    no_js_page: Page, sign_in: SignIn, page_guard: PageGuard, live_app: Flask
) -> None:
    page = no_js_page
    sign_in(page, "publisher@council.example")
    visit(page, "/contacts/letter")
    page.get_by_label("Which schools", exact=True).select_option(
        label="Schools in the Nuneaton and Bedworth area"
    )
    page.get_by_role("button", name="E-mail the letters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annual letters e-mailed")
    with_head, heads, open_schools = heads_to_write_to(live_app, "nuneaton-bedworth")
    assert "Riverside Academy" in with_head
    expect(page.locator("main")).to_contain_text(letters_sent(with_head, heads, open_schools))
    page_guard.check("the letters e-mailed without JavaScript")
