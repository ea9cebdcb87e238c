"""The training coordinator's pages in a real browser: a course added (with a mistake first),
a session added to it and its page, the cancel page and the list filter, each page through
axe and the CSP guard, with JavaScript on, and the list's filter with it off. See
tests/browser_fixtures.py for the fixtures.

The live server's database is shared by the whole session: the course added here is named
uniquely.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import assert_no_page_load, h1, set_marker, visit

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, SignIn

# tests/browser_fixtures.py marks only files named test_browser.py: this one says so itself.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

COORDINATOR = "admin@council.example"  # council administrators manage training too


def test_a_coordinator_adds_a_course_and_a_session(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    title = f"Browser course {uuid.uuid4().hex[:8]}"
    sign_in(page, COORDINATOR)
    visit(page, "/training/manage/")
    expect(h1(page)).to_have_text("Courses")
    check_page(page, "the coordinator's courses")

    page.get_by_role("link", name="Add a course").click()
    expect(h1(page)).to_have_text("Add a course")
    check_page(page, "a new course")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Save the course").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter what the course covers")
    # What was typed is kept; the mistakes are said beside their fields.
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    check_page(page, "a new course, with mistakes")

    page.get_by_label("Description", exact=True).fill("What the course covers.")
    page.get_by_label("Who it is for", exact=True).fill("New teachers")
    page.get_by_label("Level of staff", exact=True).select_option(label="Teachers")
    page.get_by_label("Hours", exact=True).fill("3")
    page.get_by_label("Minutes", exact=True).fill("0")
    page.get_by_label("A price per place", exact=True).check()
    page.get_by_label("Price per place (£)", exact=True).fill("45.50")
    page.get_by_label("Cancellation window, in days", exact=True).fill("7")
    page.get_by_role("button", name="Save the course").click()
    expect(h1(page)).to_have_text(title)
    expect(page.locator("main")).to_contain_text("£45.50")
    check_page(page, "the new course's page")

    page.get_by_role("link", name="Add a session").click()
    expect(h1(page)).to_have_text("Add a session")
    check_page(page, "a new session")
    day = date(date.today().year + 1, 7, 15)
    page.get_by_label("Day", exact=True).fill(str(day.day))
    page.get_by_label("Month", exact=True).fill(str(day.month))
    page.get_by_label("Year", exact=True).fill(str(day.year))
    page.get_by_label("Venue", exact=True).fill("Shire Hall, Warwick")
    page.get_by_label("Places", exact=True).fill("12")
    page.get_by_label("Trainer", exact=True).fill("Sam Trainer")
    page.get_by_role("button", name="Save the session").click()
    expect(h1(page)).to_have_text(f"15 July {day.year} at 9:30am")
    expect(page.locator("main")).to_contain_text("0 taken of 12, 12 left")
    check_page(page, "the new session's page")

    page.get_by_role("link", name="Cancel the session").click()
    expect(h1(page)).to_have_text(re.compile(r"^Cancel the session on"))
    check_page(page, "cancelling a session")

    page.get_by_role("link", name="Keep the session").click()
    page.get_by_role("link", name=title).click()
    page.get_by_role("link", name="Publish the course").click()
    expect(h1(page)).to_have_text(f"Publish {title}?")
    check_page(page, "publishing a course")
    page.get_by_role("button", name="Publish the course").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is published")


def test_the_list_filter_swaps_only_the_list(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, COORDINATOR)
    visit(page, "/training/manage/")
    set_marker(page)
    page.get_by_label("Show", exact=True).select_option(label="Withdrawn")
    expect(page).to_have_url(re.compile(r"[?&]status=withdrawn"))
    assert_no_page_load(page, "choosing a status")
    check_page(page, "the coordinator's withdrawn courses")


def test_the_list_filter_works_without_javascript(no_js_page: Page, sign_in: SignIn) -> None:
    sign_in(no_js_page, COORDINATOR)
    visit(no_js_page, "/training/manage/")
    no_js_page.get_by_label("Show", exact=True).select_option(label="Draft")
    no_js_page.get_by_role("button", name="Filter").click()
    expect(no_js_page).to_have_url(re.compile(r"[?&]status=draft"))
    expect(h1(no_js_page)).to_have_text("Courses")
