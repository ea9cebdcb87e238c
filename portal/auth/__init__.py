from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import guards, routes  # noqa: E402, F401  (they register themselves on bp)
