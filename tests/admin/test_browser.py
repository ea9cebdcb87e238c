"""The audit log in a real browser: council staff read it in plain words, filter it as they
choose (the list changes in place), and axe finds nothing wrong with it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, SignIn


def test_council_staff_read_the_audit_log_in_plain_words(
    page: Page, sign_in: SignIn, check_page: CheckPage
) -> None:
    sign_in(page, "admin@council.example")
    page.goto("/admin/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    check_page(page, "/admin/audit")

    # Choosing what happened narrows the list in place (htmx), in words, never codes.
    page.evaluate("window.__marker = 1")
    page.get_by_label("What happened", exact=True).select_option(label="Signed in")
    expect(page).to_have_url(re.compile(r"[?&]action=auth\.sign_in(&|$)"))
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_be_visible()
    assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {"Signed in"}
    expect(rows.first.locator("td:nth-child(4)")).to_have_text("Alex Demo-Admin (user)")
    assert page.evaluate("window.__marker") == 1, "choosing a kind loaded a whole new page"
    check_page(page, "/admin/audit filtered to sign-ins")
