"""Repeated failures: an account that locks, and a throttle on guessing at one address.

Two counts, kept apart on purpose:

* **per account**, in the database (``User.failed_sign_ins`` and ``locked_until``), so that
  every app server sees the same count whichever of them an attempt reaches. Every
  ``LOCKOUT_THRESHOLD`` failures, from anywhere, lock the account: for ``LOCKOUT_MINUTES``
  the first time, twice as long each time after, up to ``LOCKOUT_MAX_MINUTES``. A wrong
  password and a wrong security code are both failures; only a complete sign-in resets the
  count. While an account is locked even its right password is refused, with the same message
  as any other failure, so a lock cannot be told from a wrong password.
* **per address and e-mail address**, in the rate limiter's storage (Redis in production, so
  shared too): ``SIGN_IN_ACCOUNT_RATE_LIMIT`` failures for one e-mail address from one
  address, counted whether or not any account has that e-mail address. Its "Too many
  attempts" therefore comes after the same number of tries for an unknown address as for a
  real one, and says nothing about who has an account.

The limiter's per-address limit on every sign-in attempt (``SIGN_IN_RATE_LIMIT``,
``portal/limits.py``) stays as it was, beside both.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.strategies import RateLimiter
from redis.exceptions import RedisError
from sqlalchemy import update

from portal import audit
from portal.db import db
from portal.models import User

log = logging.getLogger(__name__)
T = TypeVar("T")

# The limiter scope these counts live under, apart from Flask-Limiter's own per-view ones.
_PAIR_SCOPE = "sign-in-account"


# --- per account, in the database ------------------------------------------------------------


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def lock_minutes(lock_number: int) -> int:
    """How long the ``lock_number``-th lock lasts (1 for the first): doubling, capped."""
    config = current_app.config
    doubled = config["LOCKOUT_MINUTES"] * 2 ** min(max(lock_number - 1, 0), 16)
    return min(doubled, max(config["LOCKOUT_MAX_MINUTES"], config["LOCKOUT_MINUTES"]))


def record_failure(user: User, now: datetime) -> int | None:
    """Count one failure against ``user``; lock the account when the count says so.

    Returns the minutes of the lock this failure started, or None. The count is raised in
    the database itself, so two app servers counting at once cannot lose a failure. The
    caller commits.
    """
    count = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .returning(User.failed_sign_ins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    db.session.expire(user, ["failed_sign_ins"])
    threshold = current_app.config["LOCKOUT_THRESHOLD"]
    if threshold <= 0 or count % threshold:
        return None
    minutes = lock_minutes(count // threshold)
    user.locked_until = now + timedelta(minutes=minutes)
    audit.record("auth.locked_out", actor=user, subject=user, minutes=minutes, failures=count)
    return minutes


def clear_failures(user: User) -> None:
    """A complete sign-in: the count starts again. The caller commits."""
    if user.failed_sign_ins or user.locked_until is not None:
        user.failed_sign_ins = 0
        user.locked_until = None


# --- per address, in the rate limiter's storage ----------------------------------------------


def _limiter() -> Limiter | None:
    """The app's Flask-Limiter, when rate limiting is on (RATELIMIT_ENABLED)."""
    for limiter in current_app.extensions.get("limiter", ()):
        if limiter.enabled:
            return limiter
    return None


def _counted(operation: Callable[[RateLimiter], T], otherwise: T) -> T:
    """``operation`` on the rate limiter's counts; ``otherwise`` when limits are off.

    Sign-in, the only caller, is a limited view: Flask-Limiter has just used its storage for
    this very request, so with Redis away it has already turned to its in-memory fallback, and
    ``limiter.limiter`` is that fallback. Should Redis go in the moment between, this count
    is skipped, once, rather than the sign-in failing.
    """
    limiter = _limiter()
    if limiter is None:
        return otherwise
    try:
        return operation(limiter.limiter)
    except (RedisError, StorageError) as error:
        log.warning("rate-limit storage failed (%s): one sign-in count skipped", error)
        return otherwise


def _pair_key(email: str) -> str:
    # The e-mail address keyed with the app's secret, so the limiter's storage holds no
    # addresses and nothing that can be checked against a list of them.
    digest = hmac.new(
        str(current_app.secret_key).encode(),
        email.strip().lower().encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"{get_remote_address()}/{digest[:32]}"


def _pair_limit() -> RateLimitItem:
    return parse(current_app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"])


def seconds_until_allowed(email: str) -> int:
    """0 if this address may try ``email`` now; else how long until it may, in seconds."""
    limit, key = _pair_limit(), _pair_key(email)

    def wait(counts: RateLimiter) -> int:
        if counts.test(limit, _PAIR_SCOPE, key):
            return 0
        reset_at = counts.get_window_stats(limit, _PAIR_SCOPE, key).reset_time
        return max(1, int(reset_at - time.time()))

    return _counted(wait, 0)


def count_pair_failure(email: str) -> None:
    limit, key = _pair_limit(), _pair_key(email)
    _counted(lambda counts: counts.hit(limit, _PAIR_SCOPE, key), None)


def clear_pair(email: str) -> None:
    """The right password from this address: its earlier slips no longer count."""
    limit, key = _pair_limit(), _pair_key(email)
    _counted(lambda counts: counts.clear(limit, _PAIR_SCOPE, key), None)
