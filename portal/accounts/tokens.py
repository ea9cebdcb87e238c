"""E-mailed links, and the state they leave an account in.

An e-mailed link carries a random token; only its SHA-256 is stored (``AccountToken``), so
the table is no use to someone who reads it. A link works once, until it expires.

An account's status (and an invitation's) is here too: whether it is waiting on a link that
still works is what tells "Invited" from "Invitation expired".
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from portal.auth.lockout import is_locked
from portal.db import db, utcnow
from portal.models import AccountToken, MembershipInvitation, TokenPurpose, User

TOKEN_BYTES = 32
# What secrets.token_urlsafe(32) makes: 43 characters of the URL-safe base64 alphabet.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


class LinkUnusable(Exception):
    """The link has expired, has been used, or was never issued."""


def looks_like_token(raw: str) -> bool:
    """Whether ``raw`` could be a token we issued at all (anything else is not a link of ours)."""
    return _TOKEN_SHAPE.fullmatch(raw) is not None


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def add_token(
    user: User | None,
    purpose: TokenPurpose,
    raw: str,
    hours: int,
    created_by: User | None = None,
    invitation: MembershipInvitation | None = None,
) -> AccountToken:
    token = AccountToken(
        user=user,
        purpose=purpose,
        token_hash=token_hash(raw),
        expires_at=utcnow() + timedelta(hours=hours),
        created_by=created_by,
        invitation=invitation,
    )
    db.session.add(token)
    return token


def usable_token(raw: str, purpose: TokenPurpose) -> AccountToken | None:
    """The token a link carries, if it can still be used for ``purpose``; else None.

    Unused and unexpired, and what it is for still there: an invitation not withdrawn,
    accepted or declined (one sent before invitations waited for an answer: an account not
    yet taken up), a reset for an active account.
    """
    if not looks_like_token(raw):
        return None
    token = db.session.scalars(
        select(AccountToken).where(
            AccountToken.token_hash == token_hash(raw), AccountToken.purpose == purpose
        )
    ).one_or_none()
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    offer, user = token.invitation, token.user
    if offer is not None:
        return token if offer.declined_at is None else None
    if user is None:
        return None
    if purpose is TokenPurpose.INVITATION and not inactive_without_password(user):
        return None
    if purpose in (TokenPurpose.PASSWORD_RESET, TokenPurpose.SIGN_IN_UNLOCK) and not user.is_active:
        return None
    return token


def claim(token: AccountToken) -> None:
    """Mark the token used, once: of two requests racing with one link, only one wins."""
    result = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        db.session.rollback()
        raise LinkUnusable


def revoke(user: User, purpose: TokenPurpose | None = None) -> None:
    """End every link of the account's that could still be used (of one purpose, or all).

    An invitation's link is for an address, not an account, so is not one of them (but for
    one sent before invitations waited for an answer, which opens its account).
    """
    now = utcnow()
    query = (
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(expires_at=now)
    )
    if purpose is not None:
        query = query.where(AccountToken.purpose == purpose)
    db.session.execute(query)


def end_links(offer: MembershipInvitation) -> None:
    """End the links sent for one invitation that could still be used."""
    now = utcnow()
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.invitation_id == offer.id,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(expires_at=now)
    )


# --- the state of an account -----------------------------------------------------------------


class AccountStatus(enum.StrEnum):
    ACTIVE = "Active"
    # Active, but failed sign-ins have locked out the browsers it does not know, for now.
    LOCKED = "Locked"
    INVITED = "Invited"
    INVITATION_EXPIRED = "Invitation expired"
    DECLINED = "Declined"
    DEACTIVATED = "Deactivated"


def inactive_without_password(user: User) -> bool:
    return not user.is_active and user.password_changed_at is None


def never_opened(user: User) -> bool:
    """Made by an invitation sent before invitations waited for an answer, and never taken
    up: not active, no password ever chosen, and invited. (The demo's accounts have no
    password date either, but were not invited; accounts are made on accepting now.)"""
    return inactive_without_password(user) and bool(_invited([user.id], live_only=False))


def opens_by_link(user: User) -> bool:
    """Whether an invitation's link opens ``user``'s account (its owner chooses a password),
    rather than asking its owner to sign in and accept.

    So for an account never opened, and for one closed because it had no role left (its
    owner left every school): reading the address's e-mail is all its owner can show. An
    account a council administrator deactivated, roles and all, no invitation reopens.
    """
    return not user.is_active and (not user.memberships or never_opened(user))


def _invited(user_ids: Iterable[int], *, live_only: bool) -> set[int]:
    """Of ``user_ids``, the accounts sent a link that opens them (an invitation before
    invitations waited for an answer)."""
    ids = list(user_ids)
    if not ids:
        return set()
    query = select(AccountToken.user_id).where(
        AccountToken.user_id.in_(ids), AccountToken.purpose == TokenPurpose.INVITATION
    )
    if live_only:
        query = query.where(AccountToken.used_at.is_(None), AccountToken.expires_at > utcnow())
    return set(db.session.scalars(query.distinct()))


def account_statuses(users: Sequence[User]) -> dict[int, AccountStatus]:
    """Each account's status, with at most two queries for the lot."""
    unopened = [user.id for user in users if inactive_without_password(user)]
    invited = _invited(unopened, live_only=False)
    live = _invited(invited, live_only=True)
    moment = utcnow()
    result = {}
    for user in users:
        if user.is_active:
            locked = is_locked(user, moment)
            result[user.id] = AccountStatus.LOCKED if locked else AccountStatus.ACTIVE
        elif user.id in live:
            result[user.id] = AccountStatus.INVITED
        elif user.id in invited:
            result[user.id] = AccountStatus.INVITATION_EXPIRED
        else:
            result[user.id] = AccountStatus.DEACTIVATED
    return result


def invitation_statuses(
    invitations: Sequence[MembershipInvitation],
) -> dict[int, AccountStatus]:
    """Each invitation's status (one query for the lot): declined, or waiting with a link
    that still works, or with none."""
    ids = [invitation.id for invitation in invitations]
    live = set(
        db.session.scalars(
            select(AccountToken.invitation_id)
            .where(
                AccountToken.invitation_id.in_(ids),
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > utcnow(),
            )
            .distinct()
        )
        if ids
        else ()
    )
    return {
        invitation.id: AccountStatus.DECLINED
        if invitation.declined_at is not None
        else AccountStatus.INVITED
        if invitation.id in live
        else AccountStatus.INVITATION_EXPIRED
        for invitation in invitations
    }
