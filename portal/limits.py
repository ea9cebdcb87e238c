"""Rate limits, with Flask-Limiter: in memory by default, in Redis when configured so that
every app server shares the counts.

Redis away is not sign-in away: while the storage cannot be reached, Flask-Limiter counts in
this process's memory instead (its in-memory fallback, which says so in the log once, as the
outage starts), looks for the storage again now and then, and goes back to it when it
answers. The limits hold meanwhile, per process rather than shared.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Endpoint -> the setting that holds its limit, read per request so tests and councils can
# change it without code.
LIMITED_ENDPOINTS = {
    "auth.sign_in": "SIGN_IN_RATE_LIMIT",
    "accounts.forgot": "FORGOT_PASSWORD_RATE_LIMIT",
    # Checks the current password, so it is guessed at no faster than sign-in.
    "accounts.change_password_page": "SIGN_IN_RATE_LIMIT",
    # Security codes: as often as passwords, counted apart from them. (The counts of failures
    # in portal/auth/lockout.py cover guessing from many addresses.)
    "auth.sign_in_code": "SIGN_IN_RATE_LIMIT",
}
# A Redis that hangs holds up a sign-in this long at most before the fallback takes over.
REDIS_TIMEOUT_SECONDS = 1.0


def init_app(app: Flask) -> Limiter:
    """Attach a limiter to ``app``; call after the blueprints are registered."""
    storage_uri = app.config["RATELIMIT_STORAGE_URI"]
    redis_options = {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    }
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        default_limits=[],
        storage_uri=storage_uri,
        storage_options=redis_options if storage_uri.startswith("redis") else {},
        in_memory_fallback_enabled=True,
    )
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        app.view_functions[endpoint] = limiter.limit(
            lambda setting=setting: current_app.config[setting],
            methods=["POST"],
        )(app.view_functions[endpoint])
    # Held by the app: the limited views refer to their limiter only weakly, and when limits
    # are switched off (RATELIMIT_ENABLED=false) Flask-Limiter keeps no reference of its own,
    # so the limiter would be collected and every limited view would fail.
    app.extensions["portal.limiter"] = limiter
    return limiter
