"""A gunicorn worker compiles the portal's templates, and readies itself to sign people in,
before it takes its first request."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Flask

from portal.rendering import WARM_LOG, warm_templates
from tests.conftest import ROLE_ACCOUNTS, sign_in

ROOT = Path(__file__).resolve().parents[2]

# The pages people open most, by whoever opens them.
PAGES = {
    "head_teacher": [
        "/",
        "/contacts/",
        "/contacts/?q=family",
        "/services/",
        "/buy-back/",
        "/support/",
    ],
    "caf_officer": ["/", "/support/", "/support/?status=new"],
    "publisher": ["/services/", "/contacts/needs-checking"],
}


def _compiled(app: Flask) -> set[Any]:
    return set(app.jinja_env.cache.keys()) if app.jinja_env.cache is not None else set()


def test_after_warming_no_page_compiles_a_template(make_app: Any) -> None:
    app = make_app()
    assert warm_templates(app) > 50
    warmed = _compiled(app)
    for role, paths in PAGES.items():
        client = app.test_client()
        assert sign_in(client, ROLE_ACCOUNTS[role]).status_code == 303
        for path in paths:
            response = client.get(path, follow_redirects=True)
            assert response.status_code == 200, path
    client = app.test_client()
    assert client.get("/sign-in").status_code == 200
    assert _compiled(app) - warmed == set()


def test_a_cold_app_compiles_templates_as_pages_ask(make_app: Any) -> None:
    # The other side of the test above: without warming, a page does compile templates, so
    # the check there can fail.
    app = make_app()
    assert _compiled(app) == set()
    assert app.test_client().get("/sign-in").status_code == 200
    assert _compiled(app)


def test_gunicorn_warms_each_worker_and_says_so(make_app: Any) -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    app = make_app()
    logged: list[str] = []
    worker = SimpleNamespace(
        wsgi=app, pid=4321, log=SimpleNamespace(info=lambda text, *args: logged.append(text % args))
    )
    # On PostgreSQL pages read on an engine of their own (portal.db.reader_for).
    engines = app.extensions["portal.db"].engines
    assert "portal.password_hasher" not in app.extensions
    assert [engine.pool.checkedin() for engine in engines] == [0] * len(engines)

    settings["post_worker_init"](worker)

    assert len(_compiled(app)) > 50
    assert logged == [f"Worker 4321: {len(_compiled(app))} {WARM_LOG}"]
    # Ready to sign people in: the dummy hash made, a connection open and back in the pool,
    # and one for pages too.
    assert app.extensions["portal.password_hasher.dummy"].startswith("$argon2id$")
    assert [engine.pool.checkedin() for engine in engines] == [1] * len(engines)
    # The person's statement, which every signed-in request sends, compiled for each.
    from portal.auth.service import person_statement
    from portal.db import _compiled_for_driver, _for_driver

    before = _compiled_for_driver.cache_info().hits
    for engine in engines:
        _for_driver(person_statement(), engine.dialect)
    assert _compiled_for_driver.cache_info().hits == before + len(engines)
