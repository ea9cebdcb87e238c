"""Moving about the portal in Chromium, for the browser tests (tests/*/test_browser.py)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page


def visit(page: Page, path: str, status: int = 200) -> None:
    """Opens ``path`` and checks the status it answered."""
    response = page.goto(path)
    assert response is not None, f"no response for {path}"
    assert response.status == status, f"{path} answered {response.status}, not {status}"


def set_marker(page: Page) -> None:
    """A mark in the window: gone if anything loads a whole new page."""
    page.evaluate("window.__marker = 1")


def assert_no_page_load(page: Page, what: str) -> None:
    """No whole new page has loaded since set_marker: ``what`` changed the page in place."""
    assert page.evaluate("window.__marker") == 1, f"{what} loaded a whole new page"


def h1(page: Page) -> Locator:
    """The page's main heading."""
    return page.get_by_role("heading", level=1)
