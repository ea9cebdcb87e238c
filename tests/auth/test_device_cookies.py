"""A stranger who knows an e-mail address cannot stop its owner signing in.

A browser that has completed a sign-in to an account holds a device cookie for it, and its
failures are counted apart (portal/auth/lockout.py, portal/auth/devices.py). A stranger's
failures, from as many addresses as they like, lock out only the browsers the account does
not know; the owner's own browser signs in as usual, and the owner is e-mailed, once, a link
that lets one more browser sign in. A stolen device cookie buys a few guesses, and a made-up
one or another account's buys none.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth import lockout
from portal.auth.devices import COOKIE_NAME, MAX_ACCOUNTS, remember_browser
from portal.clock import utcnow
from portal.models import AuditEvent, OutboxMessage, SignInDevice, User
from tests.auth.test_auth_security import (  # noqa: F401 (fresh: a fixture)
    GENERIC_FAILURE,
    HEAD,
    fresh,
    last_actions,
    password_step,
    threshold,
    user,
)
from tests.conftest import ROLE_ACCOUNTS, csrf_token, enter_security_code, sign_in
from tests.helpers.html import banner, error_summary
from tests.helpers.html import soup as page

pytestmark = pytest.mark.usefixtures("fresh")

OFFICER = "caf.north@council.example"
STAFF = "staff@oakfield.example"
UNLOCK_SUBJECT = "Someone has been trying to sign in to your Schools Partner Portal account"
_UNLOCK_LINK = re.compile(r"https?://[^/\s]+(/account/unlock/\S+)")


def stranger_locks(app: Flask, email: str, first_address: int = 1) -> None:
    """A stranger, from a new address each time and with no device cookie for the account,
    gets the password wrong until browsers the account does not know are locked out."""
    for number in range(first_address, first_address + threshold(app)):
        response = password_step(
            app.test_client(), email, "wrong", environ_base={"REMOTE_ADDR": f"203.0.113.{number}"}
        )
        assert error_summary(response) == [GENERIC_FAILURE]


def unlock_mails(session: Session, email: str) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.recipient == email, OutboxMessage.subject == UNLOCK_SUBJECT
            )
        )
    )


def unlock_link(message: OutboxMessage) -> str:
    found = _UNLOCK_LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def move_clock(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """The portal's sign-in clock runs ``delta`` ahead of the real one (as tests/
    tests/auth/test_auth_security.py's clock fixture)."""
    monkeypatch.setattr("portal.auth.service.utcnow", lambda: utcnow() + delta)


def sign_out(client: FlaskClient) -> None:
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def use_link(client: FlaskClient, path: str) -> Any:
    shown = client.get(path)
    assert shown.status_code == 200, shown.status_code
    token = page(shown).select_one("input[name=csrf_token]")["value"]
    return client.post(path, data={"csrf_token": token})


def issued_cookie(app: Flask, account: User) -> str:
    """The Set-Cookie header that makes a browser known to ``account``."""
    with app.test_request_context():
        remember_browser(account)
        response = app.process_response(app.response_class())
    header = device_cookie(response)
    assert header is not None
    return header


def device_cookie(response: Any) -> str | None:
    """The Set-Cookie header for the device cookie, if the response sets one."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{COOKIE_NAME}="):
            return str(header)
    return None


# --- the owner's own browser -----------------------------------------------------------------


def test_a_stranger_cannot_stop_the_owner_signing_in_from_their_own_browser(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = app.test_client()
    assert sign_in(owner, HEAD).status_code == 303
    sign_out(owner)

    stranger_locks(app, HEAD)
    assert user(session, HEAD).locked_until is not None
    # Locked out: a browser the account does not know is refused even the right password.
    elsewhere = password_step(app.test_client(), HEAD, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert error_summary(elsewhere) == [GENERIC_FAILURE]

    # The owner's own browser signs in as usual, with the right password.
    assert sign_in(owner, HEAD).status_code == 303
    assert owner.get("/").status_code == 200
    assert "Oakfield Primary School" in owner.get("/").get_data(as_text=True)

    # And the owner has been told, once, with a link.
    [mail] = unlock_mails(session, HEAD)
    assert "Someone has been trying to sign in to your account" in mail.body
    assert "for at least the next 15 minutes" in mail.body
    assert unlock_link(mail).startswith("/account/unlock/")

    # The stranger goes on, through this lock and into the next: still one e-mail.
    stranger_locks(app, HEAD, first_address=50)
    move_clock(monkeypatch, timedelta(minutes=16))
    stranger_locks(app, HEAD, first_address=100)
    assert user(session, HEAD).failed_sign_ins == 2 * threshold(app)
    assert len(unlock_mails(session, HEAD)) == 1
    sign_out(owner)
    assert sign_in(owner, HEAD).status_code == 303


def test_a_council_officers_own_browser_signs_in_with_their_code_while_others_are_locked_out(
    app: Flask, session: Session
) -> None:
    officer = app.test_client()
    assert sign_in(officer, OFFICER).status_code == 303
    sign_out(officer)
    stranger_locks(app, OFFICER)

    assert password_step(officer, OFFICER).headers["Location"] == "/sign-in/code"
    # A wrong code from the officer's own browser counts against that browser alone.
    assert error_summary(enter_security_code(officer, "000000")) == [
        "Enter a correct security code"
    ]
    assert user(session, OFFICER).failed_sign_ins == threshold(app)
    assert session.scalars(select(SignInDevice.failed_sign_ins)).all() == [1]
    assert enter_security_code(officer).headers["Location"] == "/"
    assert officer.get("/contacts/").status_code == 200
    # A complete sign-in from it starts its own count again.
    assert session.scalars(select(SignInDevice)).all() == []


def test_a_stranger_at_the_owners_address_does_not_slow_the_owners_browser(
    app: Flask,
) -> None:
    # One address for a whole school: the stranger is slowed, the owner's browser is not.
    owner = app.test_client()
    assert sign_in(owner, HEAD).status_code == 303
    sign_out(owner)
    stranger = app.test_client()
    for _ in range(5):
        assert error_summary(password_step(stranger, HEAD, "wrong")) == [GENERIC_FAILURE]
    assert password_step(stranger, HEAD).status_code == 429
    assert password_step(owner, HEAD).status_code == 303


def test_a_known_browser_that_gets_it_wrong_too_often_is_known_no_longer(
    app: Flask, session: Session
) -> None:
    owner = app.test_client()
    assert sign_in(owner, HEAD).status_code == 303
    sign_out(owner)
    for _ in range(threshold(app) - 1):
        assert error_summary(password_step(owner, HEAD, "wrong")) == [GENERIC_FAILURE]
    # Counted against this browser, not against the account's other browsers.
    assert user(session, HEAD).failed_sign_ins == 0
    assert session.scalars(select(SignInDevice.failed_sign_ins)).all() == [threshold(app) - 1]
    assert sign_in(owner, HEAD).status_code == 303
    assert session.scalars(select(SignInDevice)).all() == []
    sign_out(owner)

    for _ in range(threshold(app)):
        password_step(owner, HEAD, "wrong")
    assert last_actions(session, 3)[0] == "auth.browser_locked_out"
    # Now it is one of the browsers the account does not know: its next failure counts there.
    password_step(owner, HEAD, "wrong")
    assert user(session, HEAD).failed_sign_ins == 1
    # While nobody has locked those out, the right password still signs it in.
    assert sign_in(owner, HEAD).status_code == 303


# --- the e-mailed link -----------------------------------------------------------------------


def test_the_unlock_link_lets_a_new_browser_sign_in_once(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger_locks(app, OFFICER)
    [mail] = unlock_mails(session, OFFICER)
    path = unlock_link(mail)

    new_browser = app.test_client()
    assert error_summary(password_step(new_browser, OFFICER)) == [GENERIC_FAILURE]
    # Opening the link uses nothing up (mail scanners open links): only its button does.
    for _ in range(2):
        shown = new_browser.get(path)
        assert shown.status_code == 200
        assert shown.headers["Cache-Control"] == "no-store"
        assert page(shown).h1.get_text(strip=True) == "Sign in from this browser"
        assert OFFICER in page(shown).get_text()
    used = use_link(new_browser, path)
    assert used.status_code == 303
    assert used.headers["Location"] == "/sign-in"
    assert device_cookie(used) is not None
    assert "This browser can now sign in to your account" in banner(new_browser.get("/sign-in"))
    assert "account.unlock_link_used" in last_actions(session, 2)

    # This browser now signs in, password and code, while every other is still locked out.
    assert sign_in(new_browser, OFFICER).status_code == 303
    assert new_browser.get("/contacts/").status_code == 200
    another = app.test_client()
    assert error_summary(password_step(another, OFFICER)) == [GENERIC_FAILURE]

    # The link works once.
    gone = another.get(path)
    assert gone.status_code == 410
    assert "This link has expired or has already been used" in gone.get_data(as_text=True)
    token = csrf_token(another, "/sign-in")
    assert another.post(path, data={"csrf_token": token}).status_code == 410
    assert error_summary(password_step(another, OFFICER)) == [GENERIC_FAILURE]


def test_the_unlock_link_expires(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger_locks(app, HEAD)
    [mail] = unlock_mails(session, HEAD)
    assert "It works once, for the next 24 hours" in mail.body
    later = utcnow() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr("portal.accounts.tokens.utcnow", lambda: later)
    assert app.test_client().get(unlock_link(mail)).status_code == 410


def test_a_new_lock_is_mailed_once_the_last_link_is_used(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger_locks(app, HEAD)
    [first] = unlock_mails(session, HEAD)
    assert use_link(app.test_client(), unlock_link(first)).status_code == 303
    move_clock(monkeypatch, timedelta(minutes=16))
    stranger_locks(app, HEAD, first_address=50)
    assert len(unlock_mails(session, HEAD)) == 2


def test_nothing_is_mailed_for_an_address_without_an_account_or_a_deactivated_one(
    app: Flask, session: Session
) -> None:
    before = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    stranger_locks(app, "nobody@oakfield.example")
    staff = user(session, STAFF)
    staff.is_active = False
    session.commit()
    stranger_locks(app, STAFF, first_address=50)
    assert user(session, STAFF).locked_until is not None
    session.expire_all()
    newest = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    assert newest == before


# --- the cookie itself -------------------------------------------------------------------------


def test_the_device_cookie_is_httponly_lax_long_lived_and_holds_no_personal_data(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    response = sign_in(client, HEAD)
    header = device_cookie(response)
    assert header is not None
    attributes = [part.strip() for part in header.split(";")]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert f"Max-Age={365 * 24 * 3600}" in attributes
    assert "Path=/" in attributes
    assert "Secure" not in attributes  # not in development, over http
    value = attributes[0].partition("=")[2]
    # A random nonce, a time and a signature: no address, no name, no account id.
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", value), value
    assert "oakfield" not in value.lower()

    # Wherever the session cookie is Secure (production), so is this one.
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    secure = [part.strip() for part in issued_cookie(app, user(session, STAFF)).split(";")]
    assert "Secure" in secure


def test_the_cookies_page_lists_the_device_cookie(client: FlaskClient) -> None:
    rows = [
        [cell.get_text(" ", strip=True) for cell in row.select("td")]
        for row in page(client.get("/cookies")).select("tbody tr")
    ]
    [device] = [row for row in rows if row[0] == COOKIE_NAME]
    assert "It holds no information about you" in device[1]
    assert device[2] == "365 days after you last signed in"


def test_a_browser_is_known_only_once_it_has_given_everything_the_account_needs(
    app: Flask,
) -> None:
    client = app.test_client()
    password = password_step(client, OFFICER)
    assert password.headers["Location"] == "/sign-in/code"
    assert device_cookie(password) is None
    assert device_cookie(enter_security_code(client)) is not None


def test_a_shared_browser_is_known_to_each_account_signed_in_from_it(
    app: Flask, session: Session
) -> None:
    office = app.test_client()
    for email in (HEAD, STAFF):
        assert sign_in(office, email).status_code == 303
        sign_out(office)
    stranger_locks(app, HEAD)
    stranger_locks(app, STAFF, first_address=50)
    # Signing in as the staff member did not make the browser a stranger to the head.
    assert sign_in(office, HEAD).status_code == 303
    sign_out(office)
    assert sign_in(office, STAFF).status_code == 303
    assert len(office.get_cookie(COOKIE_NAME).value.split("~")) == 2


def test_a_browser_is_known_to_the_latest_few_accounts_signed_in_from_it(
    app: Flask, session: Session
) -> None:
    browser = app.test_client()
    for email in ROLE_ACCOUNTS.values():
        assert sign_in(browser, email).status_code == 303
        sign_out(browser)
    assert len(ROLE_ACCOUNTS) > MAX_ACCOUNTS
    assert len(browser.get_cookie(COOKIE_NAME).value.split("~")) == MAX_ACCOUNTS
    first, *_, last = ROLE_ACCOUNTS.values()
    stranger_locks(app, first)
    stranger_locks(app, last, first_address=50)
    assert error_summary(password_step(browser, first)) == [GENERIC_FAILURE]
    assert password_step(browser, last).status_code == 303


# --- no way round the limits ---------------------------------------------------------------


def test_a_stolen_device_cookie_buys_a_few_guesses_not_a_way_round_the_limits(
    app: Flask, session: Session
) -> None:
    owner = app.test_client()
    assert sign_in(owner, HEAD).status_code == 303
    sign_out(owner)
    stranger_locks(app, HEAD)

    thief = app.test_client()
    thief.set_cookie(COOKIE_NAME, owner.get_cookie(COOKIE_NAME).value)
    # Taken for the owner's browser: each guess is a failure, counted against that browser.
    for _ in range(threshold(app)):
        assert error_summary(password_step(thief, HEAD, "wrong")) == [GENERIC_FAILURE]
    locked_out = select(func.count()).where(AuditEvent.action == "auth.browser_locked_out")
    assert session.scalar(locked_out) == 1
    # Then the account knows that cookie no more: the right password is refused with it,
    # as from any browser the account does not know while they are locked out.
    assert error_summary(password_step(thief, HEAD)) == [GENERIC_FAILURE]

    # The owner's browser held the same cookie, so it is locked out too, until the owner
    # uses the e-mailed link: a new cookie, which the thief does not have.
    assert error_summary(password_step(owner, HEAD)) == [GENERIC_FAILURE]
    [mail] = unlock_mails(session, HEAD)
    assert use_link(owner, unlock_link(mail)).status_code == 303
    assert sign_in(owner, HEAD).status_code == 303
    assert error_summary(password_step(thief, HEAD)) == [GENERIC_FAILURE]


def test_another_accounts_device_cookie_is_no_device_cookie(app: Flask) -> None:
    stranger_locks(app, HEAD)
    # Someone with an account of their own, and its genuine device cookie.
    colleague = app.test_client()
    assert sign_in(colleague, STAFF).status_code == 303
    sign_out(colleague)
    assert error_summary(password_step(colleague, HEAD)) == [GENERIC_FAILURE]


_COOKIE_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
_ANY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def trusted_with(app: Flask, account: User, value: str) -> bool:
    with app.test_request_context(headers={"Cookie": f"{COOKIE_NAME}={value}"}):
        return lockout.trusted_device(account, utcnow()) is not None


def genuine_entry(app: Flask, account: User) -> str:
    """An entry of the account's device cookie, as a sign-in would give it."""
    return issued_cookie(app, account).partition("=")[2].partition(";")[0]


@_ANY_SETTINGS
@given(made_up=st.text(alphabet=_COOKIE_ALPHABET + ".~", max_size=400))
def test_a_made_up_device_cookie_is_no_device_cookie(
    app: Flask, session: Session, made_up: str
) -> None:
    head = user(session, HEAD)
    assert not trusted_with(app, head, made_up)
    # Nor is another account's genuine one, with or without more made up beside it.
    others = genuine_entry(app, user(session, STAFF))
    assert not trusted_with(app, head, others)
    assert not trusted_with(app, head, f"{others}~{made_up}")


@_ANY_SETTINGS
@given(position=st.integers(min_value=0), replacement=st.sampled_from(_COOKIE_ALPHABET))
def test_no_change_to_a_genuine_device_cookie_makes_another(
    app: Flask, session: Session, position: int, replacement: str
) -> None:
    head = user(session, HEAD)
    genuine = genuine_entry(app, head)
    assert trusted_with(app, head, genuine)
    # The nonce and the time: the signature covers both. (Its own last character carries
    # spare bits of base64, which decode to the same signature.)
    signed_part = genuine.rpartition(".")[0]
    index = position % len(signed_part)
    assume(signed_part[index] != replacement and signed_part[index] != ".")
    altered = genuine[:index] + replacement + genuine[index + 1 :]
    assert not trusted_with(app, head, altered)
