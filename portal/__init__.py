"""The Schools Partner Portal: an app factory in the Flask manner."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterable
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, request
from flask.cli import run_command
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.assets import ONE_YEAR
from portal.config import PRODUCTION, ConfigurationError, environment_name, from_environment
from portal.jinja import PortalEnvironment
from portal.secret_key import instance_secret_key
from portal.session_cookie import SessionCookie

PACKAGE = Path(__file__).resolve().parent
# The checkout of the repository the portal runs from, as `make setup` installs it (editable):
# its instance/ folder holds the settings, the development database and session key, mail and
# uploads. An installed wheel has no checkout (see instance_folder).
ROOT = PACKAGE.parent

__all__ = ["ConfigurationError", "create_app"]


class Portal(Flask):
    """The portal's app: Flask with three of its parts replaced, each explained in its module.

    A static file requested by its versioned URL is cached for a year (portal/assets.py); the
    session cookie is signed again at most once a minute (portal/session_cookie.py); templates'
    globals are plain dicts (portal/jinja.py).
    """

    session_interface = SessionCookie()
    jinja_environment = PortalEnvironment

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        if request.args.get("v"):
            return ONE_YEAR
        return super().get_send_file_max_age(filename)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Portal(
        __name__,
        instance_path=str(instance_folder()),
        instance_relative_config=True,
        # Served from the package's own static/ (Flask's default), which the wheel carries.
    )
    app.config.from_mapping(from_environment(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY") and app.config["PORTAL_ENV"] != PRODUCTION:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    _check_configuration(app)
    _check_flask_run(app)
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    # Our templates first, then the GOV.UK Frontend macros under their package names, as the
    # govuk-frontend-wtf widgets expect to find them.
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("portal"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )

    # The app's parts are imported as an app is made, not when ``portal`` is: every module
    # of the package imports ``portal`` first, and a command or a migration that never makes
    # an app should not load every capability's routes and templates on the way.
    from portal import assets, cli, errors, jobs, limits, security, templating
    from portal.db import db
    from portal.extensions import csrf, htmx, login_manager
    from portal.register.jobs import run_import

    assets.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    jobs.init_app(app, run_import=run_import)

    # (As above: imported as the app is made.)
    from portal.auth import bp as auth_bp
    from portal.auth.routes import unauthorized
    from portal.auth.service import load_user

    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.login_view = "auth.sign_in"
    # 'basic', not 'strong': schools sit behind networks whose outgoing address changes, and
    # 'strong' would sign staff out mid-form. Sign-in itself starts a fresh session.
    login_manager.session_protection = "basic"

    # (As above: imported as the app is made.)
    from portal.accounts import bp as accounts_bp
    from portal.admin import bp as admin_bp
    from portal.api.oruk import bp as oruk_bp
    from portal.buyback import bp as buyback_bp
    from portal.contacts import bp as contacts_bp
    from portal.health import bp as health_bp
    from portal.main import bp as main_bp
    from portal.numbers import RecordIdConverter
    from portal.register import bp as register_bp
    from portal.schools import bp as schools_bp
    from portal.services import bp as services_bp
    from portal.support import bp as support_bp
    from portal.training import bp as training_bp

    # Werkzeug's own ``int`` converter is replaced, before any route is made, for every route:
    # in this app ``<int:...>`` is a database id, digits only and no larger than the database's
    # integer columns, so an id too large for the database is not found (404) rather than a
    # database error (500). See portal/numbers.py.
    app.url_map.converters["int"] = RecordIdConverter
    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(schools_bp)
    app.register_blueprint(contacts_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(services_bp)
    app.register_blueprint(buyback_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(register_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(oruk_bp)
    limits.init_app(app)
    return app


def _check_configuration(app: Flask) -> None:
    portal_url = app.config.get("PORTAL_URL")
    if portal_url and not _is_absolute_web_address(portal_url):
        raise ConfigurationError(
            f"PORTAL_URL must be an absolute http(s) address, like"
            f" https://schools.council.example: {portal_url!r}"
        )
    if app.config["PORTAL_ENV"] != PRODUCTION:
        return
    # PORTAL_URL too: without it, links in e-mails take the host the request named, and a
    # forged Host header could send a password reset link to someone else's site.
    required = ("SECRET_KEY", "DATABASE_URL", "PORTAL_URL")
    missing = [name for name in required if not app.config.get(name)]
    if missing:
        names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        raise ConfigurationError(f"{names} must be set when PORTAL_ENV=production")


def instance_folder() -> Path:
    """The portal's instance/ folder: in the checkout it runs from; for an installed wheel
    (the package in site-packages, no checkout beside it), where Flask keeps an installed
    package's, under the environment's prefix: ``<venv>/var/portal-instance``."""
    if PACKAGE.parent.name in {"site-packages", "dist-packages"}:
        return Path(sys.prefix) / "var" / "portal-instance"
    return ROOT / "instance"


def configured_environment() -> str:
    """PORTAL_ENV as create_app will find it, for what runs before there is an app."""
    return environment_name(str(instance_folder()))


def check_listening(addresses: Iterable[object], environment: str) -> None:
    """Refuse to serve development settings anywhere but this machine's own loopback.

    They are for one person's own machine: the demo accounts, whose passwords are in the
    README, no HTTPS. ``addresses`` as gunicorn gives them: (host, port) pairs, the paths of
    Unix sockets, the numbers of inherited sockets; only a pair whose host is a loopback
    address is this machine's alone (a socket could be any proxy's).
    """
    if environment == PRODUCTION:
        return
    reachable = [address for address in addresses if not _loopback_only(address)]
    if not reachable:
        return
    named = ", ".join(_address_text(address) for address in reachable)
    raise ConfigurationError(
        f"PORTAL_ENV={environment} must not listen on {named}, where others could reach"
        " it: development settings are for one person's own machine (the demo accounts'"
        " passwords are in the README). Listen on 127.0.0.1, as `make run` does, or run"
        ' with PORTAL_ENV=production and its settings (README, "Running it in production").'
    )


def _loopback_only(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return False
    host = str(address[0]).strip("[]")
    try:
        return ip_address(host).is_loopback
    except ValueError:
        pass
    # A name, such as localhost: every address it stands for must be a loopback one.
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(
        ip_address(str(info[4][0]).partition("%")[0]).is_loopback for info in found
    )


def _address_text(address: object) -> str:
    if isinstance(address, tuple) and len(address) == 2:
        host, port = address
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    if isinstance(address, int):
        return f"the inherited socket {address}"
    return f"unix:{address}"


def _check_flask_run(app: Flask) -> None:
    """`flask run --host ...`: the address it was asked to listen on, checked as gunicorn's
    are (portal/gunicorn_config.py). The app is made inside the command, before the server
    starts."""
    context = click.get_current_context(silent=True)
    if context is not None and context.command is run_command:
        address = (context.params.get("host"), context.params.get("port"))
        check_listening([address], app.config["PORTAL_ENV"])


def _is_absolute_web_address(url: object) -> bool:
    """Whether ``url`` is where a browser can go: http(s), a host, nothing after the path."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises ValueError
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
    )
