"""The second factor for council staff: an authenticator app (TOTP), and recovery codes.

Everyone with a council role (CAF officer, publisher, training coordinator, administrator)
needs one: they see every school's records. A council person without one is sent to set it up
straight after signing in and can use nothing else until they have. With one, the right
password is not enough: it leaves them half signed in (a few minutes' note in the session,
never a signed-in session) until they give the 6-digit code from their app, or one of their
ten recovery codes, each of which works once, as does each code from the app. School staff
are not asked.
"""

from __future__ import annotations

import base64
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import segno
from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit
from portal.access import Person
from portal.db import db
from portal.models import User
from portal.passwords import hash_password, verify_password

# The demo council's accounts (seed-demo, portal_seed/demo/) all share this authenticator
# secret, printed in the README, so that a person can add it to an authenticator app (and the
# tests can work out its codes). Defined here, not with the demo, because the second factor's
# page recognises it to say where a demo account's code comes from; never in production:
# seed-demo refuses to run there.
DEMO_TOTP_SECRET = "DEMODEMODEMODEMODEMODEMODEMODEMO"  # noqa: S105  (the demo's, published)

CODE_DIGITS = 6
RECOVERY_CODE_COUNT = 10
# Ten letters and digits from an alphabet without look-alikes (0/o, 1/l/i), shown as two
# groups of five: about 49 bits each, behind argon2 and the lockout.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
# How long the half-signed-in state lasts between the password and the code.
PENDING_SECONDS = 5 * 60
# How long a set-up page's secret stays valid (as long as its form's CSRF token, by default).
SETUP_SECONDS = 60 * 60
_BASE32_SECRET = re.compile(r"[A-Z2-7]{32}")
_PENDING_KEY = "pending_sign_in"

TOTP = "authenticator app"
RECOVERY_CODE = "recovery code"


def needs_second_factor(user: User | Person) -> bool:
    """Council staff need a second factor; school staff do not."""
    return any(membership.role.is_council for membership in user.memberships)


def normalise(code: str) -> str:
    """A code as typed, without the spaces and dashes people add and in one case."""
    return "".join(ch for ch in code.lower() if ch.isalnum())


# --- the authenticator app -------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, RFC 4226's recommendation


def grouped(secret: str) -> str:
    """The secret in fours, to copy into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SERVICE_NAME"]
    )


def qr_code_data_uri(uri: str) -> str:
    """The QR code for ``uri`` as an SVG data: URI for an <img>.

    Plain paths and fill and stroke attributes, no style attribute or <style>, and served
    as an image, which the Content-Security-Policy's img-src allows.
    """
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        scale=5,
        border=4,
        dark="#0b0c0c",
        light="#ffffff",
        xmldecl=False,
        svgclass=None,
        lineclass=None,
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second time step whose code ``code`` is: now's, or the one either side (clocks
    drift). None if it is none of them."""
    code = normalise(code)
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _setup_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="portal.two-factor-setup")


def setup_token(user: User, secret: str) -> str:
    """The secret on the set-up page, signed for this person, so the form can carry it.

    Nothing is stored until the person proves their app has it: reading the page changes
    nothing, and the secret can only be one the portal made, for them.
    """
    return _setup_serializer().dumps({"user": user.id, "secret": secret})


def secret_from_setup_token(user: User, token: str) -> str | None:
    try:
        data: Any = _setup_serializer().loads(token, max_age=SETUP_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("user") != user.id:
        return None
    secret = data.get("secret")
    return secret if isinstance(secret, str) and _BASE32_SECRET.fullmatch(secret) else None


# --- recovery codes --------------------------------------------------------------------------


def _new_recovery_code() -> str:
    code = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def enrol(user: User, secret: str, now: datetime, step: int | None = None) -> list[str]:
    """Turn on the second factor with ``secret``; returns the recovery codes, to show once.

    ``step`` is the time step of the code that proved the app has the secret: that code has
    been used, and signs nobody in afterwards. Only the recovery codes' argon2 hashes are
    kept. Every other session the person has open (signed in with a password alone) ends;
    the caller signs this one in again.
    """
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    user.totp_secret = secret
    user.totp_enabled_at = now
    user.totp_last_step = step
    user.recovery_codes = [hash_password(normalise(code)) for code in codes]
    user.session_version += 1
    audit.record("auth.two_factor_enrolled", actor=user, subject=user)
    db.session.commit()
    return codes


def reset(user: User, by: User) -> None:
    """Take away ``user``'s second factor (a lost phone, no recovery codes left), for an
    administrator: every session they have ends, and at their next sign-in they set up an
    app again before they can do anything else."""
    user.totp_secret = None
    user.totp_enabled_at = None
    # The steps counted codes from the old app's secret; the new one starts afresh.
    user.totp_last_step = None
    user.recovery_codes = []
    user.session_version += 1
    audit.record("auth.two_factor_reset", actor=by, subject=user)
    db.session.commit()


def _spend_recovery_code(user: User, code: str) -> bool:
    """Use up one of the person's recovery codes, if ``code`` is one. The caller commits."""
    if len(code) != _RECOVERY_LENGTH:
        return False
    # Lock the row (on PostgreSQL), so that two app servers cannot both spend the same code.
    db.session.refresh(user, with_for_update=True)
    for stored in user.recovery_codes:
        if verify_password(stored, code):
            user.recovery_codes = [other for other in user.recovery_codes if other != stored]
            return True
    return False


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as the person's last authenticator code, unless a code for it (or for
    a later step) was accepted already. The caller commits.

    One conditional UPDATE, not a read then a write: when two app servers are given the
    same code at once, the database lets only one of them change the row, and the other
    finds no row to change.
    """
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def verify_second_factor(user: User, code: str, now: datetime) -> str | None:
    """Which second factor ``code`` is for ``user`` (TOTP or RECOVERY_CODE), or None.

    An authenticator code works once: given again (someone who watched it typed, or the
    same form sent twice), it is refused like a wrong one.
    """
    if user.totp_secret is None or user.totp_enabled_at is None:
        return None
    code = normalise(code)
    step = matching_step(user.totp_secret, code, now)
    if step is not None:
        if _claim_step(user, step):
            return TOTP
        audit.record("auth.security_code_reused", actor=user, subject=user)
        return None
    if _spend_recovery_code(user, code):
        audit.record(
            "auth.recovery_code_used", actor=user, subject=user, left=len(user.recovery_codes)
        )
        return RECOVERY_CODE
    return None


# --- half signed in: the password was right, the code is still to come ------------------------


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    started: datetime
    next_url: str | None

    def expired(self, now: datetime) -> bool:
        return now - self.started > timedelta(seconds=PENDING_SECONDS)


def begin_pending(user: User, next_url: str | None, now: datetime) -> None:
    """Remember, for a few minutes, whose password was right. Nobody is signed in."""
    session.clear()
    session[_PENDING_KEY] = {
        "user": user.id,
        "version": user.session_version,
        "started": int(now.timestamp()),
        "next": next_url,
    }


def pending_sign_in() -> PendingSignIn | None:
    """The half-finished sign-in in this session, if there is one and its account still can."""
    data = session.get(_PENDING_KEY)
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    if (
        user is None
        or not user.is_active
        or user.session_version != data.get("version")
        or user.totp_enabled_at is None
        or not isinstance(data.get("started"), int)
    ):
        clear_pending()
        return None
    next_url = data.get("next")
    return PendingSignIn(
        user=user,
        started=datetime.fromtimestamp(data["started"], UTC),
        next_url=next_url if isinstance(next_url, str) else None,
    )


def clear_pending() -> None:
    session.pop(_PENDING_KEY, None)
