"""The factory's wiring: settings, security headers, cookies, error pages, health."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from portal import ConfigurationError, create_app
from tests.conftest import csrf_token


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNCIL_NAME", "Wessex County Council")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app({"TESTING": True})
    assert app.config["COUNCIL_NAME"] == "Wessex County Council"
    with app.test_request_context():
        page = app.test_client().get("/sign-in").get_data(as_text=True)
    assert "Wessex County Council" in page
    app.extensions["portal.db"].engine.dispose()


def test_instance_config_overrides_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    # The instance folder is <root>/instance: point the root at a folder holding a config.
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text('COUNCIL_NAME = "Mercia Council"\n')
    monkeypatch.setattr("portal.ROOT", tmp_path)
    monkeypatch.setenv("COUNCIL_NAME", "Wessex County Council")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app({"TESTING": True})
    assert app.config["COUNCIL_NAME"] == "Mercia Council"
    app.extensions["portal.db"].engine.dispose()


PRODUCTION_SETTINGS = {
    "SECRET_KEY": "x" * 32,
    "DATABASE_URL": "sqlite://",
    "PORTAL_URL": "https://schools.council.example",
}


def production(monkeypatch: pytest.MonkeyPatch, **settings: str | None) -> None:
    """PORTAL_ENV=production with the required settings, each changed or (None) unset."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    for name, value in {**PRODUCTION_SETTINGS, **settings}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        (["SECRET_KEY"], "^SECRET_KEY must be set when PORTAL_ENV=production$"),
        (["DATABASE_URL"], "^DATABASE_URL must be set when PORTAL_ENV=production$"),
        (["PORTAL_URL"], "^PORTAL_URL must be set when PORTAL_ENV=production$"),
        (["SECRET_KEY", "DATABASE_URL"], "^SECRET_KEY and DATABASE_URL must be set"),
        (
            ["SECRET_KEY", "DATABASE_URL", "PORTAL_URL"],
            "^SECRET_KEY, DATABASE_URL and PORTAL_URL must be set",
        ),
    ],
)
def test_production_refuses_to_start_without_its_settings(
    monkeypatch: pytest.MonkeyPatch, unset: list[str], message: str
) -> None:
    production(monkeypatch, **dict.fromkeys(unset))
    with pytest.raises(ConfigurationError, match=message):
        create_app()


def test_production_refuses_an_empty_portal_url(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, PORTAL_URL="")
    with pytest.raises(ConfigurationError, match=r"^PORTAL_URL must be set"):
        create_app()


@pytest.mark.parametrize(
    "portal_url",
    [
        "schools.council.example",
        "//schools.council.example",
        "/account",
        "ftp://schools.council.example",
        "javascript:alert(1)",
        "https://",
        "https://schools.council.example:port",
        "https://schools.council.example/?next=elsewhere",
        "https://schools.council.example/#top",
    ],
)
def test_portal_url_must_be_an_absolute_web_address(
    monkeypatch: pytest.MonkeyPatch, portal_url: str
) -> None:
    # Refused wherever it is set, not only in production: every e-mailed link starts with it.
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("PORTAL_URL", portal_url)
    with pytest.raises(ConfigurationError, match=r"^PORTAL_URL must be an absolute http"):
        create_app({"TESTING": True})
    production(monkeypatch, PORTAL_URL=portal_url)
    with pytest.raises(ConfigurationError, match=r"^PORTAL_URL must be an absolute http"):
        create_app()


@pytest.mark.parametrize(
    ("portal_url", "kept"),
    [
        ("https://schools.council.example/", "https://schools.council.example"),
        ("http://portal.internal:8080", "http://portal.internal:8080"),
        ("https://www.council.example/schools", "https://www.council.example/schools"),
    ],
)
def test_production_starts_with_an_absolute_portal_url(
    monkeypatch: pytest.MonkeyPatch, portal_url: str, kept: str
) -> None:
    production(monkeypatch, PORTAL_URL=portal_url)
    app = create_app()
    assert app.config["PORTAL_URL"] == kept
    app.extensions["portal.db"].engine.dispose()


def test_production_settings_are_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["FORCE_HTTPS"] is True
    assert app.config["PASSWORD_HASH_TIME_COST"] == 3
    assert app.config["PASSWORD_HASH_MEMORY_KIB"] == 65_536
    assert app.config["PASSWORD_HASH_PARALLELISM"] == 1
    # No X-Forwarded-* header is believed until the operator says a proxy stands in front.
    assert app.config["TRUSTED_PROXIES"] == 0
    client = app.test_client()
    # Plain HTTP is sent to HTTPS; over HTTPS, HSTS and a Secure session cookie.
    assert client.get("/sign-in").status_code in (301, 302)
    response = client.get("/sign-in", base_url="https://portal.example")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    app.extensions["portal.db"].engine.dispose()


def test_seed_demo_refuses_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch)
    app = create_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "refuses to run when PORTAL_ENV=production" in result.output
    app.extensions["portal.db"].engine.dispose()


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


SECURITY_HEADER_PATHS = [
    ("/sign-in", {}),
    ("/no-such-page", {}),
    ("/healthz", {}),
    ("/static/css/council.css", {}),
    ("/schools/?q=oak", {"HX-Request": "true"}),
]


@pytest.mark.parametrize(("path", "headers"), SECURITY_HEADER_PATHS)
def test_security_headers_on_every_kind_of_response(
    client: FlaskClient, path: str, headers: dict[str, str]
) -> None:
    response = client.get(path, headers=headers)
    response.close()
    csp = _csp(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_signed_in_fragment_and_error_responses_carry_the_headers(client_for) -> None:
    client = client_for("la_admin")
    for response in (
        client.get("/schools/?q=oak", headers={"HX-Request": "true"}),
        client.get("/schools/999999"),
        client.post("/sign-out"),  # no token: the expired-form page
    ):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_inline_script_carries_the_requests_nonce(client: FlaskClient) -> None:
    response = client.get("/sign-in")
    nonce = _csp(response)["script-src"].split("'nonce-")[1].rstrip("'")
    html = response.get_data(as_text=True)
    assert f'<script nonce="{nonce}">' in html
    # No other inline script, style attribute, or handler attribute that the CSP would block.
    assert html.count("<script") == html.count("<script src=") + html.count(
        f'<script nonce="{nonce}"'
    ) + html.count('<script type="module" src=')
    assert " style=" not in html
    assert " onclick=" not in html
    assert " hx-on" not in html


def test_htmx_runs_under_the_strict_policy(client: FlaskClient) -> None:
    html = client.get("/sign-in").get_data(as_text=True)
    assert (
        '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, '
        '"allowEval": false, "allowScriptTags": false, "historyCacheSize": 0, '
        '"refreshOnHistoryMiss": true}\'>'
    ) in html
    assert re.search(r'<script src="/static/js/vendor/htmx.min.js\?v=[0-9a-f]{12}"></script>', html)


def test_static_files_are_versioned_compressed_and_cached_for_a_year(client: FlaskClient) -> None:
    html = client.get("/sign-in").get_data(as_text=True)
    found = re.search(r'href="(/static/css/council.css\?v=([0-9a-f]{12}))"', html)
    assert found, "the stylesheet's URL carries its content's digest"
    stylesheet = client.get(found.group(1), headers={"Accept-Encoding": "gzip"})
    body = stylesheet.get_data()
    stylesheet.close()
    assert stylesheet.headers["Content-Encoding"] == "gzip"
    css = gzip.decompress(body)
    assert hashlib.sha256(css).hexdigest()[:12] == found.group(2)
    assert "max-age=31536000" in stylesheet.headers["Cache-Control"]
    # Without the version the file may have changed since: the browser must ask again.
    plain = client.get("/static/css/council.css")
    plain.close()
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    cookie = client.get("/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("code", "heading"),
    [
        (400, "Sorry, there is a problem with your request"),
        (403, "You do not have access to this page"),
        (404, "Page not found"),
        (405, "Sorry, there is a problem with your request"),
        (429, "Too many attempts"),
        (500, "Sorry, there is a problem with the service"),
    ],
)
def test_error_pages_are_govuk_pages(make_app, code: int, heading: str) -> None:
    app: Flask = make_app()

    @app.get("/raise")
    def _raise() -> None:
        abort(code)

    response = app.test_client().get("/raise")
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in html
    assert "govuk-footer" in html


def test_an_unexpected_error_is_a_500_page_never_a_stack_trace(make_app) -> None:
    app: Flask = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def _boom() -> None:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    assert "secret internals" not in html
    assert "Traceback" not in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_when_the_database_cannot_be_reached(make_app) -> None:
    app = make_app(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/nowhere?connect_timeout=2")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.get_data()) == {"status": "unavailable", "database": "unreachable"}


def test_favicon_is_the_councils(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.get_data()
    response.close()


def test_form_expired_page_links_back_to_the_form(client: FlaskClient) -> None:
    csrf_token(client)
    response = client.post(
        "/sign-in",
        data={"email": "a@b.example"},
        headers={"Referer": "http://localhost/sign-in?next=/schools/"},
    )
    assert response.status_code == 400
    assert 'href="/sign-in?next=/schools/"' in response.get_data(as_text=True)


def test_every_setting_is_documented_in_the_readme() -> None:
    source = (Path(__file__).parents[2] / "portal" / "config.py").read_text()
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    read_from_environment = set(re.findall(r'(?:environ\.get|_bool|_int)\(\s*"([A-Z_]+)"', source))
    assert read_from_environment, "found no settings in config.py"
    undocumented = {name for name in read_from_environment if f"| `{name}` |" not in readme}
    assert undocumented == set()


def test_pages_and_fragments_vary_on_the_htmx_header(client_for) -> None:
    client = client_for("la_admin")
    assert "HX-Request" in client.get("/schools/").headers["Vary"]
    restored = client.get(
        "/schools/?q=oak", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    # Restoring history after Back needs the whole page, not the fragment.
    assert "<html" in restored.get_data(as_text=True)
