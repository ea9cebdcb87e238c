"""Full links to a booking's pages, for e-mails and calendar files, written in a request or
outside one (``flask training remind`` runs from the command line, with no request).

Under PORTAL_URL when it is set (always, in production); in a request without it, the
request's own host, as the accounts' e-mails do; outside a request without it (development),
localhost.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for

from portal.models import Booking

# The booking's own page (finding and booking's, training/routes.py): its details, and where
# the place is cancelled or someone else sent in the attendee's stead.
BOOKING_PAGE = "training.booking"
# Before that page's view is registered (it is another part of training's), where it will be.
BOOKING_PATH = "/training/bookings/{booking_id}"
# Outside a request with no PORTAL_URL: development only (production requires PORTAL_URL).
DEVELOPMENT_URL = "http://localhost:5000"


def portal_url(endpoint: str, **values: Any) -> str:
    """A full link to ``endpoint``."""
    base = current_app.config.get("PORTAL_URL")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    # Built from the app's URL map itself: url_for needs a request (or SERVER_NAME).
    path = current_app.url_map.bind("").build(endpoint, values)
    return (base or DEVELOPMENT_URL) + path


def booking_url(booking: Booking) -> str:
    """The booking's page."""
    if BOOKING_PAGE in current_app.view_functions:
        return portal_url(BOOKING_PAGE, booking_id=booking.id)
    base = current_app.config.get("PORTAL_URL") or (
        url_for("main.home", _external=True).rstrip("/")
        if has_request_context()
        else DEVELOPMENT_URL
    )
    return base + BOOKING_PATH.format(booking_id=booking.id)


def calendar_url(booking: Booking) -> str:
    return portal_url("training.calendar_file", booking_id=booking.id)


def evaluation_url(booking: Booking) -> str:
    return portal_url("training.evaluation", booking_id=booking.id)


def certificate_url(booking: Booking) -> str:
    return portal_url("training.certificate", booking_id=booking.id)
