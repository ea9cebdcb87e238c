"""What people do in a real browser: sign in as each demo role, go everywhere the menus offer,
search for a school, sign out; with JavaScript on and off. Every page passes axe and the CSP
guard (see tests/browser_fixtures.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import delete, select

from portal.db import db
from portal.models import BuybackChoice, BuybackWindow, Role, School
from portal_seed.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET, SCHOOLS, TRUSTS, DemoAccount
from tests.helpers.browser import visit

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, ForgetCode, PageGuard, SignIn

SCHOOL_NAMES = {urn: name for name, urn, *_ in SCHOOLS}
TRUST_NAMES = {uid: name for uid, name, _ in TRUSTS}
FOOTER_LINKS = ["Accessibility statement", "Privacy notice", "Cookies"]


def home_heading(account: DemoAccount) -> str | None:
    """What a person's home page is headed with, when it names their organisation."""
    if account.role in (Role.SCHOOL_STAFF, Role.HEAD_TEACHER):
        assert account.school_urn is not None
        return SCHOOL_NAMES[account.school_urn]
    if account.role == Role.TRUST_LEAD:
        assert account.trust_uid is not None
        return TRUST_NAMES[account.trust_uid]
    return None


# --- every role, everywhere it can go ---------------------------------------------------------


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda account: account.email)
def test_each_role_signs_in_goes_everywhere_and_signs_out(
    page: Page,
    base_url: str,
    check_page: CheckPage,
    forget_last_security_code: ForgetCode,
    account: DemoAccount,
) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail address", exact=True).fill(account.email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if account.role.is_council:
        # Council staff then give the code from their authenticator app.
        expect(page).to_have_url(f"{base_url}/sign-in/code")
        check_page(page, f"the security code page for {account.email}")
        forget_last_security_code(account.email)
        code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
        page.get_by_label("Enter your security code", exact=True).fill(code)
        page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(f"{base_url}/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_count(1)
    expect(heading).not_to_be_empty()
    expected = home_heading(account)
    if expected is not None:
        expect(heading).to_have_text(expected)
    expect(page.locator("p", has_text=f"Signed in as {account.email}")).to_be_visible()
    check_page(page, f"the home page of {account.email}")

    navigation = page.get_by_role("navigation", name="Sections of the portal")
    sections = [link.get_attribute("href") for link in navigation.get_by_role("link").all()]
    footer = page.locator("footer")
    support = [footer.get_by_role("link", name=name).get_attribute("href") for name in FOOTER_LINKS]
    assert "/" in sections and "/schools/" in sections, sections
    for href in [*sections, *support]:
        assert href is not None
        visit(page, href)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        check_page(page, f"{href} as {account.email}")

    visit(page, "/schools")
    check_page(page, f"/schools as {account.email}")
    first_school = page.locator("#results table").get_by_role("link").first
    name = first_school.inner_text()
    first_school.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    check_page(page, f"the page of {name} as {account.email}")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base_url}/sign-in")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    check_page(page, f"the sign-in page after {account.email} signed out")


# --- the pages anyone can see -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/sign-in", 200, re.compile(r"^Sign in to the ")),
        ("/accessibility", 200, None),
        ("/privacy", 200, None),
        ("/cookies", 200, None),
        ("/no-such-page", 404, "Page not found"),
    ],
)
def test_public_pages_are_accessible(
    page: Page, check_page: CheckPage, path: str, status: int, heading: str | re.Pattern[str] | None
) -> None:
    visit(page, path, status)
    h1 = page.get_by_role("heading", level=1)
    expect(h1).to_have_count(1)
    if heading is not None:
        expect(h1).to_have_text(heading)
    check_page(page)


def test_sign_in_with_nothing_entered_shows_the_error_summary(
    page: Page, check_page: CheckPage
) -> None:
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="Enter your e-mail address")).to_be_visible()
    expect(summary.get_by_role("link", name="Enter your password")).to_be_visible()
    # And beside each field, where a screen reader meets it with the field.
    expect(page.get_by_label("E-mail address", exact=True)).to_have_accessible_description(
        re.compile("Enter your e-mail address")
    )
    expect(page.get_by_label("Password", exact=True)).to_have_accessible_description(
        re.compile("Enter your password")
    )
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    check_page(page, "the sign-in page with nothing entered")


def test_sign_in_with_a_wrong_password_says_so_without_saying_which(
    page: Page, check_page: CheckPage
) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail address", exact=True).fill("head@oakfield.example")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Enter a correct e-mail address and password")
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    check_page(page, "the sign-in page after a wrong password")


# --- without JavaScript -------------------------------------------------------------------------
# Only the guard here, not axe: with JavaScript off the page's timers do not run, and axe.run
# never settles. The same templates are checked by axe with JavaScript on above.


def test_signing_in_and_out_works_without_javascript(
    no_js_page: Page, base_url: str, sign_in: SignIn, page_guard: PageGuard
) -> None:
    page = no_js_page
    sign_in(page, "head@oakfield.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("Oakfield Primary School")
    page_guard.check("the home page without JavaScript")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base_url}/sign-in")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page_guard.check("signing out without JavaScript")


# --- active search ------------------------------------------------------------------------------


def test_school_search_updates_the_results_in_place_with_javascript(
    page: Page, base_url: str, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "admin@council.example")
    visit(page, "/schools")
    results = page.locator("#results")
    unfiltered = results.locator("tbody tr").first.get_by_role("link").inner_text()
    assert "oak" not in unfiltered.lower(), f"pick a search that {unfiltered} does not match"
    # Gone if the search reloads the page instead of swapping in the results.
    page.evaluate("window.__marker = 1")

    page.get_by_label("Search by name, URN or postcode").press_sequentially("Oak")

    expect(results).to_contain_text("for “Oak”")
    expect(results).to_contain_text("Oakfield Primary School")
    expect(results).not_to_contain_text(unfiltered)
    expect(page).to_have_url(re.compile(r"[?&]q=Oak(&|$)"))
    assert page.evaluate("window.__marker") == 1, "the search reloaded the whole page"
    # The fragment goes inside the live region, not a second #results nested in it.
    expect(page.locator("[id=results]")).to_have_count(1)
    check_page(page, "/schools after an active search for 'Oak'")


def test_school_search_works_without_javascript(
    no_js_page: Page, sign_in: SignIn, page_guard: PageGuard
) -> None:
    page = no_js_page
    sign_in(page, "admin@council.example")
    visit(page, "/schools")
    results = page.locator("#results")
    unfiltered = results.locator("tbody tr").first.get_by_role("link").inner_text()
    assert "oak" not in unfiltered.lower(), f"pick a search that {unfiltered} does not match"

    page.get_by_label("Search by name, URN or postcode").fill("Oak")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/schools/?\?q=Oak$"))
    expect(results).to_contain_text("for “Oak”")
    expect(results).to_contain_text("Oakfield Primary School")
    expect(results).not_to_contain_text(unfiltered)
    page_guard.check("/schools after searching without JavaScript")


# --- the header at a laptop's width -----------------------------------------------------------


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_headers_navigation_sits_on_one_line(
    new_context: Callable[..., BrowserContext],
    sign_in: SignIn,
    check_page: CheckPage,
    width: int,
) -> None:
    """A council administrator has the most sections: on a laptop's screen every one of them,
    and signing out, sit on one line of the header, none wrapped onto a second."""
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    sign_in(page, "admin@council.example")
    navigation = page.get_by_role("navigation", name="Sections of the portal")
    items = navigation.locator(".govuk-service-navigation__item")
    links = navigation.locator(".govuk-service-navigation__link")
    expect(items).to_have_count(9)  # Home, seven sections (Users is in Administration), Sign out
    boxes = [item.bounding_box() for item in items.all()]
    tops = {round(box["y"]) for box in boxes if box is not None}
    assert None not in boxes and len(tops) == 1, (
        f"the navigation wraps at {width} px: its items start at {sorted(tops)}"
    )
    # Nor does any label break over two lines within its item: one line box each.
    lines = {
        link.inner_text(): link.evaluate("e => e.getClientRects().length") for link in links.all()
    }
    assert set(lines.values()) == {1}, f"labels on more than one line at {width} px: {lines}"
    check_page(page, f"the administrator's home page at {width} px")


# --- what needs doing -----------------------------------------------------------------------------

# A home page in each state the demo has: the buy-back due and open requests (one overdue),
# the draft to prepare, each academy of a trust, a choice changed since submission, nothing to
# do, a member of staff locked out with an invitation waiting; and the council's, the training
# coordinator's among them (a session held whose register nobody has taken).
TO_DO = [
    ("head@oakfield.example", "Submit the buy-back choice for"),
    ("staff@oakfield.example", "Prepare the buy-back choice for"),
    ("head@riverside.example", "Requests for CAF officer support"),
    ("trust@meadowtrust.example", "Your academies"),
    ("head@bulkington.example", "Changes not yet sent"),
    ("head@weddingtonpark.example", "You have nothing to do at the moment."),
    ("head@dunchurch.example", "account is locked"),
    ("caf.north@council.example", "Your support queue"),
    ("publisher@council.example", "contacts to check"),
    ("admin@council.example", "Buy-back returns"),
    ("coordinator@council.example", "Take the register: Emotion coaching in the classroom"),
]


@pytest.fixture
def oakfield_has_not_chosen(live_app: Flask) -> None:
    """Oakfield's buy-back as the demo has it, nothing saved this year: the buy-back
    journeys (tests/buyback/test_browser.py) submit and amend it on the shared server."""
    with live_app.app_context():
        oakfield = select(School.id).where(School.urn == 125601).scalar_subquery()
        this_year = select(BuybackWindow.id).where(BuybackWindow.year == 2027)
        # Its lines and submissions go with it (ON DELETE CASCADE).
        db.session.execute(
            delete(BuybackChoice).where(
                BuybackChoice.school_id == oakfield, BuybackChoice.window_id.in_(this_year)
            )
        )
        db.session.commit()


def to_do_links(page: Page) -> list[str]:
    links = page.locator("a.govuk-task-list__link, #by-school a, #support-queue ~ ul a")
    return [href for href in (link.get_attribute("href") for link in links.all()) if href]


@pytest.mark.parametrize(("email", "shown"), TO_DO, ids=[email for email, _ in TO_DO])
def test_each_home_page_says_what_needs_doing_and_links_to_it_without_javascript(
    page: Page,
    no_js_page: Page,
    sign_in: SignIn,
    check_page: CheckPage,
    page_guard: PageGuard,
    request: pytest.FixtureRequest,
    email: str,
    shown: str,
) -> None:
    if email.endswith("@oakfield.example"):
        request.getfixturevalue("oakfield_has_not_chosen")
    sign_in(page, email)
    expect(page.locator("main")).to_contain_text(shown)
    check_page(page, f"the home page of {email}")
    links = to_do_links(page)
    if email != "head@weddingtonpark.example":
        assert links, f"nothing to do on the home page of {email}"

    # The same list without JavaScript, and each thing opens where it is done.
    sign_in(no_js_page, email)
    assert to_do_links(no_js_page) == links
    for href in links:
        visit(no_js_page, href)
        expect(no_js_page.get_by_role("heading", level=1)).to_have_count(1)
    page_guard.check(f"the home page of {email} and its links, without JavaScript")
