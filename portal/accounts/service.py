"""Accounts: invitations, forgotten and changed passwords, and managing users.

An e-mailed link carries a random token; only its SHA-256 is stored (``AccountToken``), so
the table is no use to someone who reads it. A link works once, until it expires.

Nothing here says whether an address has an account to someone who may not know: asking
for a reset or inviting an address gets the same answer whether or not it has one.

An invitation offers a role to an address (a :class:`MembershipInvitation`) and gives
nothing until the person accepts it: someone new by choosing a password with the link (their
account is made then), someone with an account by signing in and accepting. Inviting writes
the same rows either way, and the school sees only what it typed. A school sees of its people
only what it needs: name, e-mail address, role there, status.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app, url_for
from flask_login import login_user
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    and_,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import True_

from portal import audit
from portal.access import (
    Capability,
    Principal,
    managed_invitation_scope,
    managed_school_ids,
    managed_user_scope,
    may_unlock,
)
from portal.auth import two_factor
from portal.auth.devices import remember_browser
from portal.auth.lockout import clear_failures, is_locked, lift_locks
from portal.auth.service import NextStep, find_user_by_email, password_accepted, role_taken
from portal.db import db, utcnow
from portal.models import (
    AccountToken,
    Area,
    Membership,
    MembershipInvitation,
    Role,
    RoleInOrganisation,
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
    if purpose is TokenPurpose.INVITATION and not _inactive_without_password(user):
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


def _end_links(offer: MembershipInvitation) -> None:
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


def external_url(endpoint: str, **values: Any) -> str:
    """A full link for an e-mail: under PORTAL_URL when set, else from this request's host."""
    base = current_app.config.get("PORTAL_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


# --- the state of an account -----------------------------------------------------------------


class AccountStatus(enum.StrEnum):
    ACTIVE = "Active"
    # Active, but failed sign-ins have locked out the browsers it does not know, for now.
    LOCKED = "Locked"
    INVITED = "Invited"
    INVITATION_EXPIRED = "Invitation expired"
    DECLINED = "Declined"
    DEACTIVATED = "Deactivated"


def _inactive_without_password(user: User) -> bool:
    return not user.is_active and user.password_changed_at is None


def never_opened(user: User) -> bool:
    """Made by an invitation sent before invitations waited for an answer, and never taken
    up: not active, no password ever chosen, and invited. (The demo's accounts have no
    password date either, but were not invited; accounts are made on accepting now.)"""
    return _inactive_without_password(user) and bool(_invited([user.id], live_only=False))


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
    unopened = [user.id for user in users if _inactive_without_password(user)]
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


def describe_membership(membership: RoleInOrganisation) -> str:
    """'Head teacher, Oakfield Primary School', 'CAF officer for the North area'."""
    if membership.area is not None:
        return f"{membership.role.label} for the {membership.area.name} area"
    organisation = membership.school or membership.trust
    if organisation is not None:
        return f"{membership.role.label}, {organisation.name}"
    return f"{membership.role.label}, {current_app.config['COUNCIL_NAME']}"


def role_and_place(
    held: RoleInOrganisation | Invitation,
) -> tuple[Role, int | None, int | None, int | None]:
    """A role and where it is, to tell whether two are the same."""
    return (held.role, held.school_id, held.trust_id, held.area_id)


# --- users a manager may see -----------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """A line of the users list, and the top of its page: a person with a role at the
    manager's schools, or an invitation waiting for an answer.

    An invitation's row holds only what the inviter typed (name, address, role) and its
    status, never its account: whether the address had one is not the school's to know.
    """

    name: str
    email: str
    # Only the roles the manager manages: a head teacher is not told where else someone works.
    roles: Sequence[RoleInOrganisation]
    status: AccountStatus
    # A person's row: their account (for what a council administrator sees of it).
    user: User | None = None
    invitation_id: int | None = None
    # Until when a locked account is locked (the browsers it does not know).
    locked_until: datetime | None = None


def visible_memberships(user: User, school_ids: frozenset[int] | None) -> list[Membership]:
    return [m for m in user.memberships if school_ids is None or m.school_id in school_ids]


def user_page(who: Principal, *, query: str = "", page: int = 1) -> Page[UserRow]:
    """The people and invitations ``who`` manages, by name (an invitation's the one typed),
    filtered by name or e-mail address, one page of them.

    One list of two kinds, told apart by the sign of its key: an account's id, or an
    invitation's negated. In name order, it is read from the accounts' name index merged
    with the (few) invitations, not sorted whole.
    """
    people = _where(
        select(User.id.label("key"), User.display_name.label("name")), managed_user_scope(who)
    )
    invited = _where(
        select((-MembershipInvitation.id).label("key"), MembershipInvitation.invited_name),
        managed_invitation_scope(who),
    )
    if query:
        # What people type is text to find, not a pattern: autoescape makes % and _ literal.
        people = people.where(
            or_(
                User.display_name.icontains(query, autoescape=True),
                User.email.icontains(query, autoescape=True),
            )
        )
        invited = invited.where(
            or_(
                MembershipInvitation.invited_name.icontains(query, autoescape=True),
                MembershipInvitation.email.icontains(query, autoescape=True),
            )
        )
    rows = union_all(people, invited).subquery()
    found = paginate(
        select(rows.c.key).order_by(func.lower(rows.c.name), rows.c.key), page, PAGE_SIZE
    )
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User)
            .options(selectinload(User.memberships))
            .where(User.id.in_([key for key in found.items if key > 0]))
        )
    }
    invitations = {
        invitation.id: invitation
        for invitation in db.session.scalars(
            select(MembershipInvitation).where(
                MembershipInvitation.id.in_([-key for key in found.items if key < 0])
            )
        )
    }
    school_ids = managed_school_ids(who)
    people_status = account_statuses(list(users.values()))
    invitation_status = invitation_statuses(list(invitations.values()))
    items = [
        _person_row(users[key], school_ids, people_status[key])
        if key > 0
        else invitation_row(invitations[-key], invitation_status[-key])
        for key in found.items
    ]
    return Page(items=items, number=found.number, per_page=found.per_page, total=found.total)


def _where(statement: Select[Any], condition: ColumnElement[bool]) -> Select[Any]:
    """``statement`` where ``condition`` holds. An administrator's scope is everything, a
    literal TRUE, and is left out: with it on a branch of the union, PostgreSQL sorts every
    account instead of reading them in the order of their name index."""
    return statement if isinstance(condition, True_) else statement.where(condition)


def _person_row(user: User, school_ids: frozenset[int] | None, status: AccountStatus) -> UserRow:
    return UserRow(
        name=user.display_name,
        email=user.email,
        roles=visible_memberships(user, school_ids),
        status=status,
        user=user,
        locked_until=user.locked_until if status is AccountStatus.LOCKED else None,
    )


def user_row(who: Principal, user: User) -> UserRow:
    return _person_row(user, managed_school_ids(who), account_statuses([user])[user.id])


def invitation_row(
    invitation: MembershipInvitation, status: AccountStatus | None = None
) -> UserRow:
    return UserRow(
        name=invitation.invited_name,
        email=invitation.email,
        roles=[invitation],
        status=status or invitation_statuses([invitation])[invitation.id],
        invitation_id=invitation.id,
    )


def invited_account_id(invitation: MembershipInvitation) -> int | None:
    """The account the invitation's address has, if any: for a council administrator, who
    sees everything (never for a school)."""
    account = find_user_by_email(invitation.email)
    return account.id if account is not None else None


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
    """What the invite form asked for: an address, the name typed for it, a role and where."""

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

    def matches(self, held: RoleInOrganisation) -> bool:
        return role_and_place(held) == role_and_place(self)

    def offer(self) -> MembershipInvitation:
        get = db.session.get
        return MembershipInvitation(
            email=self.email,
            role=self.role,
            school_id=self.school_id,
            trust_id=self.trust_id,
            area_id=self.area_id,
            school=get(School, self.school_id) if self.school_id else None,
            trust=get(Trust, self.trust_id) if self.trust_id else None,
            area=get(Area, self.area_id) if self.area_id else None,
            invited_name=self.display_name,
        )


def invite(who: Principal, invitation: Invitation) -> None:
    """Offer the address the role ``invitation`` names, by e-mail; it is theirs once they
    accept.

    The same rows are written whether or not the address has an account (the invitation,
    with the name typed, and its link), and the inviter is told the same. Only the e-mail
    differs, which only the address's owner reads: someone new gets a link to choose a
    password, someone with an account a link to sign in and accept or decline. Inviting
    again sends a new link, and the old ones stop.
    """
    if not invite_options(who).allows(invitation):
        raise Refused("You cannot invite people in that role or to that organisation")
    account = find_user_by_email(invitation.email)
    if account is not None and any(invitation.matches(m) for m in account.memberships):
        # The role is theirs already, so they are on the inviter's list already: nothing to
        # offer, and nothing to tell the inviter that the list does not show.
        return
    offer = db.session.scalars(
        select(MembershipInvitation).where(
            MembershipInvitation.email == invitation.email,
            MembershipInvitation.role == invitation.role,
            _same_place(invitation),
        )
    ).first()
    again = offer is not None
    if offer is None:
        offer = invitation.offer()
        db.session.add(offer)
    else:
        # Invited to this before: the old links stop, and the answer waited for is a new one.
        _end_links(offer)
        offer.invited_name = invitation.display_name
        offer.declined_at = None
    db.session.flush()
    _send_invitation(offer, who.user, account)
    audit.record(
        "account.invited",
        actor=who.user,
        subject=offer,
        email=offer.email,
        role=offer.role.value,
        to=describe_membership(offer),
        **({"again": True} if again else {}),
    )
    db.session.commit()


def _same_place(invitation: Invitation) -> ColumnElement[bool]:
    """An invitation's organisation (each of school, trust and area, or none) as a condition."""
    columns = (
        (MembershipInvitation.school_id, invitation.school_id),
        (MembershipInvitation.trust_id, invitation.trust_id),
        (MembershipInvitation.area_id, invitation.area_id),
    )
    return and_(*(column == value if value else column.is_(None) for column, value in columns))


def _service() -> str:
    return str(current_app.config["SERVICE_NAME"])


def _send_invitation(offer: MembershipInvitation, inviter: User, account: User | None) -> None:
    hours = int(current_app.config["INVITATION_HOURS"])
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    _add_token(None, TokenPurpose.INVITATION, raw, hours, created_by=inviter, invitation=offer)
    link = external_url("accounts.accept", token=raw)
    who_invited = f"{inviter.display_name} ({inviter.email})"
    if account is None or opens_by_link(account):
        queue_email(
            offer.email,
            f"You have been invited to the {_service()}",
            f"Dear {offer.invited_name},\n\n"
            f"{who_invited} has invited you to the {_service()} of "
            f"{current_app.config['COUNCIL_NAME']}, as {describe_membership(offer)}.\n\n"
            "To accept, choose a password here. The link works once, for the next "
            f"{hours} hours:\n\n{link}\n\n"
            "If you do not want to join, you can decline on the same page. If the link has "
            "expired, ask the person who invited you to invite you again.\n\n"
            "If you were not expecting this e-mail, you can ignore it.\n",
        )
        return
    queue_email(
        offer.email,
        f"You have been invited to a new role in the {_service()}",
        f"Dear {account.display_name},\n\n"
        f"{who_invited} has invited you to a new role in the {_service()}: "
        f"{describe_membership(offer)}.\n\n"
        "Nothing changes unless you accept. To accept or decline, follow this link and sign "
        "in as usual, with this e-mail address. The link works once, for the next "
        f"{hours} hours:\n\n{link}\n\n"
        "If you were not expecting this e-mail, you can ignore it: you will not have the role.\n",
    )


# --- answering an invitation -----------------------------------------------------------------


def invitee(token: AccountToken) -> User | None:
    """The account an invitation's link is for: its address's, if it has one yet (a link
    from before invitations waited for an answer names its account)."""
    if token.invitation is None:
        return token.user
    return find_user_by_email(token.invitation.email)


def needs_password(token: AccountToken) -> bool:
    """Whether answering this invitation's link is choosing a password (someone new, or an
    account that only its address's owner can reopen), rather than signing in to accept."""
    account = invitee(token)
    return account is None or opens_by_link(account)


@dataclass(frozen=True)
class Offer:
    """What an invitation's link offers, as its page says it: who invited whom, to what."""

    inviter: str
    email: str
    description: str | None


def offer_of(token: AccountToken) -> Offer:
    inviter = token.created_by
    offer = token.invitation
    account = token.user
    return Offer(
        inviter=f"{inviter.display_name} ({inviter.email})" if inviter is not None else "",
        email=offer.email if offer is not None else account.email if account else "",
        description=describe_membership(offer) if offer is not None else None,
    )


@dataclass(frozen=True)
class Accepted:
    """An invitation accepted: the role it gave (described, if it named one), and where its
    owner goes next to be signed in with it."""

    role: str | None
    next_step: NextStep


def accept_invitation(token: AccountToken, password: str) -> Accepted:
    """Open the invited person's account with the password they chose (making it, for
    someone new), with the role the link offered, and sign them in as the right password at
    sign-in would (portal/auth/service.py): a council role's second factor still to give.
    Raises LinkUnusable."""
    password_hash = hash_password(password)
    _claim(token)
    offer = token.invitation
    account = invitee(token)
    if account is None:
        assert offer is not None, "a link from before names its account"
        account = User(
            email=offer.email, display_name=offer.invited_name, password_hash=password_hash
        )
        db.session.add(account)
    else:
        account.password_hash = password_hash
        # An account closed and now reopened: whatever was signed in to it before stays out.
        account.session_version += 1
        # Links from before invitations waited for an answer open this account: done now.
        _revoke(account, TokenPurpose.INVITATION)
    account.password_changed_at = utcnow()
    account.is_active = True
    try:
        db.session.flush()
    except IntegrityError:
        # The address's account was made a moment ago, by another of its invitations: this
        # link, unused still, now asks its owner to sign in.
        db.session.rollback()
        raise LinkUnusable from None
    detail = _take_up(account, offer) if offer is not None else {}
    audit.record("account.invitation_accepted", actor=account, subject=account, **detail)
    db.session.commit()
    return Accepted(role=detail.get("to"), next_step=password_accepted(account))


def accept_role(token: AccountToken, account: User) -> Accepted:
    """``account``'s owner, signed in, takes the role the link offered. Their session starts
    afresh with it, and asks for a second factor if the role needs one this sign-in did not
    give (portal/auth/service.py). Raises LinkUnusable."""
    offer = token.invitation
    if offer is None:
        # Only a link that opens its account has none, and that account is open already.
        raise LinkUnusable
    _claim(token)
    detail = _take_up(account, offer)
    audit.record("account.invitation_accepted", actor=account, subject=account, **detail)
    db.session.commit()
    return Accepted(role=str(detail["to"]), next_step=role_taken(account))


def decline_invitation(token: AccountToken) -> None:
    """The person invited says no: nothing is added, and the inviter sees "Declined".
    Raises LinkUnusable."""
    _claim(token)
    account = invitee(token)
    offer = token.invitation
    if offer is None:
        if account is not None:
            _revoke(account, TokenPurpose.INVITATION)
        audit.record("account.invitation_declined", actor=account, subject=account)
    else:
        offer.declined_at = utcnow()
        _end_links(offer)
        audit.record(
            "account.invitation_declined", actor=account, subject=offer, **_described(offer)
        )
    db.session.commit()


def _described(offer: MembershipInvitation) -> dict[str, Any]:
    return {"email": offer.email, "role": offer.role.value, "to": describe_membership(offer)}


def _take_up(account: User, offer: MembershipInvitation) -> dict[str, Any]:
    """The offered role becomes the account's membership, and the invitation (with its
    links) is gone."""
    detail = {"invitation": offer.id, **_described(offer)}
    if not any(role_and_place(m) == role_and_place(offer) for m in account.memberships):
        account.memberships.append(
            Membership(
                role=offer.role,
                school_id=offer.school_id,
                trust_id=offer.trust_id,
                area_id=offer.area_id,
            )
        )
    db.session.delete(offer)
    return detail


def withdraw_invitation(who: Principal, offer: MembershipInvitation) -> None:
    """Take an invitation back (waiting, expired or declined): its links stop working and it
    leaves the list."""
    audit.record("account.invitation_withdrawn", actor=who.user, subject=offer, **_described(offer))
    db.session.delete(offer)
    db.session.commit()


# --- passwords -------------------------------------------------------------------------------


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
    queue_email(
        user.email,
        f"Your account in the {_service()} has been unlocked",
        f"Dear {user.display_name},\n\n"
        f"Someone got the password or security code for your account in the {_service()} "
        "wrong too many times, so it could be signed in to only from browsers you had signed "
        f"in with before. {who.person.display_name} ({who.person.email}) has now unlocked it: you "
        "can sign in from any browser again, as usual.\n\n"
        f"{external_url('auth.sign_in')}\n\n"
        "If you did not ask for this, or the failed attempts were not yours, someone else may "
        "know or be guessing your password. Change it now, and tell "
        f"{current_app.config['COUNCIL_CONTACT_EMAIL']}:\n\n"
        f"{external_url('accounts.forgot')}\n",
    )
    audit.record(
        "account.unlocked",
        actor=who.user,
        subject=user,
        locked_until=locked_until.isoformat() if locked_until is not None else None,
    )
    db.session.commit()


# --- removing, deactivating and reactivating ------------------------------------------------


def remove_from_schools(who: Principal, user: User) -> None:
    """Take away ``user``'s roles at the schools ``who`` leads. Raises Refused.

    The school's one action on a person, whether or not they work anywhere else: that is not
    the school's to know. An account left with no role at all is closed, and signed out (a
    new invitation, accepted, reopens it).
    """
    if user.id == who.person.id:
        raise Refused("You cannot remove yourself from your schools")
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
    if not user.memberships:
        # Of no use to anyone now: closed and signed out, and its links end.
        if user.is_active:
            user.is_active = False
            user.session_version += 1
            audit.record("account.deactivated", actor=who.user, subject=user, no_roles_left=True)
        _revoke(user)
    db.session.commit()


class Deactivation(enum.Enum):
    DEACTIVATED = "deactivated"
    INVITATION_WITHDRAWN = "invitation withdrawn"
    ALREADY_INACTIVE = "already inactive"


def deactivate(who: Principal, user: User) -> Deactivation:
    """Stop ``user`` signing in, and end their sessions: a council administrator's action,
    for all of the account. Raises Refused."""
    if user.id == who.person.id:
        raise Refused("You cannot deactivate your own account")
    if never_opened(user):
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
    if never_opened(user):
        raise Refused(
            f"{user.display_name} has not accepted their invitation: invite them again to "
            "send a new link"
        )
    user.is_active = True
    audit.record("account.reactivated", actor=who.user, subject=user)
    db.session.commit()


# --- a lost authenticator app ----------------------------------------------------------------


def second_factor_reset_refusal(who: Principal, user: User) -> str | None:
    """Why ``who`` cannot reset ``user``'s authenticator app, or None if they can."""
    if not who.can(Capability.RESET_SECOND_FACTOR):
        return "Only a council administrator can reset an authenticator app"
    if user.id == who.person.id:
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
        f"{who.person.display_name}, an administrator at {current_app.config['COUNCIL_NAME']}, "
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
