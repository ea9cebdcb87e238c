"""A response's page, read as a person would read it: parsed, its error summary, its banner."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup


def soup(response: Any) -> BeautifulSoup:
    """The page a test client's response carries, parsed, whatever its status."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def ok_soup(response: Any) -> BeautifulSoup:
    """The page, parsed, once its status is checked: 200."""
    assert response.status_code == 200, response.status_code
    return soup(response)


def error_summary(response: Any) -> list[str]:
    """The messages of the page's error summary (none when it has no summary)."""
    summary = soup(response).select_one(".govuk-error-summary")
    return [] if summary is None else [a.get_text(strip=True) for a in summary.select("li a")]


def banner(response: Any) -> str:
    """The words of the page's notification banner ("" when it has none)."""
    found = soup(response).select_one(".govuk-notification-banner")
    return "" if found is None else found.get_text(" ", strip=True)
