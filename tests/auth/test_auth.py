"""Signing in and out, as a person at a school or the council would."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import warnings

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import AuditEvent, User
from portal_seed.demo import DEMO_PASSWORD
from tests.conftest import csrf_token, demo_emails, sign_in
from tests.helpers.html import error_summary
from tests.helpers.html import soup as page

GENERIC_FAILURE = "Enter a correct e-mail address and password"


@pytest.mark.parametrize("email", demo_emails())
def test_every_demo_account_signs_in_and_lands_on_home(client: FlaskClient, email: str) -> None:
    response = sign_in(client, email)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert email in page(home).select_one(".council-user").get_text()


def test_email_is_matched_without_regard_to_case(client: FlaskClient) -> None:
    assert sign_in(client, "  Head@OAKFIELD.example ").status_code == 303


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("head@oakfield.example", "wrong-password"),
        ("nobody@oakfield.example", DEMO_PASSWORD),
        ("nobody@oakfield.example", "wrong-password"),
    ],
)
def test_any_failure_gets_one_generic_message_and_keeps_the_address(
    client: FlaskClient, email: str, password: str
) -> None:
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert error_summary(response) == [GENERIC_FAILURE]
    html = page(response)
    assert html.title.get_text().startswith("Error: ")
    assert html.select_one("#email")["value"] == email
    # The password is never sent back to the browser.
    assert not html.select_one("#password").get("value")
    assert client.get("/").status_code == 302


def test_empty_fields_get_messages_beside_each_field(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/sign-in", data={"csrf_token": token, "email": "", "password": ""})
    assert error_summary(response) == ["Enter your e-mail address", "Enter your password"]
    html = page(response)
    assert "Enter your e-mail address" in html.select_one("#email-error").get_text()
    assert "Enter your password" in html.select_one("#password-error").get_text()


def test_malformed_email_is_explained_and_kept(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": "head-at-oakfield", "password": "x"}
    )
    assert error_summary(response) == [
        "Enter an e-mail address in the correct format, like name@school.example"
    ]
    assert page(response).select_one("#email")["value"] == "head-at-oakfield"


def user(session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def test_inactive_account_cannot_sign_in(client: FlaskClient, session) -> None:
    user(session, "staff@oakfield.example").is_active = False
    session.commit()
    response = sign_in(client, "staff@oakfield.example")
    assert error_summary(response) == [GENERIC_FAILURE]


def test_sign_in_starts_a_fresh_session(client: FlaskClient) -> None:
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    sign_in(client, "head@oakfield.example")
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.permanent


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        ("/schools/", "/schools/"),
        ("/schools/?q=oak", "/schools/?q=oak"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("schools", "/"),
    ],
)
def test_next_is_followed_only_within_the_site(
    client: FlaskClient, next_url: str, landing: str
) -> None:
    token = csrf_token(client)
    response = client.post(
        "/sign-in",
        query_string={"next": next_url},
        data={"csrf_token": token, "email": "head@oakfield.example", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == landing


def test_a_protected_page_sends_you_to_sign_in_and_back(client: FlaskClient) -> None:
    response = client.get("/schools/?q=oak")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/schools/?q%3Doak"


def test_htmx_request_without_a_session_is_told_to_navigate(client: FlaskClient) -> None:
    response = client.get("/schools/?q=oak", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in?next=")
    assert response.get_data() == b""


def test_the_signed_in_persons_query_reads_what_sqlalchemy_reads(app, session) -> None:
    """load_user sends its query through the driver itself (portal/db.py driver_rows): each
    value must come back as SQLAlchemy's own results give it, of the same type (roles, a
    school's type, phase, status and closing date), for every account of the demo."""
    from datetime import date

    from portal.auth.service import person_statement
    from portal.db import db, driver_rows
    from portal.models import Membership, Role, School

    school = session.scalars(select(School).join(Membership)).first()
    school.closed_on = date(2026, 8, 31)
    session.flush()
    read = []
    with app.test_request_context():
        for user_id, version in session.execute(select(User.id, User.session_version)):
            params = {"user_id": user_id, "version": version}
            ours = driver_rows(person_statement(), params)
            theirs = db.session.connection().execute(person_statement(), params)
            assert [[(value, type(value)) for value in row] for row in ours] == [
                [(value, type(value)) for value in row] for row in theirs
            ], user_id
            read.extend(value for row in ours for value in row)
    assert date(2026, 8, 31) in read and Role.HEAD_TEACHER in read


def test_signed_in_visitor_to_sign_in_goes_home(client_for) -> None:
    assert client_for("head_teacher").get("/sign-in").headers["Location"] == "/"


def test_sign_out_is_a_post_with_a_token(client_for) -> None:
    client = client_for("head_teacher")
    assert client.get("/sign-out").status_code == 405
    refused = client.post("/sign-out")
    assert refused.status_code == 400
    assert "Your form has expired" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 200

    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    assert "You have signed out." in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sign_out_also_ends_the_users_other_sessions(client_for) -> None:
    laptop = client_for("head_teacher")
    phone = client_for("head_teacher")
    laptop.post("/sign-out", data={"csrf_token": csrf_token(laptop, "/")})
    assert phone.get("/").status_code == 302


def test_htmx_posts_carry_the_token_in_a_header(client_for) -> None:
    client = client_for("head_teacher")
    html = page(client.get("/"))
    # The token every htmx request sends, from the body's hx-headers.
    header_token = html.body["hx-headers"].split('"')[3]
    response = client.post("/sign-out", headers={"HX-Request": "true", "X-CSRFToken": header_token})
    assert response.status_code == 303


def test_tampered_token_is_refused_with_a_clear_page(client: FlaskClient) -> None:
    response = client.post(
        "/sign-in",
        data={"csrf_token": "tampered", "email": "head@oakfield.example", "password": "x"},
    )
    assert response.status_code == 400
    html = page(response)
    assert html.h1.get_text(strip=True) == "Your form has expired"
    assert "Traceback" not in response.get_data(as_text=True)


def test_sign_in_is_rate_limited(make_app) -> None:
    client = make_app(SIGN_IN_RATE_LIMIT="3 per minute").test_client()
    # An address no account has: this app commits, and no account's lockout count may change.
    for _ in range(3):
        assert sign_in(client, "nobody@oakfield.example", "wrong").status_code == 200
    limited = sign_in(client, "head@oakfield.example", DEMO_PASSWORD)
    assert limited.status_code == 429
    assert "Too many attempts" in limited.get_data(as_text=True)
    # Reading the form is not limited: only attempts are.
    assert client.get("/sign-in").status_code == 200


def test_sign_in_works_with_rate_limits_switched_off(make_app) -> None:
    client = make_app(RATELIMIT_ENABLED=False, SIGN_IN_RATE_LIMIT="1 per minute").test_client()
    # The limiter once lived only as long as nothing collected it: make sure something has.
    gc.collect()
    for _ in range(3):
        refused = sign_in(client, "nobody@oakfield.example", "wrong")
        assert refused.status_code == 200
        assert "Enter a correct e-mail address and password" in refused.get_data(as_text=True)


def test_failed_and_successful_sign_ins_are_audited(client: FlaskClient, session) -> None:
    sign_in(client, "head@oakfield.example", "wrong")
    sign_in(client, "head@oakfield.example")
    actions = session.scalars(
        select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)
    ).all()
    assert actions == ["auth.sign_in", "auth.sign_in_failed"]


def test_passwords_are_stored_as_argon2id(session) -> None:
    assert user(session, "admin@council.example").password_hash.startswith("$argon2id$")


def test_a_hash_made_with_other_settings_is_upgraded_at_sign_in(
    client: FlaskClient, session
) -> None:
    from argon2 import PasswordHasher

    head = user(session, "head@oakfield.example")
    # As argon2-cffi's defaults would have it: four lanes.
    head.password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=4).hash(
        DEMO_PASSWORD
    )
    session.commit()
    assert ",p=4$" in head.password_hash
    assert sign_in(client, "head@oakfield.example").status_code == 303
    session.expire_all()
    upgraded = user(session, "head@oakfield.example").password_hash
    assert upgraded.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert sign_in(client.application.test_client(), "head@oakfield.example").status_code == 303


class _PriorityRecorder:
    """Notes each password check's thread and its CPU niceness."""

    def __init__(self) -> None:
        self.checks: list[tuple[int, int]] = []

    def around(self, verify):
        def recorded(password_hash: str, password: str) -> bool:
            thread = threading.get_native_id()
            self.checks.append((thread, os.getpriority(os.PRIO_PROCESS, thread)))
            return verify(password_hash, password)

        return recorded


def _record_checks(app, monkeypatch: pytest.MonkeyPatch) -> _PriorityRecorder:
    from portal import passwords

    recorder = _PriorityRecorder()
    with app.app_context():
        hasher = passwords._hasher()

    class Recorded:
        verify = staticmethod(recorder.around(hasher.verify))

        def __getattr__(self, name: str):
            return getattr(hasher, name)

    monkeypatch.setitem(app.extensions, "portal.password_hasher", Recorded())
    return recorder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads' niceness is Linux's")
def test_a_password_check_yields_the_cpu_to_pages(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the deadline morning, pages come before the sign-ins' password checks."""
    recorder = _record_checks(client.application, monkeypatch)
    here = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, here)

    assert sign_in(client, "head@oakfield.example").status_code == 303
    assert sign_in(client.application.test_client(), "nobody@oakfield.example").status_code == 200

    # Both checks (a known address and an unknown one, against the dummy hash) ran in one
    # other thread, ten steps nicer than the request's, which is left as it was.
    assert len(recorder.checks) == 2
    (lane, nice), (again, _) = recorder.checks
    assert lane == again != here
    assert nice == min(19, before + 10)
    assert os.getpriority(os.PRIO_PROCESS, here) == before


def test_with_nice_0_a_password_check_runs_in_the_request(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(PASSWORD_HASH_NICE=0)
    recorder = _record_checks(app, monkeypatch)
    here = threading.get_native_id()
    assert sign_in(app.test_client(), "head@oakfield.example").status_code == 303
    assert recorder.checks == [(here, os.getpriority(os.PRIO_PROCESS, here))]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_worker_makes_its_own_password_lane(app) -> None:
    """gunicorn forks workers; the parent's lane thread does not come with them."""
    from portal.passwords import hash_password, verify_password

    with app.app_context():
        stored = hash_password("a long enough password")  # the parent's lane now exists
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
            child = os.fork()
        if child == 0:
            signal.alarm(20)  # a lane inherited without its thread would wait for ever
            os._exit(0 if verify_password(stored, "a long enough password") else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
