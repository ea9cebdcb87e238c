"""Accounts: invitations, forgotten and changed passwords, and managing users.

An e-mailed link carries a random token; only its SHA-256 is stored (``AccountToken``), so
the table is no use to someone who reads it. A link works once, until it expires.

Nothing here says whether an address has an account to someone who may not know: asking
for a reset or inviting an address gets the same answer whether or not it has one.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from flask import current_app, url_for
from flask_login import login_user
from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import audit
from portal.access import Capability, Principal, managed_school_ids, managed_user_scope
from portal.auth import two_factor
from portal.auth.devices import remember_browser
from portal.auth.lockout import clear_failures
from portal.auth.service import find_user_by_email
from portal.db import db, utcnow
from portal.models import (
    AccountToken,
    Area,
    Membership,
    Role,
    School,
    SchoolStatus,
    TokenPurpose,
    Trust,
    User,
)
from portal.outbox import queue_email
from portal.pagination import Page, paginate
from portal.passwords import hash_password, verify_password

PAGE_SIZE = 25
TOKEN_BYTES = 32
# What secrets.token_urlsafe(32) makes: 43 characters of the URL-safe base64 alphabet.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# However often it is asked for, an account gets at most this many reset e-mails an hour, so
# the form cannot be used to flood someone's inbox.
RESETS_PER_HOUR = 3
# The roles a head teacher or trust lead may give, at their own schools.
SCHOOL_ROLES = (Role.SCHOOL_STAFF, Role.HEAD_TEACHER)


class LinkUnusable(Exception):
    """The link has expired, has been used, or was never issued."""


class Refused(Exception):
    """The change is not this person's to make; the message says why, for the page."""


# --- tokens ----------------------------------------------------------------------------------


def looks_like_token(raw: str) -> bool:
    """Whether ``raw`` could be a token we issued at all (anything else is not a link of ours)."""
    return _TOKEN_SHAPE.fullmatch(raw) is not None


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _add_token(
    user: User, purpose: TokenPurpose, raw: str, hours: int, created_by: User | None = None
) -> AccountToken:
    token = AccountToken(
        user=user,
        purpose=purpose,
        token_hash=token_hash(raw),
        expires_at=utcnow() + timedelta(hours=hours),
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(token)
    return token


def usable_token(raw: str, purpose: TokenPurpose) -> AccountToken | None:
    """The token a link carries, if it can still be used for ``purpose``; else None.

    Unused and unexpired, and its account in the state the link is for: an invitation only
    for an account that has not been taken up, a reset only for an active account.
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
    user = token.user
    if purpose is TokenPurpose.INVITATION and not is_pending(user):
        return None
    if purpose in (TokenPurpose.PASSWORD_RESET, TokenPurpose.SIGN_IN_UNLOCK) and not user.is_active:
        return None
    return token


def _claim(token: AccountToken) -> None:
    """Mark the token used, once: of two requests racing with one link, only one wins."""
    result = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        db.session.rollback()
        raise LinkUnusable


def _revoke(user: User, purpose: TokenPurpose | None = None) -> None:
    """End every link of the account's that could still be used (of one purpose, or all)."""
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


def external_url(endpoint: str, **values: Any) -> str:
    """A full link for an e-mail: under PORTAL_URL when set, else from this request's host."""
    base = current_app.config.get("PORTAL_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


# --- the state of an account -----------------------------------------------------------------


class AccountStatus(enum.StrEnum):
    ACTIVE = "Active"
    INVITED = "Invited"
    INVITATION_EXPIRED = "Invitation expired"
    DEACTIVATED = "Deactivated"


def _invited_user_ids(user_ids: Iterable[int], *, live_only: bool) -> set[int]:
    ids = list(user_ids)
    if not ids:
        return set()
    query = select(AccountToken.user_id).where(
        AccountToken.user_id.in_(ids), AccountToken.purpose == TokenPurpose.INVITATION
    )
    if live_only:
        query = query.where(AccountToken.used_at.is_(None), AccountToken.expires_at > utcnow())
    return set(db.session.scalars(query.distinct()))


def is_pending(user: User) -> bool:
    """Invited and not yet accepted: no password chosen, not active, and invited here."""
    return (
        not user.is_active
        and user.password_changed_at is None
        and bool(_invited_user_ids([user.id], live_only=False))
    )


def statuses(users: Sequence[User]) -> dict[int, AccountStatus]:
    """Each account's status, with two queries for the lot."""
    inactive = [u.id for u in users if not u.is_active and u.password_changed_at is None]
    invited = _invited_user_ids(inactive, live_only=False)
    live = _invited_user_ids(invited, live_only=True)
    result = {}
    for user in users:
        if user.is_active:
            result[user.id] = AccountStatus.ACTIVE
        elif user.id in live:
            result[user.id] = AccountStatus.INVITED
        elif user.id in invited:
            result[user.id] = AccountStatus.INVITATION_EXPIRED
        else:
            result[user.id] = AccountStatus.DEACTIVATED
    return result


def describe_membership(membership: Membership) -> str:
    """'Head teacher, Oakfield Primary School', 'CAF officer for the North area'."""
    if membership.area is not None:
        return f"{membership.role.label} for the {membership.area.name} area"
    organisation = membership.school or membership.trust
    if organisation is not None:
        return f"{membership.role.label}, {organisation.name}"
    return f"{membership.role.label}, {current_app.config['COUNCIL_NAME']}"


# --- users a manager may see -----------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    user: User
    # Only the roles the manager manages: a head teacher is not told where else someone works.
    memberships: list[Membership]
    status: AccountStatus


def visible_memberships(user: User, school_ids: frozenset[int] | None) -> list[Membership]:
    return [m for m in user.memberships if school_ids is None or m.school_id in school_ids]


def user_page(who: Principal, *, query: str = "", page: int = 1) -> Page[UserRow]:
    """The accounts ``who`` manages, by name, filtered by name or e-mail, one page of them."""
    statement = (
        select(User)
        .options(selectinload(User.memberships))
        .where(managed_user_scope(who))
        .order_by(func.lower(User.display_name), User.id)
    )
    if query:
        # What people type is text to find, not a pattern: autoescape makes % and _ literal.
        statement = statement.where(
            or_(
                User.display_name.icontains(query, autoescape=True),
                User.email.icontains(query, autoescape=True),
            )
        )
    found = paginate(statement, page, PAGE_SIZE)
    school_ids = managed_school_ids(who)
    status = statuses(found.items)
    rows = [
        UserRow(user, visible_memberships(user, school_ids), status[user.id])
        for user in found.items
    ]
    return Page(items=rows, number=found.number, per_page=found.per_page, total=found.total)


def user_row(who: Principal, user: User) -> UserRow:
    return UserRow(
        user, visible_memberships(user, managed_school_ids(who)), statuses([user])[user.id]
    )


def has_access_elsewhere(who: Principal, user: User) -> bool:
    """Whether ``user`` has roles that ``who`` does not manage (another school, the council)."""
    school_ids = managed_school_ids(who)
    return school_ids is not None and any(m.school_id not in school_ids for m in user.memberships)


# --- inviting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteOptions:
    """What ``who`` may invite people as, and to where."""

    roles: list[Role]
    schools: list[School]
    trusts: list[Trust]
    areas: list[Area]

    def allows(self, invitation: Invitation) -> bool:
        if invitation.role not in self.roles:
            return False
        if invitation.role in SCHOOL_ROLES:
            return invitation.school_id in {school.id for school in self.schools}
        if invitation.role is Role.TRUST_LEAD:
            return invitation.trust_id in {trust.id for trust in self.trusts}
        if invitation.role is Role.CAF_OFFICER:
            return invitation.area_id in {area.id for area in self.areas}
        return True


def invite_options(who: Principal) -> InviteOptions:
    """Council administrators invite anyone, as anything; head teachers and trust leads invite
    staff and head teachers to the schools they lead."""
    school_ids = managed_school_ids(who)
    open_schools = (
        select(School).where(School.status == SchoolStatus.OPEN).order_by(School.name, School.urn)
    )
    if school_ids is None:
        return InviteOptions(
            roles=list(Role),
            schools=list(db.session.scalars(open_schools)),
            trusts=list(db.session.scalars(select(Trust).order_by(Trust.name))),
            areas=list(db.session.scalars(select(Area).order_by(Area.name))),
        )
    return InviteOptions(
        roles=list(SCHOOL_ROLES),
        schools=list(db.session.scalars(open_schools.where(School.id.in_(school_ids)))),
        trusts=[],
        areas=[],
    )


@dataclass(frozen=True)
class Invitation:
    email: str
    display_name: str
    role: Role
    school_id: int | None = None
    trust_id: int | None = None
    area_id: int | None = None

    def __post_init__(self) -> None:
        # Only the organisation the role belongs to, whatever else the form sent.
        object.__setattr__(self, "email", self.email.strip().lower())
        if self.role not in SCHOOL_ROLES:
            object.__setattr__(self, "school_id", None)
        if self.role is not Role.TRUST_LEAD:
            object.__setattr__(self, "trust_id", None)
        if self.role is not Role.CAF_OFFICER:
            object.__setattr__(self, "area_id", None)

    def matches(self, membership: Membership) -> bool:
        return (membership.role, membership.school_id, membership.trust_id, membership.area_id) == (
            self.role,
            self.school_id,
            self.trust_id,
            self.area_id,
        )

    def membership(self) -> Membership:
        get = db.session.get
        return Membership(
            role=self.role,
            school=get(School, self.school_id) if self.school_id else None,
            trust=get(Trust, self.trust_id) if self.trust_id else None,
            area=get(Area, self.area_id) if self.area_id else None,
        )


def invite(who: Principal, invitation: Invitation) -> None:
    """Invite someone to the portal in the role ``invitation`` names.

    A new address gets an account, inactive and with no usable password until they accept,
    and an e-mail with a link to choose one. An address that already has an account gets the
    role added and an e-mail saying so; one invited before and not yet accepted gets a new
    link. The inviter is told the same either way.
    """
    if not invite_options(who).allows(invitation):
        raise Refused("You cannot invite people in that role or to that organisation")
    try:
        _invite(who.user, invitation)
        db.session.commit()
    except IntegrityError:
        # The account was created by someone else a moment ago: now it is an existing one.
        db.session.rollback()
        _invite(who.user, invitation)
        db.session.commit()


def _invite(inviter: User, invitation: Invitation) -> None:
    # A hash of a random secret that is thrown away: nobody can sign in with it. Made whether
    # or not the account exists, so that both take as long.
    unusable = hash_password(secrets.token_urlsafe(TOKEN_BYTES))
    user = find_user_by_email(invitation.email)
    membership = invitation.membership()
    detail = {"role": invitation.role.value, "to": describe_membership(membership)}
    if user is None:
        user = User(
            email=invitation.email,
            display_name=invitation.display_name,
            password_hash=unusable,
            is_active=False,
        )
        user.memberships.append(membership)
        db.session.add(user)
        db.session.flush()
        _send_invitation(user, membership, inviter)
        audit.record("account.invited", actor=inviter, subject=user, **detail)
        return
    added = not any(invitation.matches(m) for m in user.memberships)
    if added:
        user.memberships.append(membership)
        db.session.flush()
        audit.record("account.membership_added", actor=inviter, subject=user, **detail)
    if is_pending(user):
        # Invited before and not accepted: the old links stop, and a new one goes.
        _revoke(user, TokenPurpose.INVITATION)
        _send_invitation(user, membership, inviter)
        audit.record("account.invited", actor=inviter, subject=user, again=True, **detail)
    elif added and user.is_active:
        _send_access_added(user, membership, inviter)


def _service() -> str:
    return str(current_app.config["SERVICE_NAME"])


def _send_invitation(user: User, membership: Membership, inviter: User) -> None:
    hours = int(current_app.config["INVITATION_HOURS"])
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    _add_token(user, TokenPurpose.INVITATION, raw, hours, created_by=inviter)
    queue_email(
        user.email,
        f"You have been invited to the {_service()}",
        f"Dear {user.display_name},\n\n"
        f"{inviter.display_name} has invited you to the {_service()} of "
        f"{current_app.config['COUNCIL_NAME']}, as {describe_membership(membership)}.\n\n"
        "To accept, choose a password here. The link works once, for the next "
        f"{hours} hours:\n\n{external_url('accounts.accept', token=raw)}\n\n"
        "If the link has expired, ask the person who invited you to invite you again.\n\n"
        "If you were not expecting this e-mail, you can ignore it.\n",
    )


def _send_access_added(user: User, membership: Membership, inviter: User) -> None:
    queue_email(
        user.email,
        f"You have a new role in the {_service()}",
        f"Dear {user.display_name},\n\n"
        f"{inviter.display_name} has added a role to your account in the {_service()}: "
        f"{describe_membership(membership)}.\n\n"
        "Sign in as usual, with your e-mail address and password:\n\n"
        f"{external_url('auth.sign_in')}\n",
    )


# --- passwords -------------------------------------------------------------------------------


def accept_invitation(token: AccountToken, password: str) -> User:
    """Set the invited person's password and open their account. Raises LinkUnusable."""
    password_hash = hash_password(password)
    _claim(token)
    user = token.user
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    user.is_active = True
    _revoke(user, TokenPurpose.INVITATION)
    audit.record("account.invitation_accepted", actor=user, subject=user)
    db.session.commit()
    return user


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
        _add_token(user, TokenPurpose.PASSWORD_RESET, raw, hours)
        queue_email(
            user.email,
            f"Reset your password for the {_service()}",
            f"Dear {user.display_name},\n\n"
            f"Someone asked to reset the password of your account in the {_service()}. To "
            f"choose a new password, use this link. It works once, for the next {hours} "
            f"hours:\n\n{external_url('accounts.reset', token=raw)}\n\n"
            "If you did not ask, you can ignore this e-mail: your password has not changed.\n",
        )
        audit.record("account.password_reset_requested", subject=user)
    db.session.commit()


def reset_password(token: AccountToken, password: str) -> User:
    """Set a new password from a reset link, and end every session the account has open.

    Raises LinkUnusable.
    """
    password_hash = hash_password(password)
    _claim(token)
    user = token.user
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
    _revoke(user, TokenPurpose.PASSWORD_RESET)
    queue_email(
        user.email,
        f"Your password for the {_service()} has changed",
        f"Dear {user.display_name},\n\n"
        f"The password of your account in the {_service()} has just been changed, and "
        "everywhere you were signed in has been signed out.\n\n"
        "If you did not change it, reset it now and tell "
        f"{current_app.config['COUNCIL_CONTACT_EMAIL']}:\n\n"
        f"{external_url('accounts.forgot')}\n",
    )


# --- signing in from a new browser while the account is under attack --------------------------


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
    _add_token(user, TokenPurpose.SIGN_IN_UNLOCK, raw, hours)
    queue_email(
        user.email,
        f"Someone has been trying to sign in to your {_service()} account",
        f"Dear {user.display_name},\n\n"
        f"Someone has been trying to sign in to your account in the {_service()}, and has got "
        "the password or security code wrong too many times. To keep your account safe, for "
        f"at least the next {minutes} minutes it can be signed in to only from browsers you "
        "have signed in with before. Those work as usual.\n\n"
        "To sign in from another browser, open this link in it. It works once, for the next "
        f"{hours} hours, and then that browser signs in with your password as usual:\n\n"
        f"{external_url('accounts.unlock', token=raw)}\n\n"
        "If it was not you, nobody has signed in, and you need do nothing more. If your "
        "password is one you use anywhere else, or is easy to guess, change it, and tell "
        f"{current_app.config['COUNCIL_CONTACT_EMAIL']}.\n",
    )
    audit.record("account.unlock_link_sent", subject=user)


def use_unlock_link(token: AccountToken) -> User:
    """The browser that opened the link is known to the account from now on, so it may sign
    in while other browsers are locked out. Raises LinkUnusable."""
    _claim(token)
    user = token.user
    remember_browser(user)
    audit.record("account.unlock_link_used", actor=user, subject=user)
    db.session.commit()
    return user


# --- deactivating and reactivating -----------------------------------------------------------


class Deactivation(enum.Enum):
    DEACTIVATED = "deactivated"
    # The person works elsewhere too: only their roles at the manager's schools were removed.
    REMOVED_FROM_SCHOOLS = "removed"
    INVITATION_WITHDRAWN = "invitation withdrawn"
    ALREADY_INACTIVE = "already inactive"


def deactivate(who: Principal, user: User) -> Deactivation:
    """Stop ``user`` signing in, and end their sessions. Raises Refused.

    A manager whose scope does not cover all of the person's roles removes only the roles
    they manage: another school's access is not theirs to end.
    """
    if user.id == who.user.id:
        raise Refused("You cannot deactivate your own account")
    if has_access_elsewhere(who, user):
        school_ids = managed_school_ids(who) or frozenset()
        removed = [m for m in user.memberships if m.school_id in school_ids]
        for membership in removed:
            user.memberships.remove(membership)
        audit.record(
            "account.membership_removed",
            actor=who.user,
            subject=user,
            removed=[describe_membership(m) for m in removed],
        )
        db.session.commit()
        return Deactivation.REMOVED_FROM_SCHOOLS
    if is_pending(user):
        _revoke(user)
        audit.record("account.invitation_withdrawn", actor=who.user, subject=user)
        db.session.commit()
        return Deactivation.INVITATION_WITHDRAWN
    if not user.is_active:
        return Deactivation.ALREADY_INACTIVE
    user.is_active = False
    user.session_version += 1
    _revoke(user)
    audit.record("account.deactivated", actor=who.user, subject=user)
    db.session.commit()
    return Deactivation.DEACTIVATED


def reactivate(who: Principal, user: User) -> None:
    """Let a deactivated person sign in again, with the password they had. Raises Refused."""
    if user.is_active:
        return
    if is_pending(user):
        raise Refused(
            f"{user.display_name} has not accepted their invitation: invite them again to "
            "send a new link"
        )
    if has_access_elsewhere(who, user):
        raise Refused(
            f"{user.display_name} also has access elsewhere in the portal, so only a council "
            "administrator can reactivate their account"
        )
    user.is_active = True
    audit.record("account.reactivated", actor=who.user, subject=user)
    db.session.commit()


# --- a lost authenticator app ----------------------------------------------------------------


def second_factor_reset_refusal(who: Principal, user: User) -> str | None:
    """Why ``who`` cannot reset ``user``'s authenticator app, or None if they can."""
    if not who.can(Capability.RESET_SECOND_FACTOR):
        return "Only a council administrator can reset an authenticator app"
    if user.id == who.user.id:
        # One administrator cannot take away their own second factor: a stolen session
        # could otherwise remove the one thing the password alone does not give.
        return "You cannot reset your own authenticator app: ask another council administrator"
    if not two_factor.needs_second_factor(user) or user.totp_enabled_at is None:
        return f"{user.display_name} has no authenticator app to reset"
    return None


def reset_second_factor(who: Principal, user: User) -> None:
    """Take away ``user``'s authenticator app and recovery codes (a lost phone). Raises Refused.

    They are signed out everywhere, set up an app again at their next sign-in before they
    can do anything else, and are told by e-mail, in case it was not them who asked.
    """
    refusal = second_factor_reset_refusal(who, user)
    if refusal is not None:
        raise Refused(refusal)
    queue_email(
        user.email,
        f"Your authenticator app for the {_service()} has been reset",
        f"Dear {user.display_name},\n\n"
        f"{who.user.display_name}, an administrator at {current_app.config['COUNCIL_NAME']}, "
        f"has reset the authenticator app of your account in the {_service()}. The codes "
        "from your old app and your recovery codes no longer work, and everywhere you were "
        "signed in has been signed out.\n\n"
        "The next time you sign in, you will be asked to set up your authenticator app "
        f"again:\n\n{external_url('auth.sign_in')}\n\n"
        "If you did not expect this, contact the council straight away at "
        f"{current_app.config['COUNCIL_CONTACT_EMAIL']}.\n",
    )
    # Commits, and the e-mail with it.
    two_factor.reset(user, by=who.user)
