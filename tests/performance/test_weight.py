"""The weight budget: every page's first load (its HTML with the CSS and JavaScript it pulls
in, as the server sends them compressed) is under 150 KB, and an htmx fragment is under a tenth
of its page's first load, since the point of a fragment is to spare the rest.

The pages are those of the access matrix, each visited as a role that may see it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.access.test_access_matrix import CASES, ROLES, Case
from tests.helpers.routes import resolve

# Every page of the access matrix, as each role: left out of make test-fast.
pytestmark = pytest.mark.slow

BUDGET = 150 * 1024
ACCEPT = {"Accept-Encoding": "br, gzip"}
ASSET = re.compile(r'<(?:link rel="stylesheet"|script)[^>]*?(?:href|src)="(/static/[^"]+)"')
MODULE_IMPORT = re.compile(r'\bfrom\s+"(\.[^"]+)"')


def pages_for(role: str, htmx: bool) -> list[Case]:
    return [
        case
        for case in CASES
        if case.method == "GET" and case.htmx == htmx and case.expected(role) == case.ok == 200
    ]


def sent(browser: FlaskClient, url: str, **headers: str) -> tuple[int, str, str, str]:
    """Bytes on the wire for ``url``, its Content-Encoding and type, and its body as text."""
    response = browser.get(url, headers={**ACCEPT, **headers})
    assert response.status_code == 200, url
    wire = response.get_data()
    encoding = response.headers.get("Content-Encoding", "")
    mimetype = response.mimetype
    response.close()
    text = _decoded(wire, encoding) if mimetype.startswith(("text/", "application/j")) else ""
    return len(wire), encoding, mimetype, text


def _decoded(wire: bytes, encoding: str) -> str:
    if encoding == "br":
        import brotli

        return brotli.decompress(wire).decode()
    if encoding == "gzip":
        import gzip

        return gzip.decompress(wire).decode()
    assert encoding == "", encoding
    return wire.decode()


def asset_weight(browser: FlaskClient, url: str, seen: dict[str, int]) -> int:
    """An asset's compressed size plus that of the modules it imports, each counted once."""
    if url in seen:
        return 0
    size, encoding, _, text = sent(browser, url)
    # Anything worth compressing is compressed: only a tiny file may travel as it is.
    assert encoding in {"br", "gzip"} or size < 500, f"{url} sent uncompressed ({size} bytes)"
    seen[url] = size
    total = size
    if urlsplit(url).path.endswith(".mjs"):
        folder = urlsplit(url).path.rsplit("/", 1)[0]
        for relative in MODULE_IMPORT.findall(text):
            total += asset_weight(browser, f"{folder}/{relative.removeprefix('./')}", seen)
    return total


def first_load(browser: FlaskClient, path: str) -> int | None:
    """A page's HTML, CSS and JS as sent, compressed; None for what is not a page (a CSV)."""
    size, encoding, mimetype, html = sent(browser, path)
    if mimetype != "text/html":
        return None
    assert encoding in {"br", "gzip"} or size < 500, f"{path} sent uncompressed ({size} bytes)"
    seen: dict[str, int] = {}
    return size + sum(asset_weight(browser, url, seen) for url in ASSET.findall(html))


@pytest.mark.parametrize("role", ROLES)
def test_every_page_first_load_is_under_150_kb(
    role: str,
    browser_for: Callable[[str], FlaskClient],
    session,
) -> None:
    browser = browser_for(role)
    weights = {
        case.path: first_load(browser, resolve(session, case.path))
        for case in pages_for(role, htmx=False)
    }
    assert weights, f"no pages for {role}"
    heavy = {path: weight for path, weight in weights.items() if (weight or 0) >= BUDGET}
    assert heavy == {}, "pages over the 150 KB first-load budget"


@pytest.mark.parametrize("role", ROLES)
def test_every_htmx_fragment_is_under_a_tenth_of_its_page(
    role: str,
    browser_for: Callable[[str], FlaskClient],
    session,
) -> None:
    browser = browser_for(role)
    for case in pages_for(role, htmx=True):
        path = resolve(session, case.path)
        page = first_load(browser, path)
        assert page is not None
        fragment, _, _, text = sent(browser, path, **{"HX-Request": "true"})
        # A fragment, not the page again: no document around it.
        assert "<html" not in text, f"{path} answered htmx with a whole page"
        assert fragment < page / 10, f"{path}: fragment {fragment} B of a {page} B page"


def test_the_buy_back_total_is_under_a_tenth_of_its_category_page(
    client_for: Callable[[str], FlaskClient],
    session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one htmx fragment a form posts for (every change of answer on a category page)."""
    from bs4 import BeautifulSoup

    from portal import clock
    from tests.buyback.test_buyback import DURING, category_paths, form_data

    monkeypatch.setattr(clock, "now", lambda: DURING)
    head = client_for("head_teacher")
    summary = head.get(resolve(session, "/buy-back/{school:125601}")).get_data(as_text=True)
    for path in category_paths(BeautifulSoup(summary, "html.parser")):
        page = first_load(head, path)
        assert page is not None
        form = form_data(BeautifulSoup(head.get(path).get_data(as_text=True), "html.parser"))
        response = head.post(
            path, data={**form, "action": "total"}, headers={**ACCEPT, "HX-Request": "true"}
        )
        wire = response.get_data()
        text = _decoded(wire, response.headers.get("Content-Encoding", ""))
        assert "<html" not in text and "every category" in text
        assert len(wire) < page / 10, f"{path}: fragment {len(wire)} B of a {page} B page"
