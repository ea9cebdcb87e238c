"""Council staff set up an authenticator app in a real browser: the QR code loads under the
Content-Security-Policy, every page passes axe, and a recovery code signs them in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from portal import create_app
from portal.cli import upgrade_database
from portal.db import db
from portal.models import User
from portal_seed.demo import DEMO_PASSWORD, seed
from tests.live import serve

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage

PUBLISHER = "publisher@council.example"


@pytest.fixture(scope="module")
def portal_to_set_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A portal of its own (the shared one's council is set up already) whose demo publisher
    has no second factor yet; yields its base URL."""
    directory = tmp_path_factory.mktemp("two-factor")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'portal.sqlite3'}",
            # seed-demo keeps the demo claims' invoices: never in the repository's instance/.
            "CLAIM_EVIDENCE_DIRECTORY": str(directory / "claim-evidence"),
            "TESTING": False,
            "SIGN_IN_RATE_LIMIT": "1000 per minute",
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_KIB": 1024,
        }
    )
    with app.app_context():
        upgrade_database()
        seed()
        publisher = db.session.scalars(select(User).where(User.email == PUBLISHER)).one()
        publisher.totp_secret = None
        publisher.totp_enabled_at = None
        db.session.commit()
    try:
        with serve(app, name="two-factor") as base:
            yield base
    finally:
        app.extensions["portal.db"].engine.dispose()


def sign_in_with_password(page: Page, base: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("E-mail address", exact=True).fill(PUBLISHER)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_publisher_sets_up_an_app_then_signs_in_with_a_recovery_code(
    new_context: Callable[..., BrowserContext], portal_to_set_up: str, check_page: CheckPage
) -> None:
    # Every context has the shared portal's base URL: this one is addressed in full.
    page = new_context().new_page()
    sign_in_with_password(page, portal_to_set_up)
    expect(page).to_have_url(f"{portal_to_set_up}/account/two-factor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    qr_code = page.get_by_role("img", name="QR code to add the Schools Partner Portal")
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("image => image.complete && image.naturalWidth") > 0
    check_page(page, "the set-up page")
    # Anything else sends them back here.
    page.goto(f"{portal_to_set_up}/schools/")
    expect(page).to_have_url(f"{portal_to_set_up}/account/two-factor")

    code_box = page.get_by_label("Enter the 6-digit code the app now shows")
    code_box.fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#code-error")).to_contain_text("Enter the code your authenticator app")
    check_page(page, "the set-up page with an error")

    secret = page.locator("#secret").inner_text().replace(" ", "")
    code_box.fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    check_page(page, "the recovery codes page")
    page.get_by_role("button", name="I have saved my recovery codes").click()
    expect(page).to_have_url(f"{portal_to_set_up}/")
    page.get_by_role("button", name="Sign out").click()

    sign_in_with_password(page, portal_to_set_up)
    expect(page).to_have_url(f"{portal_to_set_up}/sign-in/code")
    page.get_by_label("Enter your security code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{portal_to_set_up}/")
    expect(page.get_by_text("9 recovery codes left")).to_be_visible()
    check_page(page, "the home page after a recovery code")
