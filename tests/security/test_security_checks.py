"""Access-control checks from OWASP's testing guide that no other test names: A2 an id in the
body against the one in the address (WSTG-ATHZ-04), A4 hidden fields that would carry authority,
A6 rewriting and forwarding headers (WSTG-ATHZ-02); and numbers in queries and paths."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.models import School, SupportRequest
from tests.conftest import csrf_token
from tests.helpers.routes import resolve
from tests.support.test_support import created, raise_request


def test_a6_rewrite_headers_do_not_change_routing_or_access(client_for) -> None:
    staff = client_for("school_staff")
    for header in ("X-Original-URL", "X-Rewrite-URL"):
        response = staff.get("/", headers={header: "/admin/audit"})
        assert response.status_code == 200
        assert "Audit log" not in response.get_data(as_text=True)
    assert staff.get("/admin/audit", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_a6_a_forged_client_address_does_not_escape_the_sign_in_limit(make_app) -> None:
    from tests.conftest import sign_in

    client = make_app(SIGN_IN_RATE_LIMIT="2 per minute").test_client()
    for n in range(2):
        sign_in(client, f"nobody{n}@school.example", "wrong")
    # No proxy is trusted by default: a made-up X-Forwarded-For is not a new address.
    token = csrf_token(client)
    limited = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": "nobody@school.example", "password": "wrong"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert limited.status_code == 429


class _HttpsClient(FlaskClient):
    """A browser on HTTPS, as production asks for."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "https://schools.council.example")
        return super().open(*args, **kwargs)


def _production_client(make_app, monkeypatch, **settings):
    """A client of the portal as production starts it, with a low sign-in limit."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    app = make_app(
        PORTAL_URL="https://schools.council.example", SIGN_IN_RATE_LIMIT="2 per minute", **settings
    )
    app.test_client_class = _HttpsClient
    return app, app.test_client()


def _sign_in_from(client, address: str, n: int) -> int:
    token = csrf_token(client)
    return client.post(
        "/sign-in",
        data={"csrf_token": token, "email": f"nobody{n}@school.example", "password": "wrong"},
        # Over HTTPS a form must come from the portal's own pages (Flask-WTF's check).
        headers={"X-Forwarded-For": address, "Referer": "https://schools.council.example/"},
    ).status_code


def test_a6_in_production_no_forwarded_address_is_believed_unless_told(
    make_app,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Production's defaults: a portal that clients reach directly, with nobody saying that a
    # proxy stands in front. Whatever addresses a client claims, the limit counts it as one.
    app, client = _production_client(make_app, monkeypatch)
    assert app.config["TRUSTED_PROXIES"] == 0
    limiter = app.extensions["portal.limiter"]

    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.ip_addresses().map(str), min_size=3, max_size=3))
    def claims(addresses: list[str]) -> None:
        limiter.reset()
        answers = [_sign_in_from(client, address, n) for n, address in enumerate(addresses)]
        assert answers == [200, 200, 429]

    claims()


def test_a6_behind_a_proxy_the_address_it_forwards_is_the_clients(
    make_app,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # TRUSTED_PROXIES=1: the load balancer overwrites X-Forwarded-For with the address it saw
    # (README, deploy), so two people behind it are two addresses to the limit.
    _, client = _production_client(make_app, monkeypatch, TRUSTED_PROXIES=1)
    assert [_sign_in_from(client, "198.51.100.7", n) for n in range(2)] == [200, 200]
    assert _sign_in_from(client, "198.51.100.7", 2) == 429
    assert _sign_in_from(client, "203.0.113.9", 3) == 200


def test_a4_a_school_in_a_hidden_field_carries_no_authority(client_for, session) -> None:
    riverside = session.scalar(select(School.id).where(School.urn == 140201))
    staff = client_for("school_staff")
    # Oakfield's staff are never asked which school: posting one anyway is not found...
    response = staff.post(
        "/support/new/school",
        data={"csrf_token": csrf_token(staff, "/support/new/consent"), "school": str(riverside)},
    )
    assert response.status_code == 404
    # ...and a request they raise still goes to their own school, whatever the form said.
    request: SupportRequest = created(session, raise_request(staff))
    assert request.school.urn == 125601


def test_a2_an_id_in_the_body_cannot_override_the_one_in_the_address(client_for, session) -> None:
    oakfield = session.scalar(select(School.id).where(School.urn == 125601))
    riverside = session.scalar(select(School.id).where(School.urn == 140201))
    head = client_for("head_teacher")
    # Posting another school's id in the body of Oakfield's buy-back page changes nothing
    # for that school, and its own page is still not found.
    response = head.post(
        f"/buy-back/{oakfield}",
        data={"csrf_token": csrf_token(head, "/"), "school_id": str(riverside), "action": "total"},
    )
    assert response.status_code == 200
    assert "Oakfield Primary School" in response.get_data(as_text=True)
    assert head.get(f"/buy-back/{riverside}").status_code == 404


# Every query parameter the portal reads, and text that Python's str.isdigit() calls digits
# but int() cannot read (superscripts), or reads though no one types it (other scripts).
QUERY_PARAMETERS = [
    "action",
    "area",
    "available",
    "category",
    "change",
    "date_from",
    "date_to",
    "due",
    "full",
    "kind",
    "next",
    "owner",
    "page",
    "parent_id",
    "preview",
    "q",
    "retired",
    "returned",
    "role",
    "school",
    "search",
    "sort",
    "status",
    "subject_type",
    "taxonomy_term_id",
    "urgency",
    "user",
    "v",
    "waiting",
    "year",
]
ODD_DIGITS = ["²", "¹²", "٣", "①", "-1", "1e3", " 7 ", "99999999999999999999999"]


# Every page of the access matrix, several times: left out of make test-fast.
@pytest.mark.slow
@pytest.mark.parametrize("role", ["la_admin", "head_teacher", "caf_officer"])
@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_odd_numbers_in_any_query_are_never_a_server_error(
    role: str,
    odd: str,
    browser_for,
    session,
) -> None:
    from urllib.parse import urlencode

    from tests.access.test_access_matrix import CASES

    browser = browser_for(role)
    query = urlencode({name: odd for name in QUERY_PARAMETERS})
    for case in CASES:
        if case.method != "GET" or case.expected(role) != 200:
            continue
        path = resolve(session, case.path)
        response = browser.get(f"{path}{'&' if '?' in path else '?'}{query}")
        assert response.status_code < 500, f"{path} with {odd!r}: {response.status_code}"
        response.close()


@pytest.mark.parametrize("odd", ["99999999999999999999", "2147483648", "٣"])
def test_an_odd_number_for_an_id_in_a_path_is_not_found(
    odd: str,
    browser_for,
    session,
) -> None:
    from tests.access.test_access_matrix import CASES

    browser = browser_for("la_admin")
    paths = {
        # The first id in the path: followed by a slash, a query, a suffix (.csv) or nothing.
        re.sub(r"/\d+(?=[/?.]|$)", f"/{odd}", resolve(session, case.path), count=1)
        for case in CASES
        if case.method == "GET" and "<int:" in case.rule
    }
    assert len(paths) > 10
    for path in sorted(paths):
        response = browser.get(path)
        assert response.status_code == 404, f"{path}: {response.status_code}"
        response.close()


@given(st.text(max_size=12))
def test_whole_numbers_are_the_digits_0_to_9_and_ids_fit_the_database(text: str) -> None:
    from portal.numbers import DATABASE_INT_MAX, record_id, whole_number

    stripped = text.strip()
    expected = int(stripped) if stripped and all(c in "0123456789" for c in stripped) else None
    assert whole_number(text) == expected
    assert record_id(text) == (
        expected if expected is not None and expected <= DATABASE_INT_MAX else None
    )
