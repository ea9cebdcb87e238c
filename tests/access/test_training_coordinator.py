"""The training coordinator, a council role: what the portal offers them is what they may use.

The access matrix checks each route's answer; this walks the pages as the coordinator finds
them, from the home page, so that no page offers them a link they would then be refused.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import School
from tests.helpers.html import ok_soup

# Enough to reach every section's pages and each of their links, not every page of a list.
MOST_PAGES = 120


def links_on(client: FlaskClient, path: str) -> list[str]:
    """The portal's own pages that ``path``'s page links to (not its assets, nor signing out)."""
    page = ok_soup(client.get(path))
    found = []
    for anchor in page.select("a[href]"):
        href = urlsplit(anchor["href"])
        if href.scheme or href.netloc or not href.path.startswith("/"):
            continue
        if href.path.startswith("/static/") or anchor.has_attr("download"):
            continue
        found.append(href.path + (f"?{href.query}" if href.query else ""))
    return found


def test_the_coordinator_is_offered_no_page_they_are_refused(client_for) -> None:
    coordinator = client_for("training_coordinator")
    seen = {"/"}
    waiting = deque(["/"])
    refused = []
    while waiting and len(seen) < MOST_PAGES:
        path = waiting.popleft()
        for link in links_on(coordinator, path):
            if link in seen:
                continue
            seen.add(link)
            response = coordinator.get(link)
            response.close()
            if response.status_code != 200:
                refused.append((path, link, response.status_code))
            elif response.mimetype == "text/html":
                waiting.append(link)
    assert refused == []
    # It did find its way about: every school, contact and service.
    assert {"/schools/", "/contacts/", "/services/", "/contacts/letter"} <= seen


def test_the_coordinator_sees_every_school_as_council_staff_do(client_for, session) -> None:
    page = ok_soup(client_for("training_coordinator").get("/schools/"))
    schools = session.scalar(select(func.count()).select_from(School))
    assert f"of {schools} schools" in page.get_text(" ", strip=True)
