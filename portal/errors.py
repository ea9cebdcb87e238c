"""Every error is a GOV.UK-style page with the portal's headers: never a stack trace.

The database out of reach is no error of the request's: every request that needs it is
answered 503, with a page drawn without it (the person is not looked up, so the page has no
navigation), and the portal answers as usual again as soon as the database does (the pool
makes a new connection for the next request).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, g, make_response, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.db import db
from portal.extensions import htmx, login_manager

log = logging.getLogger(__name__)

# Codes with a page of their own; any other HTTP error uses the general page.
PAGES = {400, 403, 404, 405, 413, 429, 500, 503}

# The database refused or dropped the connection (or could not do what was asked, for now:
# a lock it could not wait for), or no connection came free in time: nothing the request
# could do differently, and worth trying again shortly.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, PoolTimeout)
RETRY_AFTER_SECONDS = 30


def database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_UNAVAILABLE)


def database_error_text(error: BaseException) -> str:
    """What went wrong, on one line, in the driver's words: not SQLAlchemy's, which repeat
    the statement and its parameters (an e-mail address, a child's details)."""
    return " ".join(str(getattr(error, "orig", None) or error).split())


def without_the_database(error: BaseException) -> None:
    """Log ``error``, and let the rest of this request need no database."""
    log.error(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        database_error_text(error),
    )
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.debug("rolling back after the database became unavailable failed", exc_info=True)
    # Flask-Login keeps the request's person in g._login_user: nobody, so that nothing that
    # draws the answer (the navigation, the sign-out button) asks the database who it is.
    # The session cookie is untouched: the person is still signed in when the database is back.
    g._login_user = login_manager.anonymous_user()
    g.pop("principal", None)


def unavailable(response: Response) -> Response:
    """``response`` as the answer while the database is unavailable: 503, try again shortly,
    and not to be kept by any browser or proxy (it is no answer to what was asked)."""
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def handle_database_unavailable(error: BaseException) -> Response:
    without_the_database(error)
    response = make_response(render_template("errors/503.html", code=503))
    if htmx:
        # htmx swaps no error into the page, so the person would see nothing happen: the
        # whole window is reloaded instead, and shows this page.
        response.headers["HX-Refresh"] = "true"
    return unavailable(response)


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


def handle_server_error(error: InternalServerError) -> tuple[str, int] | Response:
    # Raised where no handler of the request's own could answer it (after the view, say).
    if database_unavailable(error.original_exception):
        return handle_database_unavailable(error.original_exception)
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
    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, handle_database_unavailable)
    app.register_error_handler(HTTPException, handle_http_error)
