from flask import Blueprint

bp = Blueprint("buyback", __name__, url_prefix="/buy-back")

from portal.buyback import routes  # noqa: E402, F401  (routes register themselves on bp)
