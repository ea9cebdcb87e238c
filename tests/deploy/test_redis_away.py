"""Redis away is not sign-in away: with REDIS_URL and RATELIMIT_STORAGE_URI naming a port
where nothing listens, signing in answers its usual pages, the limits hold in this process's
memory, the log says Redis is unavailable, and the limits go back to Redis when it returns.

The job queue's side (the worker sends the outbox itself meanwhile) is in tests/jobs/test_jobs.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import OutboxMessage
from portal_seed.demo import DEMO_PASSWORD
from tests.conftest import RedisLater, csrf_token, enter_security_code, rolled_back, sign_in
from tests.helpers.html import error_summary
from tests.helpers.html import soup as page

GENERIC_FAILURE = "Enter a correct e-mail address and password"
TOO_MANY_FOR_ONE_ADDRESS = "Too many attempts to sign in with this e-mail address."


@pytest.fixture
def away_app(make_app: Any, redis_later: RedisLater) -> Iterator[Flask]:
    """The app with Redis for everything (limits, jobs) at a port where nothing
    listens; what it writes is rolled back."""
    app = make_app(REDIS_URL=redis_later.url, RATELIMIT_STORAGE_URI=redis_later.url)
    with rolled_back(app) as rolled:
        yield rolled


def test_with_redis_away_every_step_of_signing_in_answers_its_usual_page(
    away_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # A wrong password: the usual message, not a server error.
    client = away_app.test_client()
    wrong = sign_in(client, "head@oakfield.example", "not the password")
    assert wrong.status_code == 200
    assert error_summary(wrong) == [GENERIC_FAILURE]
    # The right one signs a head teacher in.
    signed_in = sign_in(client, "head@oakfield.example", DEMO_PASSWORD)
    assert signed_in.status_code == 303
    assert client.get("/").status_code == 200

    # A council administrator: the security-code step, a wrong code, then the right one.
    council = away_app.test_client()
    token = csrf_token(council, "/sign-in")
    password = council.post(
        "/sign-in",
        data={"csrf_token": token, "email": "admin@council.example", "password": DEMO_PASSWORD},
    )
    assert password.headers["Location"] == "/sign-in/code"
    wrong_code = enter_security_code(council, "000000")
    assert wrong_code.status_code == 200
    assert error_summary(wrong_code) == ["Enter a correct security code"]
    assert enter_security_code(council).status_code == 303
    assert council.get("/").status_code == 200

    # And the log says why the counts are in memory.
    assert "Rate limit storage unreachable - falling back to in-memory storage" in caplog.text


def test_with_redis_away_a_forgotten_password_is_mailed_and_the_log_says_so(
    away_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = away_app.test_client()
    token = csrf_token(client, "/account/forgot")
    response = client.post(
        "/account/forgot", data={"csrf_token": token, "email": "head@oakfield.example"}
    )
    assert response.status_code == 200
    assert page(response).h1.get_text(strip=True) == "Check your e-mail"
    # The mail is committed, waiting for the worker (which sends it without Redis).
    session: Session = away_app.extensions["portal.db"].session_factory()
    try:
        subjects = session.scalars(
            select(OutboxMessage.subject).where(
                OutboxMessage.recipient == "head@oakfield.example",
                OutboxMessage.status == "pending",
            )
        ).all()
    finally:
        session.close()
    assert any(subject.startswith("Reset your password") for subject in subjects)
    assert "Redis is unavailable" in caplog.text
    assert "e-mail waits in the outbox for the worker" in caplog.text


def test_the_warning_is_said_once_an_outage_not_at_every_request(
    away_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        client = away_app.test_client()
        token = csrf_token(client, "/account/forgot")
        client.post("/account/forgot", data={"csrf_token": token, "email": "nobody@x.example"})
        sign_in(client, "nobody@oakfield.example", "wrong")
    limiter_warnings = [r for r in caplog.records if "Rate limit storage unreachable" in r.message]
    assert len(limiter_warnings) == 1


def test_with_redis_away_the_limits_still_hold_in_memory(
    make_app: Any, redis_later: RedisLater
) -> None:
    app = make_app(
        REDIS_URL=redis_later.url,
        RATELIMIT_STORAGE_URI=redis_later.url,
        SIGN_IN_RATE_LIMIT="3 per minute",
        SIGN_IN_ACCOUNT_RATE_LIMIT="2 per 15 minutes",
    )
    with rolled_back(app):
        # One e-mail address from one address: slowed after two failures, as with Redis.
        # (An address no account has: nothing about any account changes.)
        guesser = app.test_client()
        for _ in range(2):
            assert error_summary(sign_in(guesser, "nobody@oakfield.example", "x")) == [
                GENERIC_FAILURE
            ]
        slowed = sign_in(guesser, "nobody@oakfield.example", "x")
        assert slowed.status_code == 429
        assert error_summary(slowed)[0].startswith(TOO_MANY_FOR_ONE_ADDRESS)
        # And every attempt from the address, whatever the e-mail address: three a minute.
        limited = sign_in(guesser, "somebody@oakfield.example", "x")
        assert limited.status_code == 429
        assert "Too many attempts" in limited.get_data(as_text=True)


def test_the_limits_go_back_to_redis_when_it_returns(
    make_app: Any, redis_later: RedisLater, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flask-limiter")
    app = make_app(REDIS_URL=redis_later.url, RATELIMIT_STORAGE_URI=redis_later.url)
    with rolled_back(app):
        client = app.test_client()
        assert sign_in(client, "nobody@oakfield.example", "wrong").status_code == 200
        assert "Rate limit storage unreachable" in caplog.text
        returned = redis_later.start()
        assert returned.keys("LIMITS:*") == []
        # Flask-Limiter looks for its storage again after a second or two, then every few.
        deadline = time.monotonic() + 20
        while not returned.keys("LIMITS:*"):
            assert time.monotonic() < deadline, "the limits never went back to Redis"
            time.sleep(0.5)
            assert sign_in(client, "nobody@oakfield.example", "wrong").status_code == 200
        assert "Rate limit storage recovered" in caplog.text
        # The limiter's connections to this Redis, which the test is about to stop.
        for limiter in app.extensions["limiter"]:
            limiter.storage.storage.close()
