"""Checks on every request from a signed-in person, before any view runs.

* A session ends ``SESSION_ABSOLUTE_HOURS`` after sign-in however busy it has been (the idle
  limit, ``SESSION_IDLE_MINUTES``, is the signed cookie's own age): the person is signed out,
  told why, and sent to sign in again.
* Council staff without a second factor may use nothing but the page that sets one up (and
  signing out, and the public pages) until they have set it up; a council session that never
  gave its second factor (one from before the factor was set up) is signed out.

An htmx request would swap a redirect's page into a fragment, so it is told to navigate the
whole window instead (HX-Redirect), as Flask-Login's unauthorised handler does.
"""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from portal.access import principal
from portal.auth import bp
from portal.auth.routes import unauthorized
from portal.auth.service import SECOND_FACTOR, end_session, now, session_expired
from portal.auth.two_factor import needs_second_factor
from portal.extensions import htmx

# Never checked: no session is needed or touched (the load balancer's health check).
UNCHECKED_ENDPOINTS = frozenset({"static", "health.healthz"})
# Open to council staff who have still to set up their second factor: the set-up page,
# signing out, and pages anyone may read without signing in.
WHILE_SETTING_UP = frozenset(
    {
        "auth.two_factor",
        "auth.sign_out",
        "main.accessibility",
        "main.privacy",
        "main.cookies",
        "main.favicon",
    }
)
PUBLIC_BLUEPRINTS = frozenset({"oruk"})

EXPIRED_MESSAGE = (
    "You were signed out because you had been signed in for {hours} hours. Sign in again "
    "to carry on."
)
SECOND_FACTOR_MESSAGE = "Sign in again, with the code from your authenticator app."


def _navigate(target: str) -> ResponseReturnValue:
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 302 if request.method in ("GET", "HEAD") else 303)


@bp.before_app_request
def check_signed_in_session() -> ResponseReturnValue | None:
    if request.endpoint in UNCHECKED_ENDPOINTS:
        return None
    who = principal()
    if who is None:
        return None
    if session_expired(now()):
        end_session(who.user, "auth.session_expired")
        flash(EXPIRED_MESSAGE.format(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]))
        return unauthorized()
    if not needs_second_factor(who.person):
        return None
    if not who.person.has_authenticator:
        if request.endpoint in WHILE_SETTING_UP or request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        return _navigate(url_for("auth.two_factor"))
    if not session.get(SECOND_FACTOR):
        end_session(who.user, "auth.second_factor_missing")
        flash(SECOND_FACTOR_MESSAGE)
        return unauthorized()
    return None
