"""Rate limits, with Flask-Limiter: in memory by default, in Redis when configured so that
every app server shares the counts."""

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
}


def init_app(app: Flask) -> Limiter:
    """Attach a limiter to ``app``; call after the blueprints are registered."""
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        default_limits=[],
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
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
