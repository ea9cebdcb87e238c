from flask import Blueprint

bp = Blueprint("services", __name__, url_prefix="/services")

from portal.services import routes  # noqa: E402, F401  (routes register themselves on bp)
