"""Sign-in security: lockout, session time limits, and council staff's second factor."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal import create_app
from portal.clock import utcnow
from portal.models import AuditEvent, SignInDevice, User
from portal_seed.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.conftest import csrf_token, enter_security_code, sign_in
from tests.helpers.html import banner, error_summary
from tests.helpers.html import soup as page

GENERIC_FAILURE = "Enter a correct e-mail address and password"
HEAD = "head@oakfield.example"
ADMIN = "admin@council.example"
PUBLISHER = "publisher@council.example"
COORDINATOR = "coordinator@council.example"
NOBODY = "nobody@oakfield.example"


def user(session: Session, email: str) -> User:
    session.expire_all()
    return session.scalars(select(User).where(User.email == email)).one()


def last_actions(session: Session, count: int) -> list[str]:
    return list(
        session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(count))
    )


@pytest.fixture
def fresh(app: Flask, session: Session) -> Iterator[None]:
    """No rate-limit counts from other tests, and no failures counted on the demo accounts."""

    def reset_limits() -> None:
        for limiter in app.extensions["limiter"]:
            limiter.reset()

    reset_limits()
    for account in session.scalars(select(User)):
        account.failed_sign_ins = 0
        account.locked_until = None
    session.commit()
    yield
    reset_limits()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """clock(delta): the portal's sign-in clock runs ``delta`` ahead of the real one."""

    def move(delta: timedelta) -> None:
        monkeypatch.setattr("portal.auth.service.utcnow", lambda: utcnow() + delta)

    return move


def settings(monkeypatch: pytest.MonkeyPatch, app: Flask, **values: Any) -> None:
    for name, value in values.items():
        monkeypatch.setitem(app.config, name, value)


def password_step(client: FlaskClient, email: str, password: str = DEMO_PASSWORD, **kw: Any) -> Any:
    token = csrf_token(client, "/sign-in")
    return client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}, **kw
    )


# --- lockout -------------------------------------------------------------------------------
# Every browser here is one the account does not know (no device cookie for it), unless it
# has signed in: tests/auth/test_device_cookies.py is about the browsers it knows.


def threshold(app: Flask) -> int:
    return int(app.config["LOCKOUT_THRESHOLD"])


def test_the_default_limits_slow_one_address_before_it_could_lock_an_account(
    app: Flask,
) -> None:
    from limits import parse

    # The README's numbers, and the order they must keep.
    assert threshold(app) == 10
    assert parse(app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"]).amount == 5 < threshold(app)


def test_enough_failures_lock_out_browsers_the_account_does_not_know_until_the_lock_ends(
    app: Flask,
    client: FlaskClient,
    session: Session,
    fresh: None,
    clock: Callable[[timedelta], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the account's own count here: the per-address throttle is tested below.
    settings(monkeypatch, app, SIGN_IN_ACCOUNT_RATE_LIMIT="1000 per minute")
    for attempt in range(1, threshold(app) + 1):
        response = sign_in(client, HEAD, "wrong")
        assert error_summary(response) == [GENERIC_FAILURE]
        assert user(session, HEAD).failed_sign_ins == attempt
    locked_until = user(session, HEAD).locked_until
    assert locked_until is not None
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)
    lockout = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.locked_out")
    ).one()
    assert lockout.detail == {"minutes": 15, "failures": threshold(app)}
    assert lockout.subject_id == user(session, HEAD).id

    # Locked: even the right password is refused, with the same message as a wrong one.
    refused = sign_in(client, HEAD)
    assert refused.status_code == 200
    assert error_summary(refused) == [GENERIC_FAILURE]
    assert client.get("/").status_code == 302
    assert last_actions(session, 1) == ["auth.sign_in_refused_locked"]
    # Attempts while locked do not count: they would only lengthen the lock.
    assert user(session, HEAD).failed_sign_ins == threshold(app)

    clock(timedelta(minutes=16))
    assert sign_in(client, HEAD).status_code == 303
    assert client.get("/").status_code == 200
    after = user(session, HEAD)
    assert (after.failed_sign_ins, after.locked_until) == (0, None)


def test_each_further_lock_is_longer_up_to_the_limit(
    app: Flask,
    client: FlaskClient,
    session: Session,
    fresh: None,
    clock: Callable[[timedelta], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings(monkeypatch, app, SIGN_IN_ACCOUNT_RATE_LIMIT="1000 per minute")
    ahead = timedelta()
    for minutes in (15, 30, 60, 120, 240, 240):
        for _ in range(threshold(app)):
            sign_in(client, HEAD, "wrong")
        locked_until = user(session, HEAD).locked_until
        assert locked_until is not None
        lock = locked_until - (utcnow() + ahead)
        assert timedelta(minutes=minutes - 1) < lock <= timedelta(minutes=minutes)
        ahead += timedelta(minutes=minutes + 1)
        clock(ahead)


def test_a_correct_sign_in_resets_the_count(
    app: Flask,
    client: FlaskClient,
    session: Session,
    fresh: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings(monkeypatch, app, SIGN_IN_ACCOUNT_RATE_LIMIT="1000 per minute")
    for _ in range(threshold(app) - 1):
        sign_in(client, HEAD, "wrong")
    assert sign_in(client, HEAD).status_code == 303
    assert user(session, HEAD).failed_sign_ins == 0
    # As many failures again, from another browser the account does not know, do not lock
    # it: the count began again.
    other = app.test_client()
    for _ in range(threshold(app) - 1):
        sign_in(other, HEAD, "wrong")
    assert user(session, HEAD).locked_until is None
    assert sign_in(other, HEAD).status_code == 303


def test_failures_from_many_addresses_lock_the_account_all_the_same(
    app: Flask, session: Session, fresh: None
) -> None:
    # The count is the account's, in the database: every app server and address shares it.
    for number in range(threshold(app)):
        client = app.test_client()
        address = {"REMOTE_ADDR": f"192.0.2.{number + 1}"}
        token = csrf_token(client)
        client.post(
            "/sign-in",
            data={"csrf_token": token, "email": HEAD, "password": "wrong"},
            environ_base=address,
        )
    assert user(session, HEAD).locked_until is not None
    other = app.test_client()
    refused = password_step(other, HEAD, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert error_summary(refused) == [GENERIC_FAILURE]


def test_a_locked_account_looks_exactly_like_a_wrong_password_for_nobody(
    app: Flask, session: Session, fresh: None
) -> None:
    account = user(session, HEAD)
    account.locked_until = utcnow() + timedelta(minutes=15)
    session.commit()

    def attempt(email: str, password: str) -> tuple[int, list[str], str]:
        response = sign_in(app.test_client(), email, password)
        html = page(response)
        return response.status_code, error_summary(response), html.select_one("#email-error").text

    locked = attempt(HEAD, DEMO_PASSWORD)
    unknown = attempt(NOBODY, DEMO_PASSWORD)
    wrong = attempt("staff@oakfield.example", "wrong")
    assert locked[0] == unknown[0] == wrong[0] == 200
    assert locked[1] == unknown[1] == wrong[1] == [GENERIC_FAILURE]
    assert locked[2] == unknown[2] == wrong[2]


def test_the_sign_in_page_says_what_happens_after_wrong_attempts(client: FlaskClient) -> None:
    # Said to everyone, before any attempt: it tells nobody anything about an account.
    text = page(client.get("/sign-in")).get_text(" ", strip=True)
    assert (
        "After 10 wrong attempts to sign in to an account from browsers that have not signed in"
        " to it before, only browsers that have can sign in to it, for 15 minutes or more. We"
        " e-mail the account's owner a link to sign in from another browser."
    ) in text


def test_too_many_tries_at_one_address_look_the_same_whether_or_not_it_has_an_account(
    app: Flask, session: Session, fresh: None
) -> None:
    answers = []
    for email, address in ((NOBODY, "192.0.2.10"), (HEAD, "192.0.2.11")):
        client = app.test_client()
        environ = {"REMOTE_ADDR": address}
        for _ in range(5):
            response = password_step(client, email, "wrong", environ_base=environ)
            assert error_summary(response) == [GENERIC_FAILURE]
        # The sixth: refused before any password is looked at, even the right one.
        response = password_step(client, email, DEMO_PASSWORD, environ_base=environ)
        answers.append((response.status_code, error_summary(response)))
        # Another e-mail address from the same place is not held up.
        other = password_step(client, "staff@oakfield.example", "wrong", environ_base=environ)
        assert error_summary(other) == [GENERIC_FAILURE]
    expected = (
        "Too many attempts to sign in with this e-mail address. Wait 15 minutes, then try again."
    )
    assert answers[0] == answers[1] == (429, [expected])
    # One address was slowed before it could lock the account by itself.
    assert user(session, HEAD).failed_sign_ins == 5
    assert user(session, HEAD).locked_until is None


# --- session time limits ---------------------------------------------------------------------


def test_sessions_have_idle_and_absolute_limits_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "20")
    monkeypatch.setenv("SESSION_ABSOLUTE_HOURS", "8")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app({"TESTING": True})
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=20)
    assert app.config["SESSION_REFRESH_EACH_REQUEST"] is True
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 8
    app.extensions["portal.db"].engine.dispose()
    monkeypatch.delenv("SESSION_IDLE_MINUTES")
    monkeypatch.delenv("SESSION_ABSOLUTE_HOURS")
    defaults = create_app({"TESTING": True})
    assert defaults.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=60)
    assert defaults.config["SESSION_ABSOLUTE_HOURS"] == 12
    defaults.extensions["portal.db"].engine.dispose()


def test_an_idle_session_ends(client_for, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for("head_teacher")
    assert client.get("/").status_code == 200
    # The session cookie is signed with its time; one older than the idle limit is ignored.
    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner,
        "get_timestamp",
        lambda self: real(self) + 61 * 60,
    )
    assert client.get("/").status_code == 302


def test_a_session_in_use_is_signed_again_at_most_once_a_minute(
    client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itsdangerous.timed

    from portal import session_cookie

    later = {"seconds": 0}
    signed = itsdangerous.timed.TimestampSigner.get_timestamp
    real_now = session_cookie.now
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner,
        "get_timestamp",
        lambda self: signed(self) + later["seconds"],
    )
    monkeypatch.setattr(
        session_cookie, "now", lambda: real_now() + timedelta(seconds=later["seconds"])
    )
    client = client_for("head_teacher")

    def page_signs_the_cookie() -> bool:
        response = client.get("/")
        assert response.status_code == 200
        return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))

    # The first page after signing in puts its form token in the session, so signs it; the
    # next, a moment later, changes nothing and leaves the cookie as it is.
    assert page_signs_the_cookie()
    assert not page_signs_the_cookie()
    # Half an hour on, the next page signs it again, and the one after does not.
    later["seconds"] = 30 * 60
    assert page_signs_the_cookie()
    assert not page_signs_the_cookie()
    # So the idle limit counts from then: 55 minutes later the session is still open...
    later["seconds"] = 85 * 60
    assert page_signs_the_cookie()
    # ...and it ends once nothing has been done for longer than the limit.
    later["seconds"] = 85 * 60 + 61 * 60
    assert client.get("/").status_code == 302


def test_a_session_ends_after_the_absolute_limit_however_busy(
    client_for, clock: Callable[[timedelta], None], session: Session
) -> None:
    client = client_for("head_teacher")
    clock(timedelta(hours=11, minutes=59))
    assert client.get("/schools/").status_code == 200
    clock(timedelta(hours=12, minutes=1))
    response = client.get("/schools/?q=oak")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/schools/?q%3Doak"
    sign_in_page = client.get(response.headers["Location"])
    assert "You were signed out because you had been signed in for 12 hours" in banner(sign_in_page)
    assert client.get("/").status_code == 302
    assert "auth.session_expired" in last_actions(session, 3)


def test_the_absolute_limit_counts_from_the_sign_in_time_in_the_session(client_for) -> None:
    client = client_for("head_teacher")
    with client.session_transaction() as stored:
        stored["signed_in_at"] -= 13 * 3600
    assert client.get("/").status_code == 302


def test_a_session_from_before_sign_in_times_were_kept_gets_its_limit_from_now(
    client_for, clock: Callable[[timedelta], None]
) -> None:
    client = client_for("head_teacher")
    with client.session_transaction() as stored:
        del stored["signed_in_at"]
    assert client.get("/").status_code == 200
    with client.session_transaction() as stored:
        assert abs(stored["signed_in_at"] - utcnow().timestamp()) < 60
    clock(timedelta(hours=12, minutes=1))
    assert client.get("/").status_code == 302


def test_an_htmx_request_after_the_absolute_limit_navigates_the_window(
    client_for, clock: Callable[[timedelta], None]
) -> None:
    client = client_for("la_admin")
    clock(timedelta(hours=13))
    response = client.get("/schools/?q=oak", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/sign-in?next=/schools/?q%3Doak"
    assert response.get_data() == b""


# --- the second factor: signing in -----------------------------------------------------------


def test_council_staff_give_a_code_before_they_are_signed_in(
    client: FlaskClient, session: Session
) -> None:
    response = password_step(client, ADMIN)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in/code"
    # Half signed in is not signed in.
    assert client.get("/").status_code == 302
    with client.session_transaction() as stored:
        assert "_user_id" not in stored
    code_page = client.get("/sign-in/code")
    assert code_page.status_code == 200
    assert page(code_page).h1.get_text(strip=True) == "Enter your security code"
    assert page(code_page).select_one("#code")["autocomplete"] == "one-time-code"

    done = enter_security_code(client, pyotp.TOTP(DEMO_TOTP_SECRET).now())
    assert done.status_code == 303
    assert done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.sign_in").order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.detail == {"second_factor": "authenticator app"}


def test_the_training_coordinator_gives_a_code_as_other_council_staff_do(
    client: FlaskClient,
) -> None:
    response = password_step(client, COORDINATOR)
    assert response.headers["Location"] == "/sign-in/code"
    assert client.get("/").status_code == 302
    done = enter_security_code(client, pyotp.TOTP(DEMO_TOTP_SECRET).now())
    assert done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    # Their own app's page, as every council person has.
    assert client.get("/account/two-factor").status_code == 200


def test_next_survives_the_code_step(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/sign-in",
        query_string={"next": "/schools/?q=oak"},
        data={"csrf_token": token, "email": ADMIN, "password": DEMO_PASSWORD},
    )
    assert response.headers["Location"] == "/sign-in/code"
    assert enter_security_code(client).headers["Location"] == "/schools/?q=oak"


def test_the_code_page_needs_the_password_first(client: FlaskClient) -> None:
    assert client.get("/sign-in/code").headers["Location"] == "/sign-in"
    token = csrf_token(client)
    code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
    response = client.post("/sign-in/code", data={"csrf_token": token, "code": code})
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/").status_code == 302


def test_a_wrong_code_is_explained_beside_the_field_and_counts_as_a_failure(
    client: FlaskClient, session: Session, fresh: None
) -> None:
    password_step(client, ADMIN)
    response = enter_security_code(client, "000000")
    assert response.status_code == 200
    assert error_summary(response) == ["Enter a correct security code"]
    assert "Enter a correct security code" in page(response).select_one("#code-error").text
    assert page(response).title.get_text().startswith("Error: ")
    assert client.get("/").status_code == 302
    assert user(session, ADMIN).failed_sign_ins == 1
    assert last_actions(session, 1) == ["auth.second_factor_failed"]
    # The code step goes on: the right code still works.
    assert enter_security_code(client).status_code == 303


def test_wrong_codes_lock_the_account_like_wrong_passwords(
    app: Flask, client: FlaskClient, session: Session, fresh: None
) -> None:
    password_step(client, ADMIN)
    for _ in range(threshold(app) - 1):
        assert enter_security_code(client, "000000").status_code == 200
    locked = enter_security_code(client, "000000")
    assert locked.status_code == 303
    assert locked.headers["Location"] == "/sign-in"
    assert "There were too many wrong codes. Wait 15 minutes" in banner(client.get("/sign-in"))
    assert user(session, ADMIN).locked_until is not None
    # The half-signed-in state is gone, and the password alone gets nowhere while locked.
    assert client.get("/sign-in/code").headers["Location"] == "/sign-in"
    assert error_summary(password_step(client, ADMIN)) == [GENERIC_FAILURE]


def test_the_right_password_does_not_reset_the_count_of_wrong_codes(
    app: Flask, client: FlaskClient, session: Session, fresh: None
) -> None:
    # Otherwise the password would buy more guesses at the code, again and again.
    rounds, per_round = 3, 3
    assert rounds * per_round == threshold(app) - 1
    for _ in range(rounds):
        password_step(client, ADMIN)
        for _ in range(per_round):
            enter_security_code(client, "000000")
    assert user(session, ADMIN).failed_sign_ins == threshold(app) - 1
    assert user(session, ADMIN).locked_until is None
    password_step(client, ADMIN)
    enter_security_code(client, "000000")
    assert user(session, ADMIN).locked_until is not None


def test_the_code_step_times_out(client: FlaskClient, clock: Callable[[timedelta], None]) -> None:
    password_step(client, ADMIN)
    clock(timedelta(minutes=6))
    response = client.get("/sign-in/code")
    assert response.headers["Location"] == "/sign-in"
    assert "You took too long to enter the security code" in banner(client.get("/sign-in"))


def test_a_lock_while_the_code_is_awaited_ends_the_code_step(
    client: FlaskClient, session: Session, fresh: None
) -> None:
    password_step(client, ADMIN)
    # Meanwhile, someone elsewhere locks the account with wrong passwords.
    account = user(session, ADMIN)
    account.locked_until = utcnow() + timedelta(minutes=15)
    session.commit()
    response = client.get("/sign-in/code")
    assert response.headers["Location"] == "/sign-in"
    assert "There have been too many attempts to sign in. Wait 15 minutes" in banner(
        client.get("/sign-in")
    )
    assert client.get("/").status_code == 302


def test_the_code_form_needs_its_csrf_token(client: FlaskClient) -> None:
    password_step(client, ADMIN)
    code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
    for data in ({"code": code}, {"code": code, "csrf_token": "tampered"}):
        response = client.post("/sign-in/code", data=data)
        assert response.status_code == 400
        assert "Your form has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_code_attempts_are_rate_limited(
    app: Flask, client: FlaskClient, fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings(monkeypatch, app, SIGN_IN_RATE_LIMIT="2 per minute")
    password_step(client, ADMIN)
    for _ in range(2):
        assert enter_security_code(client, "000000").status_code == 200
    limited = enter_security_code(client)
    assert limited.status_code == 429
    assert "Too many attempts" in limited.get_data(as_text=True)


def test_school_staff_are_not_asked_for_a_second_factor(client: FlaskClient) -> None:
    response = password_step(client, HEAD)
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/account/two-factor").status_code == 403


def test_the_demo_council_has_the_documented_demo_secret(session: Session) -> None:
    for account in ACCOUNTS:
        found = user(session, account.email)
        if account.role.is_council:
            assert found.totp_secret == DEMO_TOTP_SECRET
            assert found.totp_enabled_at is not None
        else:
            assert found.totp_secret is None
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert DEMO_TOTP_SECRET in readme


# --- the second factor: setting it up ------------------------------------------------------


@pytest.fixture
def unenrolled(session: Session) -> str:
    """The demo publisher, as if their second factor had never been set up."""
    publisher = user(session, PUBLISHER)
    publisher.totp_secret = None
    publisher.totp_enabled_at = None
    publisher.recovery_codes = []
    session.commit()
    return PUBLISHER


def setup_secret(response: Any) -> str:
    return page(response).select_one("#secret").get_text(strip=True).replace(" ", "")


def submit_setup(client: FlaskClient, setup_page: Any, code: str) -> Any:
    html = page(setup_page)
    return client.post(
        "/account/two-factor",
        data={
            "csrf_token": html.select_one("input[name=csrf_token]")["value"],
            "setup": html.select_one("input[name=setup]")["value"],
            "code": code,
        },
    )


def test_council_staff_without_a_second_factor_are_sent_to_set_one_up(
    app: Flask, client: FlaskClient, unenrolled: str
) -> None:
    response = password_step(client, unenrolled)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/two-factor"
    assert client.get("/account/two-factor").status_code == 200
    # Every other page sends them there, whatever it is.
    allowed = {
        "static",
        "health.healthz",
        "auth.two_factor",
        "main.accessibility",
        "main.privacy",
        "main.cookies",
        "main.favicon",
    }
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in allowed:
            continue
        if rule.endpoint.startswith("oruk."):
            continue
        response = client.get(rule.rule)
        assert response.status_code == 302, rule.rule
        assert response.headers["Location"] == "/account/two-factor", rule.rule
        checked += 1
    assert checked >= 10
    for path in ("/schools/999999", "/contacts/1", "/support/1"):
        assert client.get(path).headers["Location"] == "/account/two-factor"
    posted = client.post("/contacts/new", data={"csrf_token": csrf_token(client, "/privacy")})
    assert posted.status_code == 303
    assert posted.headers["Location"] == "/account/two-factor"
    fragment = client.get("/schools/?q=oak", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Redirect"] == "/account/two-factor"
    assert fragment.get_data() == b""
    # The public pages, and signing out, still work.
    assert client.get("/privacy").status_code == 200
    assert client.get("/healthz").status_code == 200
    signed_out = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/privacy")})
    assert signed_out.headers["Location"] == "/sign-in"


def test_setting_up_the_app_shows_a_qr_code_and_the_key(
    client: FlaskClient, unenrolled: str
) -> None:
    password_step(client, unenrolled)
    response = client.get("/account/two-factor")
    html = page(response)
    assert html.h1.get_text(strip=True) == "Set up your authenticator app"
    image = html.select_one("img[src^='data:image/svg+xml;base64,']")
    assert image is not None
    assert "QR code" in image["alt"]
    svg = base64.b64decode(image["src"].split(",", 1)[1]).decode()
    assert svg.startswith("<svg")
    # The Content-Security-Policy allows no inline styles: none in the page or the image.
    assert "style" not in svg
    assert " style=" not in response.get_data(as_text=True)
    # The key is on the page: no cache keeps it.
    assert response.headers["Cache-Control"] == "no-store"
    secret = setup_secret(response)
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert html.select_one("#secret").get_text(strip=True) == " ".join(
        secret[i : i + 4] for i in range(0, 32, 4)
    )
    # Reading the page stores nothing; each visit offers a new secret.
    assert setup_secret(client.get("/account/two-factor")) != secret


def test_the_qr_code_holds_the_secret_for_the_app(app: Flask, session: Session) -> None:
    from portal.auth import two_factor

    with app.test_request_context():
        uri = two_factor.provisioning_uri(user(session, PUBLISHER), "A" * 32)
    assert uri.startswith("otpauth://totp/Schools%20Partner%20Portal:publisher%40council.example?")
    assert "secret=" + "A" * 32 in uri
    assert "issuer=Schools%20Partner%20Portal" in uri


def test_a_wrong_code_at_set_up_is_explained_beside_the_field(
    client: FlaskClient, session: Session, unenrolled: str
) -> None:
    password_step(client, unenrolled)
    setup_page = client.get("/account/two-factor")
    secret = setup_secret(setup_page)
    response = submit_setup(client, setup_page, "123456")
    assert response.status_code == 200
    message = "Enter the code your authenticator app shows now"
    assert error_summary(response) == [message]
    assert message in page(response).select_one("#code-error").text
    # The same secret again, so the app the person has just set up still works.
    assert setup_secret(response) == secret
    assert user(session, unenrolled).totp_enabled_at is None
    # A missing code, and a set-up that was tampered with, are refused too.
    empty = submit_setup(client, response, "")
    assert error_summary(empty) == ["Enter the 6-digit code from your authenticator app"]
    html = page(response)
    forged = client.post(
        "/account/two-factor",
        data={
            "csrf_token": html.select_one("input[name=csrf_token]")["value"],
            "setup": html.select_one("input[name=setup]")["value"] + "x",
            "code": pyotp.TOTP(secret).now(),
        },
    )
    assert "That QR code has expired" in error_summary(forged)[0]
    assert user(session, unenrolled).totp_enabled_at is None


def test_set_up_recovery_codes_once_and_sign_in_with_one_once(
    app: Flask, client: FlaskClient, session: Session, unenrolled: str, fresh: None
) -> None:
    elsewhere = app.test_client()
    password_step(elsewhere, unenrolled)
    password_step(client, unenrolled)
    setup_page = client.get("/account/two-factor")
    secret = setup_secret(setup_page)
    done = submit_setup(client, setup_page, pyotp.TOTP(secret).now())
    assert done.status_code == 200
    assert done.headers["Cache-Control"] == "no-store"
    codes = [li.get_text(strip=True) for li in page(done).select("#recovery-codes li")]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    enrolled = user(session, unenrolled)
    assert enrolled.totp_secret == secret
    assert enrolled.totp_enabled_at is not None
    # Only hashes are kept.
    assert len(enrolled.recovery_codes) == 10
    assert all(stored.startswith("$argon2id$") for stored in enrolled.recovery_codes)
    assert not set(codes) & set(enrolled.recovery_codes)
    # This session goes on, now with its second factor; the one signed in with a password
    # alone elsewhere has ended.
    assert client.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    # The codes are never shown again.
    status = client.get("/account/two-factor")
    assert "You have 10 recovery codes left" in status.get_data(as_text=True)
    assert codes[0] not in status.get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})

    # A recovery code instead of the app's code, typed any old how: it works once.
    assert password_step(client, unenrolled).headers["Location"] == "/sign-in/code"
    typed = codes[3].upper().replace("-", " ")
    signed_in = enter_security_code(client, typed)
    assert signed_in.status_code == 303
    home = client.get("/")
    assert home.status_code == 200
    assert "9 recovery codes left" in banner(home)
    assert len(user(session, unenrolled).recovery_codes) == 9
    assert "auth.recovery_code_used" in last_actions(session, 3)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})

    password_step(client, unenrolled)
    again = enter_security_code(client, codes[3])
    assert again.status_code == 200
    assert error_summary(again) == ["Enter a correct security code"]
    assert enter_security_code(client, codes[4]).status_code == 303


def test_a_council_session_that_never_gave_a_second_factor_is_signed_out(
    client_for,
) -> None:
    client = client_for("la_admin")
    with client.session_transaction() as stored:
        stored["second_factor"] = False
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    assert "Sign in again, with the code from your authenticator app" in banner(
        client.get("/sign-in")
    )
    assert client.get("/").status_code == 302


def test_set_up_pages_have_no_inline_styles_or_scripts(client: FlaskClient) -> None:
    password_step(client, ADMIN)
    html = client.get("/sign-in/code").get_data(as_text=True)
    assert " style=" not in html
    assert "<script>" not in html


def test_a_demo_account_says_where_its_codes_come_from_outside_production(
    client: FlaskClient,
) -> None:
    password_step(client, ADMIN)
    text = page(client.get("/sign-in/code")).get_text(" ", strip=True)
    assert "DEMO DEMO DEMO DEMO DEMO DEMO DEMO DEMO" in text


def test_recovery_codes_are_single_use_even_when_spent_at_once(
    app: Flask, session: Session
) -> None:
    from portal.auth import two_factor
    from portal.db import db
    from portal.passwords import hash_password

    with app.test_request_context():
        account = db.session.scalars(select(User).where(User.email == ADMIN)).one()
        account.recovery_codes = [hash_password("abcde23456")]
        db.session.commit()
        moment = datetime.now(UTC)
        assert two_factor.verify_second_factor(account, "abcde-23456", moment) == "recovery code"
        db.session.commit()
        assert two_factor.verify_second_factor(account, "abcde-23456", moment) is None
        assert account.recovery_codes == []


def test_an_administrator_can_take_away_a_lost_second_factor(
    app: Flask, client_for, session: Session
) -> None:
    from portal.auth import two_factor
    from portal.db import db

    officer = client_for("caf_officer")
    with app.test_request_context():
        lost = db.session.scalars(select(User).where(User.email == "caf.north@council.example"))
        admin = db.session.scalars(select(User).where(User.email == ADMIN)).one()
        two_factor.reset(lost.one(), by=admin)
    # Signed out everywhere; at the next sign-in, straight to setting up an app again.
    assert officer.get("/").status_code == 302
    again = app.test_client()
    assert password_step(again, "caf.north@council.example").headers["Location"] == (
        "/account/two-factor"
    )
    assert again.get("/contacts/").headers["Location"] == "/account/two-factor"
    assert last_actions(session, 2)[-1] == "auth.two_factor_reset"


# --- the second factor: an authenticator code works once ------------------------------------

# The middle of a 30-second time step, so that the steps either side are plain to see.
MOMENT = datetime(2026, 11, 23, 9, 0, 15, tzinfo=UTC)


def code_at(step_offset: int, secret: str = DEMO_TOTP_SECRET) -> str:
    """The app's code for the time step ``step_offset`` steps after MOMENT's."""
    return pyotp.TOTP(secret).at(MOMENT + timedelta(seconds=30 * step_offset))


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch, session: Session) -> Callable[[int], None]:
    """fixed_clock(steps): the portal's clock stands at MOMENT, moved on ``steps`` time steps.
    The demo council's record of their last code starts empty, as if long ago."""

    def stand(steps: int = 0) -> None:
        moment = MOMENT + timedelta(seconds=30 * steps)
        monkeypatch.setattr("portal.auth.service.utcnow", lambda: moment)

    for account in session.scalars(select(User).where(User.totp_secret.is_not(None))):
        account.totp_last_step = None
    session.commit()
    stand(0)
    return stand


def sign_out(client: FlaskClient) -> None:
    signed_out = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert signed_out.headers["Location"] == "/sign-in"


def test_a_code_that_signed_someone_in_is_refused_the_second_time(
    app: Flask, client: FlaskClient, session: Session, fresh: None, fixed_clock: Any
) -> None:
    password_step(client, ADMIN)
    assert enter_security_code(client, code_at(0)).headers["Location"] == "/"
    admin = user(session, ADMIN)
    assert admin.totp_last_step == pyotp.TOTP(DEMO_TOTP_SECRET).timecode(MOMENT)
    sign_out(client)

    # The same code again, from another browser (someone who watched it typed) or this one.
    for browser in (app.test_client(), client):
        assert password_step(browser, ADMIN).headers["Location"] == "/sign-in/code"
        again = enter_security_code(browser, code_at(0))
        assert again.status_code == 200
        # Told exactly what a wrong code is told, and counted like one.
        assert error_summary(again) == ["Enter a correct security code"]
        assert browser.get("/").status_code == 302
    # Counted like one: the new browser's against the account's count for browsers it does
    # not know; this one's, which has signed in before, against itself alone.
    assert user(session, ADMIN).failed_sign_ins == 1
    assert session.scalars(select(SignInDevice.failed_sign_ins)).all() == [1]
    assert last_actions(session, 4) == [
        "auth.second_factor_failed",
        "auth.security_code_reused",
        "auth.second_factor_failed",
        "auth.security_code_reused",
    ]
    # Half a minute later, the app's next code signs them in.
    fixed_clock(1)
    assert enter_security_code(client, code_at(1)).headers["Location"] == "/"
    assert user(session, ADMIN).totp_last_step == pyotp.TOTP(DEMO_TOTP_SECRET).timecode(MOMENT) + 1


def test_no_code_for_an_earlier_step_works_after_a_later_one(
    client: FlaskClient, session: Session, fresh: None, fixed_clock: Any
) -> None:
    # A phone running 30 seconds fast gives the next step's code, which the drift allows.
    password_step(client, ADMIN)
    assert enter_security_code(client, code_at(1)).headers["Location"] == "/"
    sign_out(client)
    # Now's code and the one before were never used, but they are older than the one that
    # was: they could only be a replay, and are refused; so is the one that was used.
    password_step(client, ADMIN)
    for older in (code_at(-1), code_at(0), code_at(1)):
        refused = enter_security_code(client, older)
        assert error_summary(refused) == ["Enter a correct security code"], older
    # Codes outside the drift window were never accepted at all.
    assert error_summary(enter_security_code(client, code_at(2))) == [
        "Enter a correct security code"
    ]
    fixed_clock(1)
    assert enter_security_code(client, code_at(2)).headers["Location"] == "/"


def test_each_person_has_their_own_last_code(
    client: FlaskClient, session: Session, fresh: None, fixed_clock: Any
) -> None:
    # The demo council shares one secret: the admin's sign-in uses up nobody else's code.
    password_step(client, ADMIN)
    assert enter_security_code(client, code_at(0)).headers["Location"] == "/"
    sign_out(client)
    password_step(client, PUBLISHER)
    assert enter_security_code(client, code_at(0)).headers["Location"] == "/"
    assert user(session, PUBLISHER).totp_last_step == user(session, ADMIN).totp_last_step


def test_the_code_that_set_up_the_app_does_not_sign_in(
    client: FlaskClient, session: Session, unenrolled: str, fresh: None, fixed_clock: Any
) -> None:
    password_step(client, unenrolled)
    setup_page = client.get("/account/two-factor")
    secret = setup_secret(setup_page)
    done = submit_setup(client, setup_page, code_at(0, secret))
    assert page(done).h1.get_text(strip=True) == "Save your recovery codes"
    assert user(session, unenrolled).totp_last_step == pyotp.TOTP(secret).timecode(MOMENT)
    sign_out(client)

    password_step(client, unenrolled)
    refused = enter_security_code(client, code_at(0, secret))
    assert error_summary(refused) == ["Enter a correct security code"]
    fixed_clock(1)
    assert enter_security_code(client, code_at(1, secret)).headers["Location"] == "/"


def test_a_stale_copy_of_the_account_cannot_accept_a_used_code(
    app: Flask, session: Session, fixed_clock: Any
) -> None:
    """What another app server does: it read the account before this one took the code. The
    refusal comes from the database, not from the copy it holds."""
    from portal.auth import two_factor
    from portal.db import db

    step = pyotp.TOTP(DEMO_TOTP_SECRET).timecode(MOMENT)
    with app.test_request_context():
        stale = db.session.scalars(select(User).where(User.email == ADMIN)).one()
        assert stale.totp_last_step is None
        # Meanwhile the other server accepts the code, and records its step.
        user(session, ADMIN).totp_last_step = step
        session.commit()
        assert stale.totp_last_step is None
        assert two_factor.verify_second_factor(stale, code_at(0), MOMENT) is None
        # A later code still works, and the copy learns the step it recorded.
        assert two_factor.verify_second_factor(stale, code_at(1), MOMENT) == two_factor.TOTP
        assert stale.totp_last_step == step + 1
        db.session.commit()
    assert user(session, ADMIN).totp_last_step == step + 1


def test_two_servers_given_one_code_at_once_accept_it_once(
    database_url: str, make_app: Callable[..., Flask]
) -> None:
    """Two app servers, each with its own connection, take the same code at the same moment:
    the second waits on the first's row lock, then finds the step taken."""
    import threading

    from portal.auth import two_factor
    from portal.db import db

    if database_url.startswith("sqlite"):
        pytest.skip("two app servers share PostgreSQL, as in production; this runs there")
    app = make_app()
    # This app commits for real: the admin's record is put back as it was at the end.
    with app.app_context():
        before = db.session.scalars(select(User.totp_last_step).where(User.email == ADMIN)).one()
        last_event = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        db.session.execute(update(User).where(User.email == ADMIN).values(totp_last_step=None))
        db.session.commit()
    read, taken = threading.Barrier(2), threading.Event()
    results: dict[str, str | None] = {}

    def first() -> None:
        with app.app_context():
            account = db.session.scalars(select(User).where(User.email == ADMIN)).one()
            read.wait(timeout=10)
            results["first"] = two_factor.verify_second_factor(account, code_at(0), MOMENT)
            taken.set()
            # Hold the row while the second server tries for it.
            time.sleep(0.5)
            db.session.commit()

    def second() -> None:
        with app.app_context():
            account = db.session.scalars(select(User).where(User.email == ADMIN)).one()
            read.wait(timeout=10)
            taken.wait(timeout=10)
            results["second"] = two_factor.verify_second_factor(account, code_at(0), MOMENT)
            db.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert results == {"first": two_factor.TOTP, "second": None}
    finally:
        with app.app_context():
            db.session.execute(
                update(User).where(User.email == ADMIN).values(totp_last_step=before)
            )
            db.session.execute(delete(AuditEvent).where(AuditEvent.id > last_event))
            db.session.commit()
