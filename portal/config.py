"""Settings, read from the environment, then from ``instance/config.py``.

Every setting is listed, with its default, in the README's settings table.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

from flask import Config

from portal import hashing

PRODUCTION = "production"


class ConfigurationError(RuntimeError):
    """The portal was asked to start with settings it must not run with."""


DEVELOPMENT = "development"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _la_codes(value: str) -> tuple[str, ...]:
    """The council's three-digit LA codes in the DfE register, from "937" or "937, 938"."""
    codes = tuple(code.strip() for code in value.split(",") if code.strip())
    if not codes or not all(len(code) == 3 and code.isdigit() for code in codes):
        raise ValueError(f"COUNCIL_LA_CODES must be three-digit LA codes, like 937: {value!r}")
    return codes


def _organisation_id(council_name: str) -> str:
    # Derived from the name, so each council gets its own stable id without choosing one.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "https://council.example/" + council_name))


def environment_name(instance_path: str) -> str:
    """PORTAL_ENV as create_app will find it: ``instance/config.py``'s, else the environment's.

    For what runs before there is an app (gunicorn's master, portal/gunicorn_config.py).
    """
    instance = Config(instance_path)
    instance.from_pyfile("config.py", silent=True)
    return str(instance.get("PORTAL_ENV") or os.environ.get("PORTAL_ENV", DEVELOPMENT))


def from_environment(instance_path: str) -> dict[str, object]:
    """The portal's configuration as the environment sets it."""
    environment = os.environ.get("PORTAL_ENV", DEVELOPMENT)
    production = environment == PRODUCTION
    default_database = "sqlite:///" + str(Path(instance_path) / "portal.sqlite3")
    council_name = os.environ.get("COUNCIL_NAME", "Arden County Council")
    return {
        "PORTAL_ENV": environment,
        # In production a missing SECRET_KEY stops start-up; elsewhere create_app uses a key
        # made for this machine and kept in instance/ (portal/secret_key.py).
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        # Production names its database; the embedded SQLite file is for development.
        "DATABASE_URL": os.environ.get("DATABASE_URL")
        or (None if production else default_database),
        # A pooled connection idle longer than this is checked before use (0: before every use).
        "DATABASE_PING_AFTER_IDLE_SECONDS": _int("DATABASE_PING_AFTER_IDLE_SECONDS", 1),
        "COUNCIL_NAME": council_name,
        # The council as an Open Referral organisation: a UUID that must not change once the
        # feed is published, since aggregators key the council's services on it.
        "COUNCIL_ORGANISATION_ID": str(
            uuid.UUID(os.environ.get("COUNCIL_ORGANISATION_ID") or _organisation_id(council_name))
        ),
        "COUNCIL_WEBSITE": os.environ.get("COUNCIL_WEBSITE", "https://council.example"),
        "SERVICE_NAME": os.environ.get("SERVICE_NAME", "Schools Partner Portal"),
        "COUNCIL_CONTACT_EMAIL": os.environ.get(
            "COUNCIL_CONTACT_EMAIL", "schools.portal@council.example"
        ),
        "CHILDRENS_SERVICES_FRONT_DOOR_PHONE": os.environ.get(
            "CHILDRENS_SERVICES_FRONT_DOOR_PHONE", "01632 960 000"
        ),
        # Redis, when there is one: the app servers then share rate limits through it.
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI")
        or os.environ.get("REDIS_URL")
        or "memory://",
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "SIGN_IN_RATE_LIMIT": os.environ.get("SIGN_IN_RATE_LIMIT", "10 per minute"),
        "FORGOT_PASSWORD_RATE_LIMIT": os.environ.get("FORGOT_PASSWORD_RATE_LIMIT", "5 per minute"),
        # Accounts (portal/accounts): how long an e-mailed link works.
        "INVITATION_HOURS": _int("INVITATION_HOURS", 48),
        "RESET_HOURS": _int("RESET_HOURS", 2),
        # The address people reach the portal at, for links in e-mail. Unset, a link takes the
        # host of the request that sent it, which a forged Host header could change.
        "PORTAL_URL": (os.environ.get("PORTAL_URL") or "").rstrip("/") or None,
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=_int("SESSION_IDLE_MINUTES", 60)),
        "SESSION_REFRESH_EACH_REQUEST": True,
        # Sign-in security (portal/auth): however active, a session ends this long after
        # sign-in. So many failures lock a browser the account knows (by its device cookie)
        # out of it, or every browser it does not know, for longer each time; the owner is
        # e-mailed a link that lets one more browser sign in. One address may try one e-mail
        # address only so often (fewer times than the lock needs), account or none.
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 12),
        "LOCKOUT_THRESHOLD": _int("LOCKOUT_THRESHOLD", 10),
        "LOCKOUT_MINUTES": _int("LOCKOUT_MINUTES", 15),
        "LOCKOUT_MAX_MINUTES": _int("LOCKOUT_MAX_MINUTES", 240),
        "SIGN_IN_ACCOUNT_RATE_LIMIT": os.environ.get(
            "SIGN_IN_ACCOUNT_RATE_LIMIT", "5 per 15 minutes"
        ),
        "DEVICE_COOKIE_DAYS": _int("DEVICE_COOKIE_DAYS", 365),
        "UNLOCK_LINK_HOURS": _int("UNLOCK_LINK_HOURS", 24),
        "FORCE_HTTPS": _bool("FORCE_HTTPS", production),
        "WTF_CSRF_TIME_LIMIT": _int("CSRF_TIME_LIMIT_SECONDS", 3600),
        # Behind a load balancer the client address arrives in X-Forwarded-For; trust that
        # many proxies. None unless the operator says so, in production too: a portal that
        # clients can reach directly would otherwise let each choose its own address (and
        # so never meet a rate limit) by sending the header.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_KIB": _int("PASSWORD_HASH_MEMORY_KIB", 65_536),
        "PASSWORD_HASH_PARALLELISM": _int("PASSWORD_HASH_PARALLELISM", 1),
        "PASSWORD_HASH_NICE": _int("PASSWORD_HASH_NICE", 10),
        "PASSWORD_HASH_SLOTS": _int("PASSWORD_HASH_SLOTS", hashing.default_slots()),
        "PASSWORD_HASH_SLOT_DIRECTORY": os.environ.get(
            "PASSWORD_HASH_SLOT_DIRECTORY", hashing.default_slot_directory()
        ),
        "CONTACT_CHECK_MONTHS": _int("CONTACT_CHECK_MONTHS", 12),
        # Response targets for CAF support requests, in working days, by urgency.
        "SUPPORT_TARGET_URGENT_DAYS": _int("SUPPORT_TARGET_URGENT_DAYS", 1),
        "SUPPORT_TARGET_SOON_DAYS": _int("SUPPORT_TARGET_SOON_DAYS", 3),
        "SUPPORT_TARGET_ROUTINE_DAYS": _int("SUPPORT_TARGET_ROUTINE_DAYS", 10),
        # The invoice schedule printed on buy-back confirmations: month and share of the year.
        "BUYBACK_INVOICE_SCHEDULE": os.environ.get(
            "BUYBACK_INVOICE_SCHEDULE", "April:7/12,September:5/12"
        ),
        # Days before a buy-back deadline that schools not yet submitted are reminded, like
        # "14,3" (a window may set its own).
        "BUYBACK_REMINDER_DAYS": os.environ.get("BUYBACK_REMINDER_DAYS", "14,3"),
        "SUPPORT_RETENTION_MONTHS": _int("SUPPORT_RETENTION_MONTHS", 24),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # E-mail (portal/outbox.py). "file" writes each message under MAIL_DIRECTORY for a
        # person to read; "smtp" sends it. None for the directory means <instance>/mail.
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "file"),
        "MAIL_FROM": os.environ.get(
            "MAIL_FROM", "Schools Partner Portal <no-reply@council.example>"
        ),
        "MAIL_DIRECTORY": os.environ.get("MAIL_DIRECTORY") or None,
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_BACKOFF_SECONDS": _int("OUTBOX_BACKOFF_SECONDS", 60),
        "OUTBOX_POLL_SECONDS": _int("OUTBOX_POLL_SECONDS", 5),
        # With REDIS_URL: how often the job worker looks at the outbox unasked, for mail
        # whose commit could not reach Redis.
        "OUTBOX_SWEEP_SECONDS": _int("OUTBOX_SWEEP_SECONDS", 300),
        # The schools register (portal/register): which rows of a GIAS extract are the
        # council's (937 is Warwickshire), and where uploads wait to be applied (None means
        # <instance>/imports).
        "COUNCIL_LA_CODES": _la_codes(os.environ.get("COUNCIL_LA_CODES", "937")),
        "REGISTER_IMPORT_DIRECTORY": os.environ.get("REGISTER_IMPORT_DIRECTORY") or None,
        # An upload never applied is removed this long after its dry run (`register tidy`).
        "REGISTER_IMPORT_KEEP_DAYS": _int("REGISTER_IMPORT_KEEP_DAYS", 30),
        # Where the invoices uploaded with supply-cover claims are kept (None means
        # <instance>/claim-evidence): records of money paid, to back up with the database.
        "CLAIM_EVIDENCE_DIRECTORY": os.environ.get("CLAIM_EVIDENCE_DIRECTORY") or None,
        # The largest request body, for every route: the form token is read (and the body
        # with it) before any view could set a limit of its own. The largest upload is the
        # register extract; all of England's is about 65 MB.
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 100) * 1024 * 1024,
    }
