"""The benchmark's baseline: the real portal plus routes that render only the layout.

``/bench/bare`` renders the portal's base layout around an empty main, for nobody signed in,
so it sends no SQL: what it does is what every page does before its own work (the session,
the security headers, the navigation, compression). bench/inprocess.py measures each page's
cost as a share of it.

``/bench/bare/signed-in`` renders the same empty layout for the person signed in (their
navigation), after the checks every signed-in request passes: who they are and what they
may do, read from the database. It is what any page costs a signed-in person before its own
work: the floor of every page.

Only the benchmark's in-process measurement serves these (``create_bench_app``); the
product never registers the routes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from flask.typing import ResponseReturnValue

from portal import create_app
from portal.access import requires
from portal.rendering import render_page

BARE_PATH = "/bench/bare"
SIGNED_IN_PATH = "/bench/bare/signed-in"

bp = Blueprint("bench", __name__, template_folder="templates")


@bp.get(BARE_PATH)
def bare() -> ResponseReturnValue:
    return render_page("bench-bare.html")


@bp.get(SIGNED_IN_PATH)
@requires()
def signed_in() -> ResponseReturnValue:
    return render_page("bench-bare.html")


def install(app: Flask) -> Flask:
    """``app`` with the bare-layout route added (before it has served any request)."""
    app.register_blueprint(bp)
    return app


def create_bench_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The portal as ``create_app`` builds it from the environment, plus the bare layout."""
    return install(create_app(test_config))
