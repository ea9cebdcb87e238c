"""The schools register in a real browser: an administrator uploads another authority's GIAS
extract and is told it is the wrong file, and whose it is, with JavaScript (the page follows
the import by itself) and without (the person refreshes). See tests/browser_fixtures.py for the
fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from playwright.sync_api import BrowserContext, Page, expect

from tests.register.test_register import GIAS, reference

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, PageGuard, SignIn

ADMIN = "admin@council.example"
WRONG_FILE = (
    "The file has no schools for LA 937, this council's local authority, so none of it can "
    "be used: is it the right file?"
)


def upload_the_sample_extract(page: Page) -> None:
    """The DfE's sample extract: Camden, the City of London and Welsh authorities."""
    reference("gias_sample_npq.csv")  # skips, saying why, if the file is not there
    page.goto("/register/")
    page.get_by_label("GIAS establishment extract", exact=True).set_input_files(
        GIAS / "gias_sample_npq.csv"
    )
    page.get_by_role("button", name="Check the file", exact=True).click()


def expect_the_wrong_file_explained(page: Page) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The file could not be used")
    expect(summary).to_contain_text(WRONG_FILE)
    table = page.locator("table", has=page.locator("caption", has_text="Local authorities"))
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first.locator("td")).to_have_text(["Camden", "202", "44"])
    expect(page.get_by_role("button", name="Apply these changes")).to_have_count(0)
    expect(page.get_by_text("already matches")).to_have_count(0)


def test_another_authoritys_file_is_called_wrong_as_the_page_follows_the_import(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, ADMIN)
    upload_the_sample_extract(page)
    # htmx swaps the import's progress in every second until it has finished.
    expect(page.locator(".govuk-error-summary")).to_contain_text(WRONG_FILE, timeout=30_000)
    expect_the_wrong_file_explained(page)
    check_page(page, "the import of another authority's file")


def test_another_authoritys_file_is_called_wrong_without_javascript(
    new_context: Callable[..., BrowserContext], sign_in: SignIn, page_guard: PageGuard
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, ADMIN)
    upload_the_sample_extract(page)
    for _ in range(60):
        if page.locator(".govuk-error-summary").count():
            break
        page.wait_for_timeout(500)
        page.get_by_role("link", name="Refresh", exact=True).click()
    expect_the_wrong_file_explained(page)
    page_guard.check("the import of another authority's file, without JavaScript")
