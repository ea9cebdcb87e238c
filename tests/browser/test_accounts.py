"""Accounts in a real browser: a head teacher invites and withdraws an invitation, a person
asks for a reset link, an administrator resets a lost authenticator app, and every page (with
and without errors) passes axe and the CSP guard. Nothing here changes a demo account's
password or second factor: the live server's database is shared."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.db import db, utcnow
from portal.demo import DEMO_PASSWORD
from portal.models import Area, Membership, Role, User
from portal.passwords import hash_password

if TYPE_CHECKING:
    from tests.browser.conftest import CheckPage, SignIn


def test_a_head_teacher_invites_someone_and_withdraws_it(
    page: Page, base_url: str, check_page: CheckPage, sign_in: SignIn
) -> None:
    sign_in(page, "head@oakfield.example")
    page.get_by_role("navigation", name="Sections of the portal").get_by_role(
        "link", name="Users"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    check_page(page, "the users list")

    page.get_by_role("button", name="Invite a user").click()
    expect(page).to_have_url(f"{base_url}/users/invite")
    page.get_by_role("button", name="Send invitation").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter their e-mail address")
    expect(summary).to_contain_text("Enter their full name")
    check_page(page, "the invite form with errors")

    email = f"new.{uuid.uuid4().hex[:8]}@oakfield.example"
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Full name").fill("Nadia New-Teacher")
    page.get_by_label("School staff").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page).to_have_url(f"{base_url}/users/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"We have sent {email}")

    page.get_by_role("link", name="Nadia New-Teacher").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia New-Teacher")
    check_page(page, "a user's page")
    page.get_by_role("button", name="Withdraw invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been withdrawn")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Invitation expired")
    check_page(page, "a user's page after withdrawing")


def test_changing_a_password_explains_the_policy(
    page: Page, check_page: CheckPage, sign_in: SignIn
) -> None:
    sign_in(page, "staff@oakfield.example")
    page.goto("/account/password")
    check_page(page, "the change password page")
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password").fill("qwerty123456")
    page.get_by_label("Confirm your password").fill("qwerty123456")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-error")).to_contain_text("on a list of common passwords")
    check_page(page, "the change password page with errors")


def test_a_forgotten_password_from_the_sign_in_page(
    page: Page, base_url: str, check_page: CheckPage
) -> None:
    page.goto("/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page).to_have_url(f"{base_url}/account/forgot")
    check_page(page, "the forgotten password page")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#email-error")).to_contain_text("Enter your e-mail address")
    check_page(page, "the forgotten password page with an error")
    page.get_by_label("E-mail address").fill("nobody@oakfield.example")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    check_page(page, "the reset link sent page")

    response = page.goto("/account/reset/" + "A" * 43)
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This link has expired or has already been used"
    )
    check_page(page, "an expired link")


@pytest.fixture
def officer_with_an_app(live_app: Flask) -> str:
    """A CAF officer of this test's own, with an authenticator app: the demo council's are
    shared by the other browser tests, which sign in with their codes."""
    email = f"lost.phone.{uuid.uuid4().hex[:8]}@council.example"
    with live_app.app_context():
        north = db.session.scalars(select(Area.id).where(Area.code == "north")).one()
        officer = User(
            email=email,
            display_name="Lou Demo-Lostphone",
            password_hash=hash_password(DEMO_PASSWORD),
            password_changed_at=utcnow(),
            totp_secret=pyotp.random_base32(),
            totp_enabled_at=utcnow(),
        )
        officer.memberships.append(Membership(role=Role.CAF_OFFICER, area_id=north))
        db.session.add(officer)
        db.session.commit()
    return email


def test_an_administrator_resets_a_lost_authenticator_app(
    page: Page, check_page: CheckPage, sign_in: SignIn, officer_with_an_app: str
) -> None:
    sign_in(page, "admin@council.example")
    page.goto(f"/users/?q={officer_with_an_app}")
    page.get_by_role("link", name="Lou Demo-Lostphone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lou Demo-Lostphone")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Set up on")
    check_page(page, "a council user's page")

    page.get_by_role("button", name="Reset authenticator app").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to reset Lou Demo-Lostphone's authenticator app?"
    )
    check_page(page, "the question before resetting an authenticator app")
    page.get_by_role("link", name="No, go back").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lou Demo-Lostphone")

    page.get_by_role("button", name="Reset authenticator app").click()
    page.get_by_role("button", name="Yes, reset their authenticator app").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Lou Demo-Lostphone's authenticator app has been reset"
    )
    expect(page.locator(".govuk-summary-list")).to_contain_text("Not set up")
    expect(page.get_by_role("button", name="Reset authenticator app")).to_have_count(0)
    check_page(page, "a council user's page after the reset")


@pytest.fixture
def head_under_attack(live_app: Flask) -> tuple[str, str]:
    """A head teacher of this test's own, whose account is locked against browsers it does
    not know, and the path of the link they were e-mailed; (their e-mail address, the path)."""
    from portal.accounts.service import send_unlock_link
    from portal.models import OutboxMessage, School

    email = f"under.attack.{uuid.uuid4().hex[:8]}@oakfield.example"
    with live_app.app_context(), live_app.test_request_context():
        oakfield = db.session.scalars(select(School.id).where(School.urn == 125601)).one()
        head = User(
            email=email,
            display_name="Uma Demo-Underattack",
            password_hash=hash_password(DEMO_PASSWORD),
            password_changed_at=utcnow(),
            failed_sign_ins=10,
            locked_until=utcnow() + timedelta(minutes=15),
        )
        head.memberships.append(Membership(role=Role.HEAD_TEACHER, school_id=oakfield))
        db.session.add(head)
        db.session.flush()
        send_unlock_link(head, 15)
        db.session.commit()
        body = db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.recipient == email)
        ).one()
    path = "/account/unlock/" + body.split("/account/unlock/")[1].split()[0]
    return email, path


def test_the_owner_signs_in_from_a_new_browser_with_the_emailed_link(
    page: Page, base_url: str, check_page: CheckPage, head_under_attack: tuple[str, str]
) -> None:
    email, path = head_under_attack

    def sign_in_with_password() -> None:
        page.goto("/sign-in")
        page.get_by_label("E-mail address", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()

    # A browser the account does not know: refused, as for any failure.
    sign_in_with_password()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a correct e-mail address and password"
    )
    check_page(page, "the sign-in page, which says what happens after wrong attempts")

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in from this browser")
    check_page(page, "the page of the link to sign in from a new browser")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base_url}/sign-in")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "This browser can now sign in to your account"
    )
    sign_in_with_password()
    expect(page).to_have_url(f"{base_url}/")

    response = page.goto(path)
    assert response is not None and response.status == 410
    expect(page.locator("main")).to_contain_text("Each link to sign in from another browser")
    check_page(page, "a used link to sign in from a new browser")
