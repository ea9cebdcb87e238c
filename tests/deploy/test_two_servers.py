"""Two app servers side by side, as in production: one PostgreSQL, one Redis. A sign-in,
a rate limit and a lockout made on one hold on the other, and so does a browser's device
cookie."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, or_, select

from portal import create_app
from portal.models import AuditEvent, Membership, OutboxMessage, Role, School, User
from portal.passwords import hash_password
from portal_seed.demo import DEMO_PASSWORD
from tests.conftest import TEST_CONFIG
from tests.live import serve

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
EMAIL = "two.servers@oakfield.example"


class Browser:
    """A person's browser: its own cookies, talking to whichever server it is given."""

    def __init__(self) -> None:
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def end_session(self) -> None:
        """The session ends (closed, or signed out); its other cookies stay."""
        for cookie in list(self.cookies):
            if cookie.name == "session":
                self.cookies.clear(cookie.domain, cookie.path, cookie.name)

    def get(self, url: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(url))

    def sign_in(self, server: str, email: str, password: str) -> tuple[int, str]:
        _, page = self.get(f"{server}/sign-in")
        token = _CSRF.search(page)
        assert token, "no form token on the sign-in page"
        data = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "email": email, "password": password}
        ).encode()
        return self._open(urllib.request.Request(f"{server}/sign-in", data=data))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            body = error.read().decode()
            error.close()
            return error.code, body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def servers(database_url: str, seeded_app: Flask, redis_url: str) -> Iterator[tuple[str, str]]:
    if database_url.startswith("sqlite"):
        pytest.skip("two app servers share PostgreSQL, as in production; this runs there")
    settings = {
        **TEST_CONFIG,
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "SIGN_IN_RATE_LIMIT": "4 per minute",
        "SIGN_IN_ACCOUNT_RATE_LIMIT": "100 per minute",
        "LOCKOUT_THRESHOLD": 2,
    }
    with seeded_app.app_context():
        from portal.db import db

        oakfield = db.session.scalar(select(School.id).where(School.urn == 125601))
        person = User(
            email=EMAIL, display_name="Two Demo-Servers", password_hash=hash_password(DEMO_PASSWORD)
        )
        person.memberships.append(Membership(role=Role.SCHOOL_STAFF, school_id=oakfield))
        db.session.add(person)
        db.session.commit()
    apps = [create_app(settings) for _ in range(2)]
    try:
        with serve(apps[0], "first") as first, serve(apps[1], "second") as second:
            yield first, second
    finally:
        for app in apps:
            app.extensions["portal.db"].engine.dispose()
        with seeded_app.app_context():
            from portal.db import db

            user_id = db.session.scalar(select(User.id).where(User.email == EMAIL))
            # This user existed only for this test: its trail and its mail go with it.
            db.session.execute(
                delete(AuditEvent).where(
                    or_(
                        AuditEvent.actor_id == user_id,
                        (AuditEvent.subject_type == "User") & (AuditEvent.subject_id == user_id),
                    )
                )
            )
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == EMAIL))
            db.session.execute(delete(Membership).where(Membership.user_id == user_id))
            db.session.execute(delete(User).where(User.id == user_id))
            db.session.commit()


def test_a_sign_in_a_rate_limit_and_a_lockout_hold_across_two_servers(
    servers: tuple[str, str], redis_url: str
) -> None:
    import redis

    one, two = servers
    # A sign-in on one server is a sign-in on the other: nothing is kept in the server.
    person = Browser()
    status, _ = person.sign_in(one, "head@oakfield.example", DEMO_PASSWORD)
    assert status == 303
    status, page = person.get(f"{two}/")
    assert status == 200 and "Oakfield Primary School" in page

    # The person's own browser: it has signed in through one server before.
    own = Browser()
    assert own.sign_in(one, EMAIL, DEMO_PASSWORD)[0] == 303
    own.end_session()
    redis.Redis.from_url(redis_url).flushdb()  # a fresh minute: every browser is at one address

    # A lockout made through one server holds on the other (it lives in the database).
    guesser = Browser()
    assert guesser.sign_in(one, EMAIL, "wrong-password-1")[0] == 200
    assert guesser.sign_in(two, EMAIL, "wrong-password-2")[0] == 200
    status, page = guesser.sign_in(one, EMAIL, DEMO_PASSWORD)
    assert status != 303, "a locked account signed in through the other server"
    assert "Enter a correct e-mail address and password" in page
    # ...against browsers the account does not know: its own signs in through either.
    assert own.sign_in(two, EMAIL, DEMO_PASSWORD)[0] == 303
    redis.Redis.from_url(redis_url).flushdb()  # a fresh minute for the rate limit below

    # The per-address rate limit counts attempts on both servers together (it is in Redis).
    attacker = Browser()
    answers = [
        attacker.sign_in(server, f"nobody{n}@school.example", "wrong")[0]
        for n, server in enumerate([one, two, one, two, one])
    ]
    assert answers[:4] == [200, 200, 200, 200]
    assert answers[4] == 429
