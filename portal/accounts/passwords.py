"""A person's own password: forgotten (a reset link by e-mail), reset with it, or changed.

Nothing here says whether an address has an account to someone who may not know: asking for
a reset gets the same answer whether or not it has one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_login import login_user
from sqlalchemy import func, select

from portal import audit
from portal.accounts.mail import external_url, send_email, service_name
from portal.accounts.tokens import TOKEN_BYTES, add_token, claim, revoke
from portal.auth.lockout import clear_failures
from portal.auth.service import find_user_by_email
from portal.db import db, utcnow
from portal.models import AccountToken, TokenPurpose, User
from portal.passwords import hash_password, verify_password

# However often it is asked for, an account gets at most this many reset e-mails an hour, so
# the form cannot be used to flood someone's inbox.
RESETS_PER_HOUR = 3


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the address has an active account; otherwise do nothing.

    Either way the same work is done up to the e-mail, and the caller says the same thing.
    """
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    user = find_user_by_email(email)
    recent = db.session.scalar(
        select(func.count(AccountToken.id)).where(
            AccountToken.user_id == (user.id if user is not None else None),
            AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
            AccountToken.created_at > utcnow() - timedelta(hours=1),
        )
    )
    if user is None or not user.is_active:
        audit.record("account.password_reset_requested", account_found=False)
    elif (recent or 0) >= RESETS_PER_HOUR:
        audit.record("account.password_reset_requested", subject=user, throttled=True)
    else:
        hours = int(current_app.config["RESET_HOURS"])
        add_token(user, TokenPurpose.PASSWORD_RESET, raw, hours)
        send_email(
            user.email,
            f"Reset your password for the {service_name()}",
            "password-reset",
            user=user,
            hours=hours,
            link=external_url("accounts.reset", token=raw),
        )
        audit.record("account.password_reset_requested", subject=user)
    db.session.commit()


def reset_password(token: AccountToken, password: str) -> User:
    """Set a new password from a reset link, and end every session the account has open.

    Raises LinkUnusable.
    """
    password_hash = hash_password(password)
    claim(token)
    user = token.user
    assert user is not None, "a reset link names its account"
    _set_password(user, password_hash)
    # Proving control of the mailbox lifts a lock that failed guesses put on the account.
    clear_failures(user)
    audit.record("account.password_reset", actor=user, subject=user)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> bool:
    """Change a signed-in person's password; False if ``current`` is not their password.

    Every other session the account has ends; this one goes on, under the new session id.
    """
    if not verify_password(user.password_hash, current):
        audit.record("account.password_change_failed", actor=user, subject=user)
        db.session.commit()
        return False
    _set_password(user, hash_password(new))
    audit.record("account.password_changed", actor=user, subject=user)
    db.session.commit()
    login_user(user)
    return True


def _set_password(user: User, password_hash: str) -> None:
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    # Part of every session's id: raising it signs the account out everywhere.
    user.session_version += 1
    revoke(user, TokenPurpose.PASSWORD_RESET)
    send_email(
        user.email,
        f"Your password for the {service_name()} has changed",
        "password-changed",
        user=user,
        forgot_link=external_url("accounts.forgot"),
    )
