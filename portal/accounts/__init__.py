"""People's accounts: invitations, passwords (forgotten, reset, changed) and managing users."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from portal.accounts import routes, users_routes  # noqa: E402, F401  (they register on bp)
