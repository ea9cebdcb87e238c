"""Locked accounts: the link that lets one more browser sign in while failed sign-ins keep
the others out (portal/auth/lockout.py), and a manager lifting the lock for its owner."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import func, select

from portal import audit
from portal.access import Principal, may_unlock
from portal.accounts.mail import external_url, send_email, service_name
from portal.accounts.tokens import TOKEN_BYTES, add_token, claim
from portal.accounts.users import Refused
from portal.auth.devices import remember_browser
from portal.auth.lockout import is_locked, lift_locks
from portal.db import db, utcnow
from portal.models import AccountToken, TokenPurpose, User


def send_unlock_link(user: User, minutes: int) -> None:
    """Tell the owner that browsers their account does not know have been locked out of it,
    with a link that lets one more browser sign in (portal/auth/lockout.py). The caller
    commits.

    Once a lock at most, and not while a link sent earlier still works: however long the
    attempts go on, they cannot fill the owner's inbox.
    """
    if not user.is_active:
        return
    live = db.session.scalar(
        select(func.count(AccountToken.id)).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.SIGN_IN_UNLOCK,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow(),
        )
    )
    if live:
        return
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    hours = int(current_app.config["UNLOCK_LINK_HOURS"])
    add_token(user, TokenPurpose.SIGN_IN_UNLOCK, raw, hours)
    send_email(
        user.email,
        f"Someone has been trying to sign in to your {service_name()} account",
        "unlock-link",
        user=user,
        minutes=minutes,
        hours=hours,
        link=external_url("accounts.unlock", token=raw),
    )
    audit.record("account.unlock_link_sent", subject=user)


def use_unlock_link(token: AccountToken) -> User:
    """The browser that opened the link is known to the account from now on, so it may sign
    in while other browsers are locked out. Raises LinkUnusable."""
    claim(token)
    user = token.user
    remember_browser(user)
    audit.record("account.unlock_link_used", actor=user, subject=user)
    db.session.commit()
    return user


# --- unlocking an account for its owner ------------------------------------------------------


def unlock_refusal(who: Principal, user: User) -> str | None:
    """Why ``who`` cannot unlock ``user``'s account (one they manage), or None if they can."""
    if not may_unlock(who, user):
        if user.id == who.person.id:
            return "You cannot unlock your own account: use the link we e-mailed you"
        return "You cannot unlock accounts"
    if not user.is_active or not is_locked(user, utcnow()):
        return f"{user.display_name}'s account is not locked"
    return None


def unlock_account(who: Principal, user: User) -> None:
    """Lift the lock that failed sign-ins put on ``user``'s account, for its owner who has
    asked (portal/auth/lockout.py): any browser may sign in again, with the password (and
    the code, for a council account). Raises Refused.

    The owner is e-mailed, in case it was not they who asked, and told who unlocked it.
    """
    refusal = unlock_refusal(who, user)
    if refusal is not None:
        raise Refused(refusal)
    locked_until = user.locked_until
    lift_locks(user)
    send_email(
        user.email,
        f"Your account in the {service_name()} has been unlocked",
        "unlocked",
        user=user,
        by=who.person,
        sign_in_link=external_url("auth.sign_in"),
        forgot_link=external_url("accounts.forgot"),
    )
    audit.record(
        "account.unlocked",
        actor=who.user,
        subject=user,
        locked_until=locked_until.isoformat() if locked_until is not None else None,
    )
    db.session.commit()
