"""People's accounts: invitations, passwords (forgotten, reset, changed) and managing users."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from portal.accounts import routes  # noqa: E402, F401  (routes register themselves on bp)
