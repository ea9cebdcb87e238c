"""``/api/oruk/``: the council's services for schools as an Open Referral UK 3.0 feed.

Open to anyone and read-only, with ``Access-Control-Allow-Origin: *`` so that any
directory's web page may read it, as ORUK's compliance rules ask. Nothing here signs anyone
in or touches the session, so an anonymous caller is never sent a cookie. Only services with
a published offer appear.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, NotFound

from portal import errors
from portal.api import hsds
from portal.api.published import (
    ServiceFilter,
    categories_query,
    fetch_page,
    find_category,
    find_service,
    services_query,
)
from portal.api.publisher import Publisher
from portal.db import db
from portal.extensions import csrf

log = logging.getLogger(__name__)

bp = Blueprint("oruk", __name__, url_prefix="/api/oruk")
# Nothing here changes anything, and nothing is sent with a form.
csrf.exempt(bp)

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_TRUE = {"true", "1", "yes"}


@bp.after_request
def open_to_everyone(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        # A browser's preflight: only reading is allowed, and it may cache that for a day.
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "*"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _error(status: int, message: str) -> ResponseReturnValue:
    return jsonify(status=status, message=message), status


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> ResponseReturnValue:
    if error.code is None or error.code < 400:
        return error
    if isinstance(error, NotFound):
        # The portal's own words for it, and nothing about what was asked for.
        return _error(404, "Page not found")
    return _error(error.code, error.description or error.name)


def database_unavailable(error: BaseException) -> ResponseReturnValue:
    # As the portal's pages do (portal/errors.py), in the feed's own JSON.
    errors.without_the_database(error)
    return errors.unavailable(
        jsonify(status=503, message="The service is unavailable: try again later")
    )


for _kind in errors.DATABASE_UNAVAILABLE:
    bp.register_error_handler(_kind, database_unavailable)


@bp.errorhandler(InternalServerError)
def server_error(error: InternalServerError) -> ResponseReturnValue:
    cause = error.original_exception or error
    if errors.database_unavailable(cause):
        return database_unavailable(cause)
    # As the portal's own 500 handler does: no half-done work may be committed after it.
    db.session.rollback()
    log.error("server error on %s %s", request.method, request.path, exc_info=cause)
    return _error(500, "Sorry, there is a problem with the service")


def _publisher() -> Publisher:
    return Publisher.from_config(current_app.config)


def _whole_number(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) < 1:
        raise BadRequest(f"{name} must be a whole number from 1 to 999999999")
    return int(raw)


def _paging() -> tuple[int, int]:
    # Asking for more than the most a page holds gets the most, rather than an error.
    per_page = min(_whole_number("per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return _whole_number("page", 1), per_page


def _uuid(value: str) -> str | None:
    """The canonical form of a UUID, as the portal stores them; None if it is not one."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        # A time with no offset is taken as UTC, the feed's own time. Converting here also
        # refuses a time that has no UTC equivalent (the first or last hours of the calendar).
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"{name} must be a date and time like 2027-04-01T09:00:00Z") from None


def _not_ours(name: str, ours: str) -> bool:
    """Whether a filter names an id other than ours, so that nothing can match."""
    raw = request.args.get(name, "").strip()
    return bool(raw) and _uuid(raw) != ours


def _service_filter(publisher: Publisher) -> ServiceFilter:
    term = request.args.get("taxonomy_term_id", "").strip()
    term_id = _uuid(term) if term else None
    return ServiceFilter(
        search=request.args.get("search", ""),
        category_public_id=term_id,
        modified_after=_moment("modified_after"),
        matches_nothing=bool(term and term_id is None)
        or _not_ours("organization_id", str(publisher.organisation_id))
        or _not_ours("taxonomy_id", publisher.taxonomy_id),
    )


@bp.get("/")
def api_details() -> ResponseReturnValue:
    return jsonify(hsds.API_DETAILS)


@bp.get("/services")
def services() -> ResponseReturnValue:
    publisher = _publisher()
    number, per_page = _paging()
    # full=true nests each service as /services/{id} would; the default is one-to-one fields.
    full = request.args.get("full", "").strip().lower() in _TRUE
    query = services_query(_service_filter(publisher), nested=full)
    rows, total = fetch_page(query, number, per_page)
    build = hsds.service_record if full else hsds.service_summary
    contents = [build(service, changed, publisher) for service, changed in rows]
    return jsonify(hsds.page(contents, number, per_page, total))


@bp.get("/services/<service_id>")
def service(service_id: str) -> ResponseReturnValue:
    public_id = _uuid(service_id)
    found = find_service(public_id) if public_id else None
    if found is None:
        raise NotFound()
    return jsonify(hsds.service_record(*found, _publisher()))


@bp.get("/taxonomies")
def taxonomies() -> ResponseReturnValue:
    # The portal has one taxonomy, its service categories; paged like every other list.
    number, per_page = _paging()
    contents = [hsds.taxonomy(_publisher())] if number == 1 else []
    return jsonify(hsds.page(contents, number, per_page, total=1))


@bp.get("/taxonomies/<taxonomy_id>")
def taxonomy(taxonomy_id: str) -> ResponseReturnValue:
    publisher = _publisher()
    if _uuid(taxonomy_id) != publisher.taxonomy_id:
        raise NotFound()
    terms = db.session.scalars(categories_query()).all()
    return jsonify(hsds.taxonomy(publisher, terms))


@bp.get("/taxonomy_terms")
def taxonomy_terms() -> ResponseReturnValue:
    publisher = _publisher()
    number, per_page = _paging()
    # Every term is a top-level term of our one taxonomy: top_only changes nothing, and a
    # parent_id or another taxonomy's id matches none.
    other = bool(request.args.get("parent_id", "").strip()) or _not_ours(
        "taxonomy_id", publisher.taxonomy_id
    )
    rows, total = (
        ([], 0)
        if other
        else fetch_page(categories_query(request.args.get("search", "")), number, per_page)
    )
    contents = [hsds.taxonomy_term(category, publisher) for (category,) in rows]
    return jsonify(hsds.page(contents, number, per_page, total))


@bp.get("/taxonomy_terms/<term_id>")
def taxonomy_term(term_id: str) -> ResponseReturnValue:
    public_id = _uuid(term_id)
    category = find_category(public_id) if public_id else None
    if category is None:
        raise NotFound()
    return jsonify(hsds.taxonomy_term(category, _publisher()))
