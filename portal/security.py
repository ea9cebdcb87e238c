"""Security headers on every response: pages, fragments, errors and static files alike."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_talisman import Talisman

# Nothing inline and nothing from elsewhere: scripts and styles come from our own static/,
# and the one inline script (GOV.UK's js-enabled class) carries the request's nonce.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}

PERMISSIONS_POLICY = {
    "camera": "()",
    "geolocation": "()",
    "microphone": "()",
    "payment": "()",
}


def reject_nul_bytes() -> None:
    """No person types a NUL character, and PostgreSQL cannot store one: refuse it whole,
    with the bad-request page, before any query sees it."""
    sources = [request.args] + ([request.form] if request.method != "GET" else [])
    for source in sources:
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                abort(400)


def vary_on_htmx(response: Response) -> Response:
    """The same URL answers a page or an htmx fragment: caches must keep them apart."""
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


def keep_out_of_caches(response: Response) -> Response:
    """Nothing the portal draws is kept by a browser or a proxy: pages, fragments, CSVs and
    printable pages carry people's names, schools' choices and children's details, and a
    shared computer's history or a school's caching proxy must not hand them to the next
    person. Static files are the exception: the same for everyone, and cached by version
    (portal/assets.py)."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.before_request(reject_nul_bytes)
    app.after_request(vary_on_htmx)
    app.after_request(keep_out_of_caches)
    production = app.config["PORTAL_ENV"] == "production"
    Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=production,
        strict_transport_security_max_age=31_536_000,
        strict_transport_security_include_subdomains=True,
        strict_transport_security_preload=True,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
    )
