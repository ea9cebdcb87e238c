"""Every error is a GOV.UK-style page with the portal's headers: never a stack trace."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.db import db

log = logging.getLogger(__name__)

# Codes with a page of their own; any other HTTP error uses the general page.
PAGES = {400, 403, 404, 405, 413, 429, 500, 503}


def _render(code: int, **context: object) -> tuple[str, int]:
    template = f"errors/{code}.html" if code in PAGES else "errors/error.html"
    return render_template(template, code=code, **context), code


def handle_http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    if error.code is None or error.code < 400:
        # Redirects raised as exceptions (e.g. RequestRedirect) pass straight through.
        return error
    return _render(error.code, description=error.description)


def handle_csrf_error(error: CSRFError) -> tuple[str, int]:
    log.info("form refused: %s (%s %s)", error.description, request.method, request.path)
    # Send the person back to the page the form was on, if it was one of ours.
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return_to = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    else:
        return_to = url_for("main.home")
    return render_template("errors/form-expired.html", return_to=return_to), 400


def handle_server_error(error: InternalServerError) -> tuple[str, int]:
    # Whatever half-done work the failed request left in its session must not be committed
    # by anything that runs after it.
    db.session.rollback()
    log.error(
        "server error on %s %s", request.method, request.path, exc_info=error.original_exception
    )
    return _render(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(HTTPException, handle_http_error)
