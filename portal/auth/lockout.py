"""Repeated failures: guessing slowed and limited, without handing a stranger a lock on
someone else's account.

After OWASP's Authentication Cheat Sheet and its "Slow Down Online Guessing Attacks with
Device Cookies": a browser that has completed a sign-in to an account holds a device cookie
for it (portal/auth/devices.py), and failures are counted in three ways, kept apart on
purpose. A wrong password and a wrong security code are both failures.

* **per browser the account knows**, in the database (``SignInDevice``): such a browser's
  failures count against it alone, and a complete sign-in from it starts its count again.
  Every ``LOCKOUT_THRESHOLD`` of them and the account stops knowing it for a while
  (``LOCKOUT_MINUTES``, twice as long each time after, up to ``LOCKOUT_MAX_MINUTES``): it is
  then one of the other browsers, below. A stolen device cookie buys that many guesses, not
  a way round the limits; a made-up one, or another account's, is no device cookie at all.
* **per account, for every other browser**, in the database too (``User.failed_sign_ins``
  and ``locked_until``), so that every app server sees the same count whichever of them an
  attempt reaches. Every ``LOCKOUT_THRESHOLD`` failures from browsers the account does not
  know, from anywhere, lock the account against all of them, for as long as above. The
  owner's own browsers go on signing in as usual, and the owner is e-mailed, once a lock,
  a link that makes one more browser known (portal/accounts/unlocks.py). While locked, even
  the right password is refused, with the same message as any other failure, so a lock
  cannot be told from a wrong password; attempts then do not count (they would only
  lengthen the lock). A complete sign-in from such a browser (or a password reset) starts
  the count again.
* **per address and e-mail address**, in the rate limiter's storage (Redis in production,
  so shared too), for browsers the account does not know: ``SIGN_IN_ACCOUNT_RATE_LIMIT``
  failures for one e-mail address from one address, counted whether or not any account has
  that e-mail address. Its "Too many attempts" therefore comes after the same number of
  tries for an unknown address as for a real one, and says nothing about who has an
  account. It allows fewer failures than ``LOCKOUT_THRESHOLD`` (5 in 15 minutes against 10,
  by default), so one address is slowed before it could lock an account by itself.

The limiter's per-address limit on every sign-in attempt (``SIGN_IN_RATE_LIMIT``,
``portal/limits.py``) stays as it was, beside all three.
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
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import audit
from portal.auth.devices import Device, known_device, remember_browser
from portal.db import db
from portal.models import SignInDevice, User

log = logging.getLogger(__name__)
T = TypeVar("T")

# The limiter scope these counts live under, apart from Flask-Limiter's own per-view ones.
_PAIR_SCOPE = "sign-in-account"


def lock_minutes(lock_number: int) -> int:
    """How long the ``lock_number``-th lock lasts (1 for the first): doubling, capped."""
    config = current_app.config
    doubled = config["LOCKOUT_MINUTES"] * 2 ** min(max(lock_number - 1, 0), 16)
    return min(doubled, max(config["LOCKOUT_MAX_MINUTES"], config["LOCKOUT_MINUTES"]))


def _lock_number(count: int) -> int | None:
    """Which lock the ``count``-th failure starts (1 for the first), if it starts one."""
    threshold = current_app.config["LOCKOUT_THRESHOLD"]
    if threshold <= 0 or count % threshold:
        return None
    return count // threshold


# --- which browser is trying -----------------------------------------------------------------


def trusted_device(user: User, now: datetime) -> Device | None:
    """This browser, if ``user``'s account knows it and it has not lost that by its own
    failures; None for any other browser."""
    device = known_device(user)
    if device is None:
        return None
    locked_until = db.session.scalar(
        select(SignInDevice.locked_until).where(
            SignInDevice.user_id == user.id, SignInDevice.device == device.key
        )
    )
    if locked_until is not None and locked_until > now:
        return None
    return device


def is_locked(user: User, now: datetime) -> bool:
    """Whether browsers the account does not know are locked out of it now."""
    return user.locked_until is not None and user.locked_until > now


def refused(user: User, device: Device | None, now: datetime) -> bool:
    """Whether this browser is refused even the right password now."""
    return device is None and is_locked(user, now)


# --- failures --------------------------------------------------------------------------------


def record_failure(user: User, device: Device | None, now: datetime) -> int | None:
    """Count one failure, against the browser if the account knows it, else against the
    account's other browsers; lock whichever the count says.

    Returns the minutes of a lock on the account's other browsers that this failure
    started, or None. The counts are raised in the database itself, so two app servers
    counting at once cannot lose a failure. The caller commits.
    """
    if device is not None:
        _count_device_failure(user, device, now)
        return None
    count = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .returning(User.failed_sign_ins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    db.session.expire(user, ["failed_sign_ins"])
    lock_number = _lock_number(count)
    if lock_number is None:
        return None
    minutes = lock_minutes(lock_number)
    user.locked_until = now + timedelta(minutes=minutes)
    audit.record("auth.locked_out", actor=user, subject=user, minutes=minutes, failures=count)
    # Where e-mailed links live; imported here, as that module imports this one.
    from portal.accounts.unlocks import send_unlock_link

    send_unlock_link(user, minutes)
    return minutes


def _count_device_failure(user: User, device: Device, now: datetime) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    row = SignInDevice.__table__.c
    statement = insert(SignInDevice).values(
        user_id=user.id, device=device.key, failed_sign_ins=1, last_failed_at=now
    )
    count = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[row.user_id, row.device],
            set_={"failed_sign_ins": row.failed_sign_ins + 1, "last_failed_at": now},
        ).returning(row.failed_sign_ins)
    ).scalar_one()
    # The account's browsers whose cookies have run out since they last failed.
    expired = now - timedelta(days=int(current_app.config["DEVICE_COOKIE_DAYS"]))
    db.session.execute(
        delete(SignInDevice).where(
            SignInDevice.user_id == user.id, SignInDevice.last_failed_at < expired
        )
    )
    lock_number = _lock_number(count)
    if lock_number is None:
        return
    minutes = lock_minutes(lock_number)
    db.session.execute(
        update(SignInDevice)
        .where(SignInDevice.user_id == user.id, SignInDevice.device == device.key)
        .values(locked_until=now + timedelta(minutes=minutes))
    )
    audit.record(
        "auth.browser_locked_out", actor=user, subject=user, minutes=minutes, failures=count
    )


def signed_in(user: User, device: Device | None, *, remember: bool) -> None:
    """A complete sign-in from this browser: its count starts again, and with ``remember``
    (the second factor given, where one is needed) the account knows the browser from now
    on. The caller commits."""
    if device is not None:
        db.session.execute(
            delete(SignInDevice).where(
                SignInDevice.user_id == user.id, SignInDevice.device == device.key
            )
        )
    else:
        clear_failures(user)
    if remember:
        remember_browser(user)


def clear_failures(user: User) -> None:
    """The count for browsers the account does not know starts again, and any lock on them
    ends. The caller commits."""
    if user.failed_sign_ins or user.locked_until is not None:
        user.failed_sign_ins = 0
        user.locked_until = None


def lift_locks(user: User) -> None:
    """Someone who manages the account unlocks it (portal/accounts/unlocks.py): every count
    starts again and every lock ends, on the browsers the account does not know and on those
    it knows alike. The caller commits."""
    clear_failures(user)
    db.session.execute(delete(SignInDevice).where(SignInDevice.user_id == user.id))


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
