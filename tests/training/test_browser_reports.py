"""The training reports in a real browser: a council administrator reads take-up of training
and the supply-cover funds, chooses a period with a wrong date first, and downloads a table;
with JavaScript on (axe and the CSP guard: tests/browser_fixtures.py) and off (the guard)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.helpers.browser import h1, visit

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.browser_fixtures import CheckPage, SignIn

# Only test_browser.py files are marked by the fixtures' hook: this one marks itself.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN = "admin@council.example"


def test_take_up_and_the_funds_read_as_tables_and_charts(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, ADMIN)
    visit(page, "/training/reports/take-up")
    expect(h1(page)).to_have_text("Take-up of training")
    expect(page.get_by_role("table", name="Take-up by area", exact=True)).to_be_visible()
    expect(page.locator("main svg").first).to_be_visible()
    check_page(page, "take-up of training")

    page.get_by_role("link", name="Supply-cover funds").click()
    expect(h1(page)).to_have_text("Supply-cover funds")
    check_page(page, "the supply-cover funds")


def test_a_period_is_chosen_without_javascript(
    no_js_context: Callable[[], BrowserContext], sign_in: SignIn
) -> None:
    page = no_js_context().new_page()
    sign_in(page, ADMIN)
    visit(page, "/training/reports/take-up")
    # This financial year's dates are filled in; a to date before them is refused.
    from_year = int(page.get_by_role("group", name="From").get_by_label("Year").input_value())
    period_to = page.get_by_role("group", name="To")
    period_to.get_by_label("Year").fill(str(from_year - 1))
    page.get_by_role("button", name="Show figures").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text(
        "The to date must be the same as or after the from date"
    )
    period_to.get_by_label("Year").fill(str(from_year + 1))
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_url(re.compile(f"date_to={from_year + 1}"))
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the take-up by area as CSV").click()
    assert download.value.suggested_filename.startswith("training-take-up-by-area-")
