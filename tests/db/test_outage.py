"""The database out of reach: every request that needs it is answered 503 with a page of the
portal's own (or the feed's JSON), drawn without the database and with every security
header, and the portal answers as usual again by itself when the database is back."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from portal.errors import RETRY_AFTER_SECONDS
from portal.rendering import WARM_LOG
from tests.conftest import csrf_token, sign_in

ROOT = Path(__file__).resolve().parents[2]
UNAVAILABLE = '<h1 class="govuk-heading-l">Sorry, the service is unavailable</h1>'


class Forwarder:
    """A port of its own in front of the test PostgreSQL. Up, it passes each connection on;
    down, it cuts the connections it carries and refuses new ones, as a database that has
    stopped does."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = _free_port()
        self.listener: socket.socket | None = None
        self.accepting = threading.Thread()
        self.carried: list[socket.socket] = []
        self.lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.1)
        self.listener = listener
        self.accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self.accepting.start()

    def down(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            # Closed, the port still listens until the thread waiting on it wakes.
            self.accepting.join(timeout=5)
        with self.lock:
            carried, self.carried = self.carried, []
        for end in carried:
            _cut(end)

    def _accept(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            server = socket.create_connection(self.target)
            with self.lock:
                self.carried += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _cut(source)
        _cut(sink)


def _cut(end: socket.socket) -> None:
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Outage:
    """The seeded database, at an address of the test's own that it can take away."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.app: Flask | None = None
        url = make_url(database_url)
        self.forwarder: Forwarder | None = None
        if url.drivername.startswith("sqlite"):
            # SQLite's file, reached through a link the test can remove and put back.
            assert url.database is not None
            self.real_folder = Path(url.database).parent
            self.link = tmp_path / "database"
            self.url = f"sqlite:///{self.link / Path(url.database).name}"
        else:
            self.forwarder = Forwarder(url.host or "127.0.0.1", url.port or 5432)
            self.url = url.set(host="127.0.0.1", port=self.forwarder.port).render_as_string(
                hide_password=False
            )
        self.up()

    def up(self) -> None:
        if self.forwarder is not None:
            self.forwarder.up()
        else:
            self.link.symlink_to(self.real_folder)

    def down(self) -> None:
        if self.forwarder is not None:
            self.forwarder.down()
            return
        self.link.unlink()
        # An open SQLite connection keeps its file: the pool's go, as PostgreSQL's would.
        if self.app is not None:
            self.app.extensions["portal.db"].engine.dispose()


@pytest.fixture
def outage(database_url: str, seeded_app: Flask, tmp_path: Path) -> Iterator[Outage]:
    outage = Outage(database_url, tmp_path)
    yield outage
    if outage.forwarder is not None:
        outage.forwarder.down()


@pytest.fixture
def outage_app(make_app: Callable[..., Flask], outage: Outage) -> Flask:
    # TESTING off: an error no handler answers is the 500 page, as in production, rather than
    # raised into the test.
    app = make_app(DATABASE_URL=outage.url, TESTING=False)
    outage.app = app
    return app


def _nonce(response: Any) -> str:
    policy = response.headers["Content-Security-Policy"]
    found = re.search(r"script-src 'self' 'nonce-([^']+)'", policy)
    assert found, policy
    return found.group(1)


def assert_calm_unavailable_page(response: TestResponse, what: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, f"{what}: {response.status_code}"
    assert UNAVAILABLE in html, what
    assert "Internal Server Error" not in html, what
    # Drawn without asking the database who is signed in: no navigation, no sign-out.
    assert "Sign out" not in html, what
    assert 'aria-label="Sections of the portal"' not in html, what
    # Every header Talisman gives a page, the nonce the page's own inline script carries.
    assert f'<script nonce="{_nonce(response)}">' in html, what
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy, what
    assert "'unsafe-inline'" not in policy, what
    assert response.headers["X-Frame-Options"] == "DENY", what
    assert response.headers["X-Content-Type-Options"] == "nosniff", what
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", what
    assert "camera=()" in response.headers["Permissions-Policy"], what
    # Try again shortly, and keep this answer nowhere.
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS), what
    assert response.headers["Cache-Control"] == "no-store", what


def test_while_the_database_is_down_every_request_that_needs_it_is_a_calm_503(
    outage_app: Flask, outage: Outage
) -> None:
    head = outage_app.test_client()
    assert sign_in(head, "head@oakfield.example").status_code == 303
    admin = outage_app.test_client()
    assert sign_in(admin, "admin@council.example").status_code == 303
    visitor = outage_app.test_client()
    assert head.get("/").status_code == 200
    head_token = csrf_token(head, "/users/invite")

    outage.down()
    visitor_token = csrf_token(visitor)  # the sign-in page needs no database, so it is served
    invite = {
        "csrf_token": head_token,
        "email": "new.teacher@oakfield.example",
        "display_name": "New Demo-Teacher",
        "role": "school_staff",
    }
    answers = {
        "signing in": visitor.post(
            "/sign-in",
            data={"csrf_token": visitor_token, "email": "head@oakfield.example", "password": "x"},
        ),
        "a password reset": visitor.post(
            "/account/forgot", data={"csrf_token": visitor_token, "email": "head@oakfield.example"}
        ),
        "the home page": head.get("/"),
        "a signed-in page": head.get("/contacts/"),
        "a fragment": head.get("/schools/?q=oak", headers={"HX-Request": "true"}),
        "a form": head.post("/users/invite", data=invite),
        "a form sent by htmx": head.post(
            "/users/invite", data=invite, headers={"HX-Request": "true"}
        ),
        "a council page": admin.get("/admin/audit"),
    }
    for what, response in answers.items():
        assert_calm_unavailable_page(response, what)
    # htmx puts no error into the page: the whole window is reloaded, and shows the 503 page.
    for what in ("a fragment", "a form sent by htmx"):
        assert answers[what].headers["HX-Refresh"] == "true", what
    assert "HX-Refresh" not in answers["a signed-in page"].headers

    feed = visitor.get("/api/oruk/services")
    assert feed.status_code == 503
    assert feed.json == {"status": 503, "message": "The service is unavailable: try again later"}
    assert feed.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert feed.headers["Cache-Control"] == "no-store"
    assert feed.headers["Access-Control-Allow-Origin"] == "*"
    assert feed.headers["X-Content-Type-Options"] == "nosniff"

    # Back by itself: the same people, still signed in, get their pages again.
    outage.up()
    home = head.get("/")
    assert home.status_code == 200
    assert "Oakfield Primary School" in home.get_data(as_text=True)
    assert "Sign out" in home.get_data(as_text=True)
    assert admin.get("/admin/audit").status_code == 200
    assert visitor.get("/api/oruk/services").status_code == 200
    assert sign_in(outage_app.test_client(), "staff@oakfield.example").status_code == 303


def test_a_message_waiting_for_the_next_page_outlasts_the_outage(
    outage_app: Flask, outage: Outage
) -> None:
    head = outage_app.test_client()
    assert sign_in(head, "head@oakfield.example").status_code == 303
    with head.session_transaction() as stored:
        stored["_flashes"] = [("success", "Your choices were saved")]
    outage.down()
    assert_calm_unavailable_page(head.get("/"), "the page after a save")
    outage.up()
    assert "Your choices were saved" in head.get("/").get_data(as_text=True)


def test_a_database_error_after_the_view_is_a_503_too(outage_app: Flask, outage: Outage) -> None:
    # Raised where no handler of the request's own answers it (here an after-request step),
    # it reaches the portal's 500 handler, which answers the same 503.
    from portal.db import db
    from portal.models import School

    @outage_app.after_request
    def read_the_database(response: Any) -> Any:
        if response.status_code == 200 and response.mimetype == "text/html":
            db.session.get(School, 1)
        return response

    client = outage_app.test_client()
    outage.down()
    assert_calm_unavailable_page(client.get("/accessibility"), "after the view")


# The same, on a real gunicorn: never its bare "Internal Server Error".


def _signed_session(secret_key: str, claims: dict[str, Any]) -> str:
    signer = Flask("signer")
    signer.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    assert serializer is not None
    return serializer.dumps(claims)


def _fetch(url: str, data: bytes | None = None, cookie: str = "") -> tuple[int, Any, str]:
    request = urllib.request.Request(url, data=data, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        body = error.read().decode()
        error.close()
        return error.code, error.headers, body


@pytest.fixture
def gunicorn_without_database(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """gunicorn serving wsgi:app, as production does, with PostgreSQL refusing every
    connection (nothing listens on its port)."""
    secret_key = "gunicorn-outage-test-" + "k" * 40
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    environment = {
        **{name: value for name, value in os.environ.items() if name != "PORTAL_ENV"},
        "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/portal",
        "SECRET_KEY": secret_key,
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 (our own command)
            [
                str(gunicorn),
                "--workers",
                "1",
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while WARM_LOG not in log.read_text(errors="replace"):
            assert server.poll() is None, f"gunicorn stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not start:\n{log.read_text()}"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", secret_key, log
    finally:
        server.terminate()
        server.wait(timeout=30)


# gunicorn in a process of its own: left out of make test-fast.
@pytest.mark.slow
def test_gunicorn_with_the_database_down_answers_every_request_with_the_503_page(
    gunicorn_without_database: tuple[str, str, Path],
) -> None:
    base, secret_key, log = gunicorn_without_database
    # The worker booted all the same (a worker that cannot boot stops gunicorn altogether).
    assert "not warmed for sign-in, the database is unavailable" in log.read_text()

    signed_in = "session=" + _signed_session(
        secret_key, {"_user_id": "1:0", "_fresh": True, "second_factor": True}
    )
    status, headers, page = _fetch(f"{base}/", cookie=signed_in)
    assert status == 503
    assert UNAVAILABLE in page
    assert "Internal Server Error" not in page
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert headers["Cache-Control"] == "no-store"

    status, headers, feed = _fetch(f"{base}/api/oruk/services")
    assert status == 503
    assert json.loads(feed)["status"] == 503
    assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)

    status, headers, _ = _fetch(f"{base}/healthz")
    assert status == 503
    status, _, page = _fetch(
        f"{base}/account/forgot", data=urllib.parse.urlencode({"email": "a@b.example"}).encode()
    )
    # A form without its token is refused before anything asks the database.
    assert status == 400
    assert "Your form has expired" in page
