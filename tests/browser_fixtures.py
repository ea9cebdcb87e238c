"""Browser tests: the real portal on a live server, driven through the system's Chromium.

A plugin (tests/conftest.py loads it), so that every capability's folder can have its
browser tests beside the rest: tests/<capability>/test_browser.py, or test_browser_<part>.py
for a capability with several journeys. Tests in files so named are marked ``browser`` and
``slow``; the live server starts when the first of them asks for it.

One seeded portal serves the whole session. Every page a test visits can be checked with
:func:`check_page`: axe-core for accessibility (WCAG 2.2 AA and best practice), and a guard
that fails on anything the Content-Security-Policy refused, any script error, and any
stylesheet, script, image or htmx request that did not load.

Without Chromium (or axe-core) these tests skip, saying why; with ``CI=true`` they fail
instead, so that a CI run can never pass by quietly testing nothing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    WebError,
    expect,
)
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import update

from portal import create_app
from portal.cli import upgrade_database
from portal.db import db
from portal.models import User
from portal_seed.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET, seed
from tests.live import serve

ROOT = Path(__file__).resolve().parent.parent
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"

CHROMIUM = "/usr/bin/chromium"
# The flags Debian's Chromium needs on this kind of machine: no sandbox (we run
# in a container), no GPU, and none of the background traffic to Google's servers.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

IN_CI = os.environ.get("CI", "").lower() == "true"

AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def unavailable(reason: str) -> NoReturn:
    """Skip the browser tests, or under CI fail them: CI must never skip them unnoticed."""
    if IN_CI:
        pytest.fail(f"CI=true, so the browser tests must run, but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


# tests/<capability>/test_browser.py, or test_browser_<part>.py.
BROWSER_TESTS = re.compile(r"test_browser(_\w+)?\.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items; mark only ours. tryfirst, so that `-m` sees it.
    for item in items:
        if BROWSER_TESTS.fullmatch(item.path.name):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            # Under `make test` (--dist loadgroup) one xdist worker runs them all: one live
            # server and one Chromium, rather than one a worker fighting for the cores. (The
            # mark is xdist's own: without xdist, as with -p no:xdist, it is not known.)
            if config.pluginmanager.hasplugin("xdist"):
                item.add_marker(pytest.mark.xdist_group("browser"))


# --- the portal on a live server -------------------------------------------------------------


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The seeded portal that live_server serves."""
    directory = tmp_path_factory.mktemp("browser")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'browser.sqlite3'}",
            # The demo claims' invoices and what the tests upload: never the repository's
            # instance/ (nor is the mail, below).
            "CLAIM_EVIDENCE_DIRECTORY": str(directory / "claim-evidence"),
            "MAIL_DIRECTORY": str(directory / "mail"),
            "TESTING": False,
            "SIGN_IN_RATE_LIMIT": "1000 per minute",
        }
    )
    with app.app_context():
        upgrade_database()
        seed()
    try:
        yield app
    finally:
        app.extensions["portal.db"].engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """The seeded portal served over HTTP on a free port; yields its base URL."""
    with serve(live_app) as base:
        yield base


# --- Chromium, through pytest-playwright's own fixtures -------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """The system's Chromium (never `playwright install`, which downloads a browser), with the
    flags above."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    """pytest-playwright's browser, but a Chromium that cannot start skips (or fails in CI)."""
    try:
        browser = launch_browser()
    except PlaywrightError as error:
        unavailable(f"{CHROMIUM} did not start: {error.message.splitlines()[0]}")
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        unavailable(f"{AXE_SCRIPT.relative_to(ROOT)} is missing (make setup installs it)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


# --- the guard: CSP refusals, script errors, resources that did not load --------------------


class PageGuard:
    """Collects what went wrong in the browser while a test ran, from every watched context."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", self._page_error)
        context.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.problems.append(
                f"CSP violation on {message.page.url if message.page else '?'}: {text}"
            )

    def _page_error(self, error: WebError) -> None:
        where = error.page.url if error.page else "?"
        self.problems.append(f"JavaScript error on {where}: {error.error}")

    def _response(self, response: Response) -> None:
        # A page may answer 4xx on purpose (the 404 page, a form with errors); the stylesheet,
        # scripts, fonts, images and htmx fragments it asks for may not.
        request = response.request
        if response.status >= 400 and request.resource_type != "document":
            self.problems.append(
                f"{request.resource_type} {request.method} {response.url} "
                f"answered {response.status} (on {request.frame.url})"
            )

    def check(self, where: str) -> None:
        problems, self.problems = self.problems, []
        if problems:
            pytest.fail(
                f"the browser reported problems by {where}:\n  " + "\n  ".join(problems),
                pytrace=False,
            )


@pytest.fixture
def page_guard() -> Iterator[PageGuard]:
    guard = PageGuard()
    yield guard
    # Whatever happened after the test's last check (e.g. on the page it ended on).
    guard.check("the end of the test")


@pytest.fixture
def new_context(new_context: Callable[..., BrowserContext], page_guard: PageGuard) -> Any:
    """pytest-playwright's new_context, each context watched by the guard.

    `context` and `page` are built on this, so every page a test uses is watched. Never
    `bypass_csp`: catching what the policy refuses is half the point.
    """

    def make(**kwargs: Any) -> BrowserContext:
        context = new_context(**kwargs)
        context.set_default_timeout(10_000)
        page_guard.watch(context)
        return context

    return make


@pytest.fixture
def no_js_page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page with JavaScript off: what a person without it (or before it loads) gets."""
    return new_context(java_script_enabled=False).new_page()


@pytest.fixture
def no_js_context(new_context: Callable[..., BrowserContext]) -> Callable[[], BrowserContext]:
    """no_js_context(): a new context with JavaScript off, for a second person without it."""
    return lambda: new_context(java_script_enabled=False)


# --- axe ----------------------------------------------------------------------------------


# Waits for the CSS transitions and animations running now (those that end) to end. An htmx
# indicator ("Updating…") fades out over 200 ms once its request is answered: caught half-way,
# its text has half its contrast, and axe rightly reports it. axe is to judge the page as a
# person reads it once it is still, not a frame of a fade.
SETTLE = """() => Promise.all(document.getAnimations()
    .filter(animation => animation.effect?.getComputedTiming().endTime !== Infinity)
    .map(animation => animation.finished.catch(() => null)))"""


def run_axe(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations for the page as it is now, once its transitions have ended.

    page.evaluate runs in the page without being subject to its CSP, so the injection does
    not need (and must not get) bypass_csp.
    """
    page.evaluate(SETTLE)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    violations: list[dict[str, Any]] = page.evaluate(
        "options => axe.run(document, options).then(results => results.violations)", AXE_OPTIONS
    )
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"]:
            lines.append(f"    {json.dumps(node['target'])}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


CheckPage = Callable[..., None]


@pytest.fixture
def check_page(axe_source: str, page_guard: PageGuard) -> CheckPage:
    """check_page(page, where): axe finds no violation and the guard saw nothing wrong."""

    def check(page: Page, where: str | None = None) -> None:
        where = where or page.url
        violations = run_axe(page, axe_source)
        page_guard.check(where)
        assert not violations, (
            f"axe found {len(violations)} accessibility violation(s) on {where}:\n"
            + describe_violations(violations)
        )

    return check


# --- signing in -----------------------------------------------------------------------------


SignIn = Callable[..., None]
COUNCIL_EMAILS = frozenset(account.email for account in ACCOUNTS if account.role.is_council)


ForgetCode = Callable[[str], None]


@pytest.fixture
def forget_last_security_code(live_app: Flask) -> ForgetCode:
    """forget_last_security_code(email): that person may use the current code again.

    An authenticator code works once, and the demo council shares one secret, so signing one
    demo person in twice within 30 seconds (in two tests) would rightly be refused the second
    time. In life the second sign-in would come with a later code; here the live portal's
    record of the last one is cleared instead, leaving its check as it is.
    """

    def forget(email: str) -> None:
        with live_app.app_context():
            db.session.execute(update(User).where(User.email == email).values(totp_last_step=None))
            db.session.commit()

    return forget


@pytest.fixture
def sign_in(base_url: str, forget_last_security_code: ForgetCode) -> SignIn:
    """sign_in(page, email): sign in through the form, as a person would, and arrive home."""

    def sign_in_as(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/sign-in")
        page.get_by_label("E-mail address", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        if email in COUNCIL_EMAILS:
            # Council staff give the code from their authenticator app: the demo secret's.
            expect(page).to_have_url(f"{base_url}/sign-in/code")
            forget_last_security_code(email)
            code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
            page.get_by_label("Enter your security code", exact=True).fill(code)
            page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(f"{base_url}/")

    return sign_in_as
