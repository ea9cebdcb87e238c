"""Signing in and out: the workflow, kept out of the views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal import audit
from portal.auth import lockout
from portal.db import db, utcnow
from portal.models import User
from portal.passwords import hash_password, needs_rehash, verify_password

# Where the session keeps when its sign-in happened, and whether it gave a second factor.
SIGNED_IN_AT = "signed_in_at"
SECOND_FACTOR = "second_factor"


def now() -> datetime:
    """The time, in one place, so that tests can move it."""
    return utcnow()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).one_or_none()


def authenticate(email: str, password: str) -> User | None:
    """The active, unlocked user with this address and password, or None whatever was wrong.

    The password is checked against a hash in every case (no account, a locked one), so the
    time taken says nothing either. A wrong password counts towards the account's lockout.
    """
    user = find_user_by_email(email)
    correct = verify_password(user.password_hash if user else None, password)
    if user is None:
        audit.record("auth.sign_in_failed")
        db.session.commit()
        return None
    moment = now()
    if lockout.is_locked(user, moment):
        audit.record("auth.sign_in_refused_locked", actor=user, subject=user)
        db.session.commit()
        return None
    if not correct:
        audit.record("auth.sign_in_failed", actor=user, subject=user)
        lockout.record_failure(user, moment)
        db.session.commit()
        return None
    if not user.is_active:
        audit.record("auth.sign_in_refused_inactive", actor=user, subject=user)
        db.session.commit()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def sign_in(user: User, second_factor: str | None = None) -> None:
    """Sign ``user`` in; ``second_factor`` names the one they gave, if they gave one."""
    # A fresh session: nothing set before sign-in (by anyone) survives into the signed-in one.
    session.clear()
    # Permanent, so that the signed cookie expires after PERMANENT_SESSION_LIFETIME idle.
    session.permanent = True
    login_user(user)
    moment = now()
    # In the signed cookie, so that no copy of it outlives SESSION_ABSOLUTE_HOURS.
    session[SIGNED_IN_AT] = int(moment.timestamp())
    session[SECOND_FACTOR] = second_factor is not None
    user.last_signed_in_at = moment
    lockout.clear_failures(user)
    detail = {"second_factor": second_factor} if second_factor else {}
    audit.record("auth.sign_in", actor=user, subject=user, **detail)
    db.session.commit()


def confirm_second_factor(user: User) -> None:
    """This session has now given a second factor (set up just now): keep it signed in.

    Setting up the factor raised the session version, ending every other session; this one
    is signed in again under the new version, keeping its original sign-in time.
    """
    login_user(user)
    session[SECOND_FACTOR] = True


def second_factor_failed(user: User) -> int | None:
    """A wrong security code: it counts towards the lockout like a wrong password.

    Returns the minutes of the lock it started, if it started one.
    """
    audit.record("auth.second_factor_failed", actor=user, subject=user)
    minutes = lockout.record_failure(user, now())
    db.session.commit()
    return minutes


def session_expired(moment: datetime) -> bool:
    """Whether this signed-in session is past SESSION_ABSOLUTE_HOURS since its sign-in."""
    started = session.get(SIGNED_IN_AT)
    if not isinstance(started, int):
        # Signed in before sign-in times were kept (the cookie is signed: nobody removed
        # it): the session's time starts now.
        session[SIGNED_IN_AT] = int(moment.timestamp())
        return False
    limit = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    return moment - datetime.fromtimestamp(started, UTC) > limit


def end_session(user: User, reason: str) -> None:
    """Sign this session out without ending the person's others (e.g. it has expired)."""
    audit.record(reason, actor=user, subject=user)
    db.session.commit()
    logout_user()
    session.clear()


def sign_out(user: User) -> None:
    # Raising the session version ends this session and every other one the user has open.
    user.session_version += 1
    audit.record("auth.sign_out", actor=user, subject=user)
    db.session.commit()
    logout_user()
    session.clear()


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id is 'user id:session version'."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    # With the memberships that decide what they may do, which every request asks: joined,
    # so that every page pays one round trip for its person, not two.
    user = db.session.get(User, int(user_id), options=[joinedload(User.memberships)])
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: `next` never leaves the portal."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
