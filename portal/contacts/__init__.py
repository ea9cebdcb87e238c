from flask import Blueprint

bp = Blueprint("contacts", __name__, url_prefix="/contacts")

from portal.contacts import display, routes  # noqa: E402, F401  (they register themselves on bp)
