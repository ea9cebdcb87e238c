"""No page is served from a copy: every response is drawn from the database as it stands.

Issue #18 took out the pages kept per person (and their stamps, Redis store and settings).
These tests fail if anything like them comes back: a view wrapped in a response cache, a
hook that answers before the views, a module of the portal that keeps responses, a page
that does not show a change made straight in the database on the very next request, or a
page left in Redis.
"""

from __future__ import annotations

import functools
import re
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from portal import clock
from portal.models import Contact, School, Service, ServiceCategory
from tests.buyback.test_buyback import DURING
from tests.conftest import rolled_back, sign_in

ROOT = Path(__file__).resolve().parents[2]

# What a response cache leaves on the function it wraps: Flask-Caching's cached() and
# memoize(), functools' caches, and the portal's own kept pages before issue #18.
CACHE_ATTRIBUTES = (
    "cache_timeout",
    "make_cache_key",
    "uncached",
    "cache_info",
    "cache_clear",
    "page_cache",
)
# Packages that keep responses, none of which the portal may use.
RESPONSE_CACHE_PACKAGES = ("flask_caching", "cachelib", "requests_cache", "flask_cache")


def _defined_in(function: Callable[..., Any]) -> str:
    """The module that defined ``function`` itself: functools.wraps copies ``__module__``
    from the function wrapped, never the wrapper's globals."""
    module = getattr(function, "__globals__", {}).get("__name__")
    return str(module or getattr(function, "__module__", ""))


def _layers(view: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """``view`` and every function it wraps, outermost first."""
    seen: set[int] = set()
    layer: Any = view
    while layer is not None and id(layer) not in seen:
        seen.add(id(layer))
        yield layer
        layer = getattr(layer, "__wrapped__", None)


def _looks_like_a_cache(function: Callable[..., Any]) -> str | None:
    module = _defined_in(function)
    if "cache" in module.lower() or module.startswith(RESPONSE_CACHE_PACKAGES):
        return f"defined in {module}"
    found = [name for name in CACHE_ATTRIBUTES if hasattr(function, name)]
    return f"has {', '.join(found)}" if found else None


def response_caches(app: Flask) -> list[str]:
    """Each view layer, or request hook, of ``app`` that looks like a response cache."""
    found = []
    for endpoint, view in app.view_functions.items():
        for layer in _layers(view):
            why = _looks_like_a_cache(layer)
            if why:
                found.append(f"view {endpoint}: {layer.__qualname__} {why}")
    hooks = [*app.before_request_funcs.values(), *app.after_request_funcs.values()]
    for hook in (hook for registered in hooks for hook in registered):
        why = _looks_like_a_cache(hook)
        if why:
            found.append(f"hook {getattr(hook, '__qualname__', hook)} {why}")
    return found


def test_no_view_or_hook_is_a_response_cache(seeded_app: Flask) -> None:
    assert len(seeded_app.view_functions) > 50
    assert response_caches(seeded_app) == []


def _kept(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def serving(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return serving


def _serve_copy() -> None:
    return None


def _moved(function: Callable[..., Any], module: types.ModuleType) -> Callable[..., Any]:
    """``function`` as if ``module`` had defined it."""
    return types.FunctionType(function.__code__, module.__dict__, function.__name__)


def test_a_view_wrapped_in_a_cache_would_be_found(make_app: Any) -> None:
    """The check above can fail: a view wrapped as Flask-Caching or functools would wrap it,
    or by a decorator from a module of caches, is found; a hook from one too."""
    app = make_app()
    module = types.ModuleType("portal.response_cache")
    module.functools = functools
    kept, serve_copy = _moved(_kept, module), _moved(_serve_copy, module)

    def flask_caching_style(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def cached(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        cached.cache_timeout = 60
        return cached

    home = app.view_functions["main.home"]
    app.view_functions["main.home"] = kept(home)
    app.view_functions["main.privacy"] = flask_caching_style(app.view_functions["main.privacy"])
    app.view_functions["main.cookies"] = functools.cache(app.view_functions["main.cookies"])
    app.before_request(serve_copy)
    found = response_caches(app)
    assert [entry.split(":")[0] for entry in found] == [
        "view main.home",
        "view main.privacy",
        "view main.cookies",
        "hook _serve_copy defined in portal.response_cache",
    ]


def test_no_module_of_the_portal_keeps_responses(seeded_app: Flask) -> None:
    portal_modules = {name for name in sys.modules if name.split(".")[0] == "portal"}
    assert "portal.rendering" in portal_modules  # the app is loaded: the check means something
    assert not [name for name in portal_modules if "cache" in name]
    assert not [name for name in sys.modules if name.startswith(RESPONSE_CACHE_PACKAGES)]
    # What the kept pages were called, in the source too (where a module not yet imported
    # by the tests would hide it).
    removed = re.compile(r"\bpage_cache\b|@kept\b|\bkept\(|\bfresh\(|PAGE_CACHE|\bdata_stamp\b")
    named = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "portal").rglob("*.py"))
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if removed.search(line)
    ]
    assert named == []
    assert "PAGE_CACHE_MB" not in seeded_app.config


# --- a change made in the database shows on the very next request --------------------------


def _text(response: Any) -> str:
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return " ".join(page.get_text(" ").split())


def change_outside_the_portal(session: Any, statements: str | tuple[str, ...]) -> None:
    """Run ``statements`` as psql would, past every hook the portal's engine has: through the
    database driver itself, on the test's connection (so inside its transaction, rolled
    back at the end). A cache told of changes by the portal's own writes would miss it."""
    cursor = session.connection().connection.driver_connection.cursor()
    for statement in (statements,) if isinstance(statements, str) else statements:
        cursor.execute(statement)
    cursor.close()
    session.commit()


def _oakfield(session: Any) -> School:
    return session.scalars(select(School).where(School.urn == 125601)).one()


def _service(session: Any, name: str) -> Service:
    return session.scalars(select(Service).where(Service.name == name)).one()


def _category(session: Any, name: str) -> ServiceCategory:
    return session.scalars(select(ServiceCategory).where(ServiceCategory.name == name)).one()


# Each main page, whose it is, the change made and what the page shows before and after.
# The school is Oakfield Primary (412 pupils, North); its buy-back window is open.
CHANGES: dict[str, tuple[str, str, str | tuple[str, ...], str, str]] = {
    "home": (
        "head_teacher",
        "/",
        "UPDATE support_request SET respond_by = '2026-12-30' WHERE reference = 'CAF-2026-000002'",
        "A CAF officer will respond by 21 December 2026",
        "A CAF officer will respond by 30 December 2026",
    ),
    "home, the school renamed": (
        "head_teacher",
        "/",
        "UPDATE school SET name = 'Oakfield Renamed School' WHERE urn = 125601",
        "Oakfield Primary School",
        "Oakfield Renamed School",
    ),
    "contacts": (
        "school_staff",
        "/contacts/",
        "UPDATE contact SET name = 'Chris Renamed-North', phone = '+441214960199'"
        " WHERE email = 'caf.north@council.example'",
        "CAF officer: Chris Demo-North CAF officer Telephone 0121 496 0100",
        "CAF officer: Chris Renamed-North CAF officer Telephone 0121 496 0199",
    ),
    "a contacts search": (
        "school_staff",
        "/contacts/?q=CAF",
        "UPDATE contact SET name = 'Chris Renamed-North' WHERE email = 'caf.north@council.example'",
        "Chris Demo-North",
        "Chris Renamed-North",
    ),
    "the catalogue": (
        "head_teacher",
        "/services/",
        "UPDATE service SET name = 'Behaviour outreach, renamed'"
        " WHERE name = 'Behaviour support outreach'",
        "Behaviour support outreach",
        "Behaviour outreach, renamed",
    ),
    "a price in the catalogue": (
        "head_teacher",
        "/services/",
        # A published offer's prices change only with a new publication (offers.py keys what
        # it keeps on the offer's publication time): re-priced and published again, by hand.
        # Oakfield is a primary: a per-pupil rate of its own for its phase, 700p x 412.
        (
            'UPDATE price_option SET rates = \'{"by_phase": {"Primary": 700, "Secondary": 742}}\''
            " WHERE id IN (SELECT price_option.id FROM price_option"
            " JOIN service_offer ON service_offer.id = price_option.offer_id"
            " JOIN service ON service.id = service_offer.service_id"
            " WHERE service.name = 'Attendance and education social work'"
            " AND service_offer.year = 2027)",
            "UPDATE service_offer SET published_at = '2026-11-30 09:00:00'"
            " WHERE year = 2027 AND service_id IN"
            " (SELECT id FROM service WHERE name = 'Attendance and education social work')",
        ),
        "Your price: Annual service £2,760.40",
        "Your price: Annual service £2,884.00",
    ),
    "a service": (
        "head_teacher",
        "/services/{service}",
        "UPDATE service SET name = 'Behaviour outreach, renamed'"
        " WHERE name = 'Behaviour support outreach'",
        "Behaviour support outreach",
        "Behaviour outreach, renamed",
    ),
    "the buy-back task list": (
        "head_teacher",
        "/buy-back/{school}",
        "UPDATE service_category SET name = 'Governors, renamed' WHERE name = 'Governor services'",
        "Governor services",
        "Governors, renamed",
    ),
    # The services a school may buy are worked out once per catalogue version for each kind
    # of school (portal/buyback/offer.py): a service moved, or no longer for its phase.
    "the buy-back task list, a service moved to another category": (
        "head_teacher",
        "/buy-back/{school}",
        "UPDATE service SET category_id ="
        " (SELECT id FROM service_category WHERE name = 'Admissions and transport')"
        " WHERE name = 'Behaviour support outreach'",
        "Behaviour support 1 service; buying £189.63",
        "Admissions and transport 1 service; buying £189.63",
    ),
    "the buy-back task list, a service no longer for primary schools": (
        "head_teacher",
        "/buy-back/{school}",
        "UPDATE service SET phases = '[\"Secondary\"]' WHERE name = 'Behaviour support outreach'",
        "Attendance and education social work 1 service Completed Behaviour support",
        "Attendance and education social work 1 service Completed Educational psychology",
    ),
    "a buy-back category": (
        "head_teacher",
        "/buy-back/{school}/categories/{category}",
        "UPDATE service SET name = 'Behaviour outreach, renamed'"
        " WHERE name = 'Behaviour support outreach'",
        "Behaviour support outreach",
        "Behaviour outreach, renamed",
    ),
    "the school's requests": (
        "head_teacher",
        "/support/",
        "UPDATE support_request SET respond_by = '2026-12-30' WHERE reference = 'CAF-2026-000002'",
        "CAF-2026-000002 Oakfield Primary School A Team Around the Family meeting Routine New"
        " 21 December 2026",
        "CAF-2026-000002 Oakfield Primary School A Team Around the Family meeting Routine New"
        " 30 December 2026",
    ),
    "the officer's queue": (
        "caf_officer",
        "/support/",
        "UPDATE school SET name = 'Oakfield Renamed School' WHERE urn = 125601",
        "CAF-2026-000002 Oakfield Primary School",
        "CAF-2026-000002 Oakfield Renamed School",
    ),
}


# The demo's requests are due a number of working days after the day it is seeded: the pages
# that show a due date are given a known one first, whatever day the suite runs.
KNOWN_DUE_DATE = (
    "UPDATE support_request SET respond_by = '2026-12-21' WHERE reference = 'CAF-2026-000002'"
)
PREPARED = {"home": KNOWN_DUE_DATE, "the school's requests": KNOWN_DUE_DATE}


@pytest.mark.parametrize("page", CHANGES)
def test_a_change_made_in_the_database_shows_on_the_very_next_request(
    page: str,
    client_for: Callable[[str], FlaskClient],
    session: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "now", lambda: DURING)
    role, path, statement, before, after = CHANGES[page]
    path = path.format(
        school=_oakfield(session).id,
        service=_service(session, "Behaviour support outreach").id,
        category=_category(session, "Behaviour support").id,
    )
    if page in PREPARED:
        change_outside_the_portal(session, PREPARED[page])
    browser = client_for(role)
    # Asked for twice, as a person going back to it would: a copy, had one been made, would
    # be there to serve.
    for _ in range(2):
        shown = _text(browser.get(path))
        assert before in shown and after not in shown

    change_outside_the_portal(session, statement)

    shown = _text(browser.get(path))
    assert after in shown
    assert before not in shown


def test_the_catalogues_filters_change_with_the_offers_and_categories_at_once(
    client_for: Callable[[str], FlaskClient], session: Any
) -> None:
    """The catalogue's filters (its years and categories) are worked out once per version of
    the offers and categories (portal/versions.py, migration 0023): a category renamed, or an
    offer moved to a year of its own, straight in the database, is offered on the very next
    request; and a change rolled back is not."""
    browser = client_for("head_teacher")

    def offered() -> tuple[list[str], list[str]]:
        page = BeautifulSoup(browser.get("/services/").get_data(as_text=True), "html.parser")
        return (
            [option.get_text(strip=True) for option in page.select("select#year option")],
            [option.get_text(strip=True) for option in page.select("select#category option")],
        )

    years, categories = offered()
    assert "Governor services" in categories and "2031-32" not in years
    assert offered() == (years, categories)  # asked for again: the same

    change_outside_the_portal(
        session,
        "UPDATE service_category SET name = 'Governors, renamed' WHERE name = 'Governor services'",
    )
    years, categories = offered()
    assert "Governors, renamed" in categories and "Governor services" not in categories

    change_outside_the_portal(
        session,
        "UPDATE service_offer SET year = 2031"
        " WHERE id = (SELECT min(id) FROM service_offer WHERE status = 'published')",
    )
    years, _ = offered()
    assert "2031-32" in years

    # Rolled back: what the tables hold again is what is offered again.
    session.execute(text("SAVEPOINT probe"))
    session.execute(
        text("UPDATE service_category SET name = 'Gone' WHERE name = 'Health and safety'")
    )
    assert "Gone" in offered()[1]
    session.execute(text("ROLLBACK TO SAVEPOINT probe"))
    assert "Gone" not in offered()[1] and "Health and safety" in offered()[1]


def test_a_contact_card_is_drawn_anew_after_its_contact_changes(
    client_for: Callable[[str], FlaskClient], session: Any
) -> None:
    """Contact cards are kept once drawn, keyed on what they show (portal/contacts/display.py):
    a contact changed in any way shown on the card is a new card, on every page showing it."""
    staff = client_for("school_staff")
    contact = session.scalars(
        select(Contact).where(Contact.email == "caf.north@council.example")
    ).one()
    shown = _text(staff.get(f"/contacts/{contact.id}"))
    assert "Contact them about Whether to start an early help assessment" in shown
    assert "Contact them about Whether to start an early help assessment" in _text(
        staff.get("/contacts/")
    )
    change_outside_the_portal(
        session,
        "UPDATE contact SET help_with = 'Anything about early help', email ="
        " 'caf.north.renamed@council.example' WHERE email = 'caf.north@council.example'",
    )
    for path in (f"/contacts/{contact.id}", "/contacts/"):
        shown = _text(staff.get(path))
        assert "Contact them about Anything about early help" in shown, path
        assert "caf.north.renamed@council.example" in shown, path
        assert "Whether to start an early help assessment" not in shown, path


# --- Redis holds no page ---------------------------------------------------------------------


def test_redis_holds_no_page(make_app: Any, redis_url: str) -> None:
    """With Redis for everything it is used for, the main pages leave no copy of themselves
    (nor anything they show) in it."""
    app = make_app(REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url)
    with rolled_back(app):
        with app.extensions["portal.db"].session_factory() as session:
            school_id = _oakfield(session).id
        head = app.test_client()
        assert sign_in(head, "head@oakfield.example").status_code == 303
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(clock, "now", lambda: DURING)
            for path in ("/", "/contacts/", "/services/", f"/buy-back/{school_id}", "/support/"):
                for _ in range(2):
                    assert head.get(path).status_code == 200, path
    client = redis.Redis.from_url(redis_url)
    try:
        stored = []
        for key in client.scan_iter(count=1000):
            kind = client.type(key)
            if kind == b"string":
                stored.append(client.get(key) or b"")
            elif kind == b"hash":
                stored.extend(client.hgetall(key).values())
            elif kind == b"list":
                stored.extend(client.lrange(key, 0, -1))
            stored.append(key)
    finally:
        client.close()
    # The rate limits are there: the check looked in the right place.
    assert stored
    shown = [b"<html", b"Oakfield", b"caf.north@council.example", b"CAF-2026-"]
    assert [value[:80] for value in stored if any(text in value for text in shown)] == []


@pytest.mark.parametrize("path", ["/contacts/", "/services/"])
def test_a_signed_in_page_learns_the_shared_versions_with_the_person(
    path: str, client_for: Callable[[str], FlaskClient], count_queries: Any
) -> None:
    """The contacts directory's and the catalogue's versions come in the statement every
    signed-in request sends for the person (portal/versions.py): the page sends none of
    its own to learn them."""
    browser = client_for("school_staff")
    browser.get(path)  # what is worked out once per version, worked out
    with count_queries() as counter:
        assert browser.get(path).status_code == 200
    versions_read = [s for s in counter.statements if "_version" in s or "contact_directory" in s]
    assert len(versions_read) == 1, versions_read
    assert "user_account" in versions_read[0]
