"""Accounts in a real browser: a head teacher invites and withdraws an invitation, someone
new chooses a password and is signed in, someone with an account signs in and accepts one, a
person asks for a reset link, an administrator resets a lost authenticator app, a head
teacher unlocks a locked account (with JavaScript and without), and every page (with and
without errors) passes axe and the CSP guard. Nothing here changes a demo account's
password, second factor or roles: the live server's database is shared."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import delete, select

from portal.clock import utcnow
from portal.db import db
from portal.models import Area, Membership, OutboxMessage, Role, School, User
from portal.passwords import hash_password
from portal_seed.demo import DEMO_PASSWORD

if TYPE_CHECKING:
    from tests.browser_fixtures import CheckPage, SignIn


def invitation_link(live_app: Flask, email: str) -> str:
    """The link in the last invitation e-mailed to ``email`` (the outbox is the mail sent)."""
    with live_app.app_context():
        message = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert message is not None, f"nothing was sent to {email}"
    found = re.search(r"/account/accept/[A-Za-z0-9_-]{43}", message.body)
    assert found, message.body
    return found.group(0)


def test_a_head_teacher_invites_someone_and_withdraws_it(
    page: Page,
    base_url: str,
    check_page: CheckPage,
    sign_in: SignIn,
    live_app: Flask,
    new_context: Callable[..., BrowserContext],
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
    expect(page.locator(".govuk-summary-list")).to_contain_text("Invited")
    check_page(page, "an invitation's page")

    # Someone new: the link asks for a password, and offers to decline.
    link = invitation_link(live_app, email)
    theirs = new_context().new_page()
    theirs.goto(link)
    expect(theirs.get_by_role("heading", level=1)).to_have_text("Set your password")
    expect(theirs.get_by_role("button", name="Decline the invitation")).to_be_visible()
    check_page(theirs, "the page that sets a password for an invitation")

    page.get_by_role("button", name="Withdraw invitation").click()
    expect(page).to_have_url(f"{base_url}/users/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been withdrawn")
    check_page(page, "the users list after withdrawing")
    response = theirs.goto(link)
    assert response is not None and response.status == 410


def test_someone_new_chooses_a_password_and_is_signed_in(
    page: Page,
    base_url: str,
    check_page: CheckPage,
    sign_in: SignIn,
    live_app: Flask,
    new_context: Callable[..., BrowserContext],
) -> None:
    sign_in(page, "head@oakfield.example")
    email = f"joining.{uuid.uuid4().hex[:8]}@oakfield.example"
    page.goto("/users/invite")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Full name").fill("Jo Demo-Joining")
    page.get_by_label("School staff").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"We have sent {email}")

    theirs = new_context().new_page()
    theirs.goto(invitation_link(live_app, email))
    theirs.get_by_label("Create a password").fill("correct horse battery staple")
    theirs.get_by_label("Confirm your password").fill("correct horse battery staple")
    theirs.get_by_role("button", name="Save password").click()
    # Straight in: home, signed in, without signing in again.
    expect(theirs).to_have_url(f"{base_url}/")
    expect(theirs.locator(".govuk-notification-banner")).to_contain_text(
        "Your account is ready. You are now School staff, Oakfield Primary School."
    )
    expect(theirs.get_by_text(f"Signed in as {email}")).to_be_visible()
    check_page(theirs, "home after choosing a password from an invitation")
    # A complete sign-in: the browser is known to the account from now on.
    assert "portal_device" in {cookie["name"] for cookie in theirs.context.cookies()}


@pytest.fixture
def someone_elsewhere(live_app: Flask) -> str:
    """Staff at Hartshill Green of this test's own: the demo's people are shared by the other
    browser tests, and accepting an invitation gives a role."""
    email = f"elsewhere.{uuid.uuid4().hex[:8]}@hartshill.example"
    with live_app.app_context():
        hartshill = db.session.scalars(select(School.id).where(School.urn == 125602)).one()
        person = User(
            email=email,
            display_name="Eli Demo-Elsewhere",
            password_hash=hash_password(DEMO_PASSWORD),
            password_changed_at=utcnow(),
        )
        person.memberships.append(Membership(role=Role.SCHOOL_STAFF, school_id=hartshill))
        db.session.add(person)
        db.session.commit()
    return email


def test_someone_with_an_account_signs_in_and_accepts_an_invitation(
    page: Page,
    base_url: str,
    check_page: CheckPage,
    sign_in: SignIn,
    live_app: Flask,
    new_context: Callable[..., BrowserContext],
    someone_elsewhere: str,
) -> None:
    sign_in(page, "head@oakfield.example")
    page.goto("/users/invite")
    page.get_by_label("E-mail address").fill(someone_elsewhere)
    page.get_by_label("Full name").fill("Typed By The Head")
    page.get_by_label("School staff").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"We have sent {someone_elsewhere} an invitation"
    )
    # The school sees what it typed, never the account's own name.
    expect(page.get_by_role("link", name="Typed By The Head")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Eli Demo-Elsewhere")

    # The head, signed in, is not the person invited.
    link = invitation_link(live_app, someone_elsewhere)
    response = page.goto(link)
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation is for someone else")
    check_page(page, "an invitation opened by someone else")

    # The person invited, in a browser of their own: sign in first, then back to the link.
    theirs = new_context().new_page()
    theirs.goto(link)
    expect(theirs).to_have_url(re.compile(r"/sign-in\?next="))
    theirs.get_by_label("E-mail address", exact=True).fill(someone_elsewhere)
    theirs.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    theirs.get_by_role("button", name="Sign in").click()
    expect(theirs).to_have_url(f"{base_url}{link}")
    expect(theirs.get_by_role("heading", level=1)).to_have_text(
        "You have been invited to a new role"
    )
    expect(theirs.locator("main")).to_contain_text("School staff, Oakfield Primary School")
    check_page(theirs, "the page that answers an invitation")
    theirs.get_by_role("button", name="Accept the invitation").click()
    expect(theirs).to_have_url(f"{base_url}/")
    expect(theirs.locator(".govuk-notification-banner")).to_contain_text(
        "You are now School staff, Oakfield Primary School"
    )
    check_page(theirs, "home after accepting an invitation")

    # Now one of the school's staff: by their own name, with only the school's role.
    page.goto(f"/users/?q={someone_elsewhere}")
    expect(page.get_by_role("link", name="Eli Demo-Elsewhere")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Hartshill")


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
def head_under_attack(live_app: Flask) -> Iterator[tuple[str, str]]:
    """A head teacher of this test's own, whose account is locked against browsers it does
    not know, and the path of the link they were e-mailed; (their e-mail address, the path)."""
    from portal.accounts.unlocks import send_unlock_link
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
    yield email, path
    # Oakfield's head teachers are what other tests (the annual letter) expect them to be.
    with live_app.app_context():
        db.session.execute(
            delete(Membership).where(
                Membership.user_id == select(User.id).where(User.email == email).scalar_subquery()
            )
        )
        db.session.commit()


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


@pytest.fixture
def staff_locked_out(live_app: Flask) -> str:
    """Oakfield staff of this test's own, whose account failed sign-ins have locked against
    browsers it does not know (the demo's people are shared by the other browser tests)."""
    email = f"locked.out.{uuid.uuid4().hex[:8]}@oakfield.example"
    with live_app.app_context():
        oakfield = db.session.scalars(select(School.id).where(School.urn == 125601)).one()
        staff = User(
            email=email,
            display_name="Lee Demo-Lockedout",
            password_hash=hash_password(DEMO_PASSWORD),
            password_changed_at=utcnow(),
            failed_sign_ins=10,
            locked_until=utcnow() + timedelta(minutes=15),
        )
        staff.memberships.append(Membership(role=Role.SCHOOL_STAFF, school_id=oakfield))
        db.session.add(staff)
        db.session.commit()
    return email


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_head_teacher_unlocks_a_locked_account(
    base_url: str,
    check_page: CheckPage,
    sign_in: SignIn,
    new_context: Callable[..., BrowserContext],
    staff_locked_out: str,
    javascript: bool,
) -> None:
    page = new_context(java_script_enabled=javascript).new_page()

    def check(where: str) -> None:
        # axe needs JavaScript; without it the CSP guard still watches every page.
        if javascript:
            check_page(page, where)

    sign_in(page, "head@oakfield.example")
    page.goto(f"/users/?q={staff_locked_out}")
    row = page.locator("tbody tr", has_text=staff_locked_out)
    expect(row).to_contain_text("Locked")
    expect(row).to_contain_text("until")
    check("the users list with a locked account")

    row.get_by_role("link", name="Lee Demo-Lockedout").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Locked until")
    check("a locked account's page")
    page.get_by_role("button", name="Unlock account").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Lee Demo-Lockedout's account is unlocked"
    )
    expect(page.locator(".govuk-summary-list")).to_contain_text("Active")
    expect(page.get_by_role("button", name="Unlock account")).to_have_count(0)
    check("the account's page after unlocking it")

    # A browser the account does not know signs in again.
    theirs = new_context(java_script_enabled=javascript).new_page()
    theirs.goto("/sign-in")
    theirs.get_by_label("E-mail address", exact=True).fill(staff_locked_out)
    theirs.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    theirs.get_by_role("button", name="Sign in").click()
    expect(theirs).to_have_url(f"{base_url}/")
