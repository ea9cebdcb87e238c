"""Signing in and out: the workflow, kept out of the views."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import Select, bindparam, case, func, select

from portal import audit
from portal.access import SCHOOL_COLUMNS, Member, Person
from portal.auth import lockout, two_factor
from portal.auth.devices import Device, remember_browser
from portal.clock import utcnow
from portal.db import db, driver_rows
from portal.models import Area, Membership, School, Trust, User
from portal.passwords import hash_password, needs_rehash, verify_password
from portal.versions import NAMES as VERSION_NAMES
from portal.versions import remember, version_columns

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


@dataclass(frozen=True)
class Attempt:
    """What came of an attempt at the password: the person, if it was right, or how long
    this address must wait before trying this e-mail address again (0 if it need not)."""

    user: User | None = None
    wait_seconds: int = 0


def attempt_sign_in(email: str, password: str) -> Attempt:
    """The password step, with every count and limit in portal/auth/lockout.py.

    A browser the account does not know is first held to the limit per address and e-mail
    address, counted whether or not the address has an account, so its "wait" says nothing
    about who has one. A browser the account knows is counted by itself instead, so that a
    stranger on the same network (one address for a whole school) cannot slow its owner.
    """
    user = find_user_by_email(email)
    moment = now()
    device = lockout.trusted_device(user, moment) if user is not None else None
    if device is None:
        wait = lockout.seconds_until_allowed(email)
        if wait:
            # The password is not even looked at.
            return Attempt(wait_seconds=wait)
    authenticated = _authenticate(user, password, device, moment)
    if device is None:
        if authenticated is None:
            lockout.count_pair_failure(email)
        else:
            lockout.clear_pair(email)
    return Attempt(user=authenticated)


def _authenticate(
    user: User | None, password: str, device: Device | None, moment: datetime
) -> User | None:
    """``user`` if the account is active, this browser is not locked out of it and the
    password is right; None whatever was wrong.

    The password is checked against a hash in every case (no account, a locked one), so the
    time taken says nothing either. A wrong password counts towards a lock: this browser's,
    if the account knows it, else that on every browser it does not know.
    """
    correct = verify_password(user.password_hash if user else None, password)
    if user is None:
        audit.record("auth.sign_in_failed")
        db.session.commit()
        return None
    detail = {"known_browser": True} if device is not None else {}
    if lockout.refused(user, device, moment):
        audit.record("auth.sign_in_refused_locked", actor=user, subject=user)
        db.session.commit()
        return None
    if not correct:
        audit.record("auth.sign_in_failed", actor=user, subject=user, **detail)
        lockout.record_failure(user, device, moment)
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
    # The browser is known to the account from now on only once it has given everything
    # the account needs: a council account's second factor is still to be set up.
    complete = second_factor is not None or not two_factor.needs_second_factor(user)
    lockout.signed_in(user, lockout.trusted_device(user, moment), remember=complete)
    detail = {"second_factor": second_factor} if second_factor else {}
    audit.record("auth.sign_in", actor=user, subject=user, **detail)
    db.session.commit()


class NextStep(enum.Enum):
    """Where someone goes once their password has been accepted (the endpoint)."""

    SECURITY_CODE = "auth.sign_in_code"
    SET_UP_SECOND_FACTOR = "auth.two_factor"
    SIGNED_IN = "main.home"


def password_accepted(user: User, next_url: str | None = None) -> NextStep:
    """The password step is done (the right password at sign-in, or one just chosen from an
    invitation's link): on to the next step, the same for every way in.

    An account with an authenticator app is only half signed in until its code is given
    (nothing is signed in before then); one that needs an app and has none yet is signed in
    to set one up, and can do nothing else until it has; anyone else is signed in.
    """
    if two_factor.needs_second_factor(user) and user.totp_enabled_at is not None:
        two_factor.begin_pending(user, next_url, now())
        return NextStep.SECURITY_CODE
    sign_in(user)
    if two_factor.needs_second_factor(user):
        return NextStep.SET_UP_SECOND_FACTOR
    return NextStep.SIGNED_IN


def role_taken(user: User) -> NextStep:
    """``user``, signed in, has just taken a new role: this session may now do more, so it
    starts afresh (a new session for any change of privilege, as OWASP asks), keeping when it
    signed in and whether it gave a second factor.

    A council role needs a second factor this sign-in may not have given: with an app, the
    session ends and the code is asked for as at sign-in; without one, the app is set up.
    """
    gave_second_factor = bool(session.get(SECOND_FACTOR))
    signed_in_at = session.get(SIGNED_IN_AT)
    needs_second_factor = two_factor.needs_second_factor(user)
    if needs_second_factor and user.totp_enabled_at is not None and not gave_second_factor:
        logout_user()
        two_factor.begin_pending(user, None, now())
        return NextStep.SECURITY_CODE
    session.clear()
    session.permanent = True
    login_user(user)
    if isinstance(signed_in_at, int):
        session[SIGNED_IN_AT] = signed_in_at
    session[SECOND_FACTOR] = gave_second_factor
    if needs_second_factor and user.totp_enabled_at is None:
        return NextStep.SET_UP_SECOND_FACTOR
    return NextStep.SIGNED_IN


def confirm_second_factor(user: User) -> None:
    """This session has now given a second factor (set up just now): keep it signed in.

    Setting up the factor raised the session version, ending every other session; this one
    is signed in again under the new version, keeping its original sign-in time.
    """
    login_user(user)
    session[SECOND_FACTOR] = True
    # Only now has this browser given everything the account needs.
    remember_browser(user)


def code_step_locked(user: User, moment: datetime) -> bool:
    """Whether this browser is locked out of ``user``'s account now, half-way through
    signing in (someone else's failures, or its own)."""
    return lockout.refused(user, lockout.trusted_device(user, moment), moment)


def second_factor_failed(user: User) -> int | None:
    """A wrong security code: it counts towards a lock like a wrong password.

    Returns the minutes of the lock it started on the browsers the account does not know,
    if it started one.
    """
    moment = now()
    device = lockout.trusted_device(user, moment)
    detail = {"known_browser": True} if device is not None else {}
    audit.record("auth.second_factor_failed", actor=user, subject=user, **detail)
    minutes = lockout.record_failure(user, device, moment)
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


@cache
def person_statement() -> Select[Any]:
    """The signed-in person, a row a role (one row with no role), if the account is active
    and the session's version is still the account's: only the columns the pages show or
    decide by, and each school they work at (its row, its area's and trust's names), as
    plain values.

    Names by scalar subqueries rather than joins: PostgreSQL joined the 288 trusts by hashing
    the whole table on every request (0.114 against 0.096 ms a run, and a third of the time
    to plan, which each connection pays for its first five runs)."""

    def name_of(table: Any, key: Any) -> Any:
        # Looked for only when there is a key: PostgreSQL scans a small table (the 288
        # trusts) rather than use its index, and scanned it to the end for a school with no
        # trust, on every request.
        return case((key.is_not(None), select(table.name).where(table.id == key).scalar_subquery()))

    return (
        select(
            User.email,
            User.display_name,
            User.totp_enabled_at.is_not(None),
            # What many people share, read here so that pages need no round trip to learn it.
            *version_columns(),
            Membership.role,
            Membership.school_id,
            Membership.trust_id,
            Membership.area_id,
            func.coalesce(
                School.name, name_of(Trust, Membership.trust_id), name_of(Area, Membership.area_id)
            ),
            name_of(Area, School.area_id),
            name_of(Trust, School.trust_id),
            *(School.__table__.c[name] for name in SCHOOL_COLUMNS),
        )
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(School, School.id == Membership.school_id)
        .where(
            User.id == bindparam("user_id"),
            User.is_active,
            User.session_version == bindparam("version"),
        )
        .order_by(Membership.id)
    )


# Where a membership's columns begin in person_statement's rows: after the person's three and
# the shared versions.
_MEMBER = 3 + len(VERSION_NAMES)


def load_user(session_id: str) -> Person | None:
    """Flask-Login's loader: the id is 'user id:session version'.

    Every request reads the person afresh, in one round trip with their roles (which every
    request asks about), so that an account deactivated, a role taken away or a session
    signed out everywhere counts from the very next request.
    """
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    rows = driver_rows(person_statement(), {"user_id": int(user_id), "version": int(version)})
    if not rows:
        return None
    email, display_name, has_authenticator = rows[0][:3]
    remember(rows[0][3:_MEMBER])
    return Person(
        id=int(user_id),
        email=email,
        display_name=display_name,
        session_version=int(version),
        has_authenticator=bool(has_authenticator),
        memberships=tuple(
            Member(*row[_MEMBER : _MEMBER + 5])
            if row[_MEMBER + 1] is None
            else Member(
                *row[_MEMBER : _MEMBER + 5],
                school=tuple(row[_MEMBER + 7 :]),
                school_area=row[_MEMBER + 5],
                school_trust=row[_MEMBER + 6],
            )
            for row in rows
            if row[_MEMBER] is not None
        ),
    )


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: `next` never leaves the portal."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
