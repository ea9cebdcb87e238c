"""Fixtures: the app on SQLite and, when PORTAL_TEST_DATABASE_URL is set, on PostgreSQL.

Every test that uses ``app`` runs once per database. The schema is built by the real Alembic
migrations and the demo data by the real seed command, once per database per session; each
test then runs inside a transaction that is rolled back, so tests cannot see each other.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, make_url, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from portal import create_app
from portal.buyback import offer as buyback_offer
from portal.cli import upgrade_database
from portal.models import User
from portal.services import catalogue, offers
from portal_seed.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET, seed

# No time limit on one example: the suite runs beside the browser tests on two cores, where a
# slow moment is the machine's, not the code's (speed is measured in bench/, not here).
settings.register_profile("portal", deadline=None)
settings.load_profile("portal")

# The browser tests' fixtures (Chromium, axe, the live server), for every folder's
# test_browser.py.
pytest_plugins = ["tests.browser_fixtures"]

IN_CI = os.environ.get("CI", "").lower() == "true"

# The suite decides which services each app it builds talks to. A REDIS_URL left set in a
# developer's shell (as `make run` with Redis uses) would otherwise turn the outbox's
# workers into the job queue's and fail the tests of the outbox loop; the job queue's own
# tests name their Redis with PORTAL_TEST_REDIS_URL.
os.environ.pop("REDIS_URL", None)

# Under pytest-xdist each worker is a process of its own, named gw0, gw1...: it gets a
# PostgreSQL database and a Redis database of its own, as two runs side by side would. A
# pytest run beside another (make test's second process) names itself in PORTAL_TEST_WORKER.
WORKER = os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("PORTAL_TEST_WORKER", "")
WORKER_NUMBER = int(WORKER.removeprefix("gw") or 0)


def _redis_for_this_worker(url: str) -> str:
    """The Redis database PORTAL_TEST_REDIS_URL names for the first worker (or no worker),
    and the ones below it for the others: 15, 14, 13... by default."""
    parts = urllib.parse.urlsplit(url)
    number = int(parts.path.strip("/") or 0) - WORKER_NUMBER
    if number < 0:
        raise pytest.UsageError(
            f"PORTAL_TEST_REDIS_URL ({url}) leaves no Redis database for worker {WORKER}: "
            "name a higher database, or run fewer workers (-n)"
        )
    return parts._replace(path=f"/{number}").geturl()


# The Redis the tests of shared state and the job queue's tests use (emptied before and after
# each): by default the local server's database 15, which nothing else here uses.
REDIS_URL = _redis_for_this_worker(
    os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
)

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    # Plenty for the suite; tests of the limit itself build an app with a low one.
    "SIGN_IN_RATE_LIMIT": "10000 per minute",
    "FORGOT_PASSWORD_RATE_LIMIT": "10000 per minute",
    # Cheap hashes: the suite signs in hundreds of times. Production's cost is tested apart.
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 1024,
}

# The demo account for each role that the access matrix and the role tests use.
ROLE_ACCOUNTS = {
    "la_admin": "admin@council.example",
    "publisher": "publisher@council.example",
    "caf_officer": "caf.north@council.example",
    "head_teacher": "head@oakfield.example",
    "school_staff": "staff@oakfield.example",
    "academy_head": "head@riverside.example",
    "trust_lead": "trust@meadowtrust.example",
    "training_coordinator": "coordinator@council.example",
}


def skip_or_fail(reason: str) -> None:
    """Outside CI a missing service skips its tests; under CI it fails them, loudly."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _database_for_this_worker(url: str) -> str:
    """PORTAL_TEST_DATABASE_URL itself, or under xdist a database beside it named for the
    worker (test_gw0, test_gw1...), made on the same server if it is not there yet."""
    if not WORKER:
        return url
    named = make_url(url)
    worker_url = named.set(database=f"{named.database}_{WORKER}")
    server = create_engine(named.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": worker_url.database},
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{worker_url.database}"'))
    except OperationalError as error:
        skip_or_fail(f"PostgreSQL at PORTAL_TEST_DATABASE_URL cannot be reached: {error}")
    finally:
        server.dispose()
    return worker_url.render_as_string(hide_password=False)


def _postgresql_url() -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        skip_or_fail("PostgreSQL tests skipped: PORTAL_TEST_DATABASE_URL is not set")
        raise AssertionError("unreachable")
    url = _database_for_this_worker(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # A test database only: start from an empty schema every session.
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as error:
        skip_or_fail(f"PostgreSQL at PORTAL_TEST_DATABASE_URL cannot be reached: {error}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An empty Redis database for a test; under CI, Redis must answer."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis at {REDIS_URL} cannot be reached: {error}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


def unused_port() -> int:
    # Nothing listens on it afterwards: a connection is refused. (Another process could take
    # it in between; on loopback in a test run that does not happen in practice.)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisLater:
    """A port where no Redis listens, until ``start`` starts one there: Redis coming back
    after an outage."""

    port: int = field(default_factory=unused_port)
    process: subprocess.Popen[bytes] | None = None
    client: redis.Redis | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> redis.Redis:
        server = shutil.which("redis-server")
        if server is None:
            skip_or_fail("redis-server is not installed: Redis cannot be brought back")
            raise AssertionError("unreachable")
        # On loopback, keeping nothing on disk.
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        self.process = subprocess.Popen(  # noqa: S603 (the machine's own redis-server)
            [server, *options, "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return self.client
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_later() -> Iterator[RedisLater]:
    """A Redis that is away, to be brought back by the test (stopped at the end)."""
    later = RedisLater()
    yield later
    later.stop()


# Every database test runs on both; the second run, on PostgreSQL, is left out of
# make test-fast (marked slow), which then runs each test once.
@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'portal.sqlite3'}"
    return _postgresql_url()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """The browser tests' live server (tests/browser_fixtures.py): pytest-playwright gives
    every context this base URL, so tests can goto("/sign-in").

    Here rather than beside live_server, as a conftest's fixture overrides pytest-playwright's
    own base_url and a plugin's might not. Only the browser tests ask for it: pytest-base-url,
    whose autouse fixture would ask for it before every session's first test, browser tests or
    not, is kept out (pyproject.toml's addopts).
    """
    return live_server


def _dispose(app: Flask) -> None:
    app.extensions["portal.db"].engine.dispose()


@pytest.fixture(scope="session")
def mail_directory(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the file mail backend writes during tests: never the repository's instance/."""
    return str(tmp_path_factory.mktemp("mail"))


@pytest.fixture(scope="session")
def claim_evidence_directory(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where claims' evidence is kept during tests (seed-demo writes the demo claims'
    invoices there): never the repository's instance/."""
    return str(tmp_path_factory.mktemp("claim-evidence"))


@pytest.fixture(scope="session")
def seeded_app(
    database_url: str, mail_directory: str, claim_evidence_directory: str
) -> Iterator[Flask]:
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": database_url,
            "MAIL_DIRECTORY": mail_directory,
            "CLAIM_EVIDENCE_DIRECTORY": claim_evidence_directory,
        }
    )
    with app.app_context():
        upgrade_database()
        seed()
    yield app
    _dispose(app)


@pytest.fixture
def make_app(
    database_url: str, seeded_app: Flask, mail_directory: str, claim_evidence_directory: str
) -> Iterator[Callable[..., Flask]]:
    """Another app on the seeded database, with some settings changed."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        base = {
            **TEST_CONFIG,
            "DATABASE_URL": database_url,
            "MAIL_DIRECTORY": mail_directory,
            "CLAIM_EVIDENCE_DIRECTORY": claim_evidence_directory,
        }
        app = create_app({**base, **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        _dispose(app)


@contextmanager
def rolled_back(app: Flask) -> Iterator[Flask]:
    """``app``, with everything it writes meanwhile rolled back at the end."""
    # Offers an earlier test published and rolled back: their ids may come back with others'
    # prices.
    offers.forget(app)
    state = app.extensions["portal.db"]
    connection = state.engine.connect()
    transaction = connection.begin()
    original_factory = state.session_factory
    # The app's own commits become savepoints inside this outer transaction.
    state.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield app
    finally:
        state.session_factory = original_factory
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(seeded_app: Flask) -> Iterator[Flask]:
    """The seeded app, with everything a test writes rolled back when it ends."""
    with rolled_back(seeded_app) as app:
        yield app


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session for the test to arrange and check data, on the test's transaction.

    It deliberately pushes no app context: one left open would be shared by every request
    the test client makes, and with it ``g`` (the signed-in person, the CSRF token).
    """
    session = app.extensions["portal.db"].session_factory()
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """The form token from a page, as a browser would have it."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> Any:
    """Sign in through the form; a council account (asked for its security code) gives the
    current code for the demo authenticator secret, as a person with the app would."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    if response.status_code == 303 and response.headers["Location"] == "/sign-in/code":
        return enter_security_code(client)
    return response


def enter_security_code(client: FlaskClient, code: str | None = None) -> Any:
    """The second step of a council sign-in: by default the demo secret's current code, as
    if the person's last code had been a while ago (see forget_last_security_code)."""
    token = csrf_token(client, "/sign-in/code")
    if code is None:
        forget_last_security_code(client)
        code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
    return client.post("/sign-in/code", data={"csrf_token": token, "code": code})


def forget_last_security_code(client: FlaskClient) -> None:
    """Let the person half signed in on ``client`` use the current code again.

    An authenticator code works once, and the demo council shares one secret, so a test that
    signs one demo person in twice within 30 seconds (two clients, or a test after one whose
    sign-in was committed) would rightly be refused the second time. In life the second
    sign-in would come with a later code; here the record of the last one is cleared instead.
    The portal's check is unchanged: tests/auth/test_auth_security.py shows it refusing a reuse.
    """
    with client.session_transaction() as stored:
        pending = stored.get("pending_sign_in")
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return
    # On the app's own session factory: inside the test's transaction under `app`.
    database = client.application.extensions["portal.db"]
    with database.session_factory() as session:
        session.execute(update(User).where(User.id == pending["user"]).values(totp_last_step=None))
        session.commit()


@pytest.fixture
def client_for(app: Flask) -> Callable[[str], FlaskClient]:
    """A client signed in as the demo account for a role (a key of ROLE_ACCOUNTS) or e-mail."""

    def make(who: str) -> FlaskClient:
        client = app.test_client()
        email = ROLE_ACCOUNTS.get(who, who)
        response = sign_in(client, email)
        assert response.status_code == 303, f"demo account {email} could not sign in"
        return client

    return make


# The cookies of each demo role's sign-in, per database, for browser_for: the sweeps of every
# route as every role (the access matrix, the query budget, the security checks) make
# thousands of requests, and signing in through the form (a password hash, and a security code
# for council staff) for each was most of their time. A session cookie holds who is signed in
# and is checked against the account on every request, so one still works after the test that
# signed in has been rolled back.
_SIGNED_IN: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}


@pytest.fixture
def browser_for(
    app: Flask,
    database_url: str,
    client: FlaskClient,
    client_for: Callable[[str], FlaskClient],
) -> Callable[[str], FlaskClient]:
    """A client for a role of the access matrix, signed in as that role's demo account (by
    the cookies of an earlier sign-in on this database, when there was one); nobody signed
    in for "anonymous"."""

    def make(role: str) -> FlaskClient:
        if role == "anonymous":
            return client
        cookies = _SIGNED_IN.get((database_url, role))
        if cookies is None:
            signed_in = client_for(role)
            # Werkzeug's client has no public way to list its cookies.
            _SIGNED_IN[(database_url, role)] = [
                (cookie.key, cookie.value, cookie.domain, cookie.path)
                for cookie in signed_in._cookies.values()
            ]
            return signed_in
        again = app.test_client()
        for key, value, domain, path in cookies:
            again.set_cookie(key, value, domain=domain, path=path)
        return again

    return make


def demo_emails() -> list[str]:
    return [account.email for account in ACCOUNTS]


class QueryCounter:
    """Counts the SQL statements the app sends while it is active."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        # Pages read through an engine of their own (portal.db.reader_for): both counted.
        self.engines = app.extensions["portal.db"].engines
        self.statements: list[str] = []

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        from sqlalchemy import event

        # Counted with no offer's prices read yet: the most a page runs.
        offers.forget(self.app)
        catalogue.forget_choices()
        buyback_offer.forget_year_offers()
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: Any) -> None:
        from sqlalchemy import event

        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], QueryCounter]:
    return lambda: QueryCounter(app)


def same_markup(html: str) -> str:
    """The markup with the whitespace a browser ignores (between tags, and between a tag's
    attributes) squeezed out."""
    html = re.sub(r">\s+", ">", html.strip())
    html = re.sub(r"\s+<", "<", html)
    return re.sub(r"\s+>", ">", re.sub(r"\s+", " ", html))
