"""Accounts in a real browser: a head teacher invites and withdraws an invitation, a person
asks for a reset link, and every page (with and without errors) passes axe and the CSP guard.
Nothing here changes a demo account's password: the live server's database is shared."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

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
