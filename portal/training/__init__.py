"""Training for school staff: courses and their sessions, bookings (approval, waiting
lists, offers, swaps, cancellation charges), attendance, evaluations and certificates, and
supply cover paid to schools from a fund by formula.

Views are split by who uses them: ``routes`` (school staff finding and booking courses),
``manage_routes`` (the training coordinator's courses, sessions and registers),
``attendee_routes`` (a booking's calendar file, evaluation and certificate), ``fund_routes``
(supply-cover funds and claims) and ``report_routes`` (take-up for the Schools Forum).
"""

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training")

from portal.training import (  # noqa: E402, F401  (they register on bp)
    attendee_routes,
    changes_routes,
    fund_routes,
    manage_routes,
    report_routes,
    routes,
)
