"""The database out of reach, in a browser: a search typed while it is gone shows the portal's
"service unavailable" page in the whole window (accessible, nothing refused by the policy),
and the same page works again, still signed in, once the database is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal import create_app
from portal_seed.demo import DEMO_PASSWORD
from tests.browser_fixtures import CheckPage, PageGuard
from tests.db.test_outage import Outage
from tests.live import serve


@pytest.fixture
def outage(live_app: Flask, tmp_path: Path) -> Iterator[tuple[str, Outage]]:
    """The browser tests' portal again, on a server of its own whose database can be taken
    away; yields its base URL."""
    outage = Outage(live_app.config["DATABASE_URL"], tmp_path)
    app = create_app(
        {
            "DATABASE_URL": outage.url,
            "TESTING": False,
            "SECRET_KEY": "browser-outage-" + "k" * 48,
            "SIGN_IN_RATE_LIMIT": "1000 per minute",
        }
    )
    outage.app = app
    try:
        with serve(app, "outage") as base:
            yield base, outage
    finally:
        app.extensions["portal.db"].engine.dispose()


def test_a_search_while_the_database_is_down_shows_the_unavailable_page(
    page: Page, outage: tuple[str, Outage], check_page: CheckPage, page_guard: PageGuard
) -> None:
    base, database = outage
    page.goto(f"{base}/sign-in")
    page.get_by_label("E-mail address", exact=True).fill("head@oakfield.example")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/")
    page.goto(f"{base}/schools/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Schools")

    database.down()
    page.get_by_label("Search by name, URN or postcode").press_sequentially("Oak")
    # Not a search that silently does nothing: the window shows why.
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Sorry, the service is unavailable")
    expect(page.get_by_text("If you were sending a form, it has not been saved")).to_be_visible()
    # The search itself answered 503, as it should: the one failure the guard may see.
    page_guard.problems = [p for p in page_guard.problems if "/schools/?q=" not in p]
    check_page(page, "the service unavailable page")

    database.up()
    page.reload()
    expect(heading).to_have_text("Schools")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    check_page(page, "/schools once the database was back")
