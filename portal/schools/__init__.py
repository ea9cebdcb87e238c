from flask import Blueprint

bp = Blueprint("schools", __name__, url_prefix="/schools")

from portal.schools import routes  # noqa: E402, F401  (routes register themselves on bp)
