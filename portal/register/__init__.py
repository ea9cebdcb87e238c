"""The schools register: imports of the DfE's GIAS extract, and areas by district."""

from flask import Blueprint

bp = Blueprint("register", __name__, url_prefix="/register")

from portal.register import routes  # noqa: E402, F401  (routes register themselves on bp)
