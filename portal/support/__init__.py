from flask import Blueprint

bp = Blueprint("support", __name__, url_prefix="/support")

from portal.support import routes  # noqa: E402, F401  (routes register themselves on bp)
