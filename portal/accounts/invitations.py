"""Invitations: offering a role to an address, and the answer to it.

An invitation offers a role to an address (a :class:`MembershipInvitation`) and gives
nothing until the person accepts it: someone new by choosing a password with the link (their
account is made then), someone with an account by signing in and accepting. Inviting writes
the same rows either way, and the school sees only what it typed: nothing here says whether
an address has an account to someone who may not know.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.access import Principal, managed_school_ids
from portal.accounts.mail import external_url, send_email, service_name
from portal.accounts.roles import SCHOOL_ROLES, describe_membership, role_and_place
from portal.accounts.tokens import (
    TOKEN_BYTES,
    LinkUnusable,
    add_token,
    claim,
    end_links,
    opens_by_link,
    revoke,
)
from portal.accounts.users import Refused
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
from portal.passwords import hash_password


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
        end_links(offer)
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


def _send_invitation(offer: MembershipInvitation, inviter: User, account: User | None) -> None:
    hours = int(current_app.config["INVITATION_HOURS"])
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    add_token(None, TokenPurpose.INVITATION, raw, hours, created_by=inviter, invitation=offer)
    link = external_url("accounts.accept", token=raw)
    who_invited = f"{inviter.display_name} ({inviter.email})"
    if account is None or opens_by_link(account):
        send_email(
            offer.email,
            f"You have been invited to the {service_name()}",
            "invitation",
            name=offer.invited_name,
            inviter=who_invited,
            role=describe_membership(offer),
            hours=hours,
            link=link,
        )
        return
    send_email(
        offer.email,
        f"You have been invited to a new role in the {service_name()}",
        "new-role",
        name=account.display_name,
        inviter=who_invited,
        role=describe_membership(offer),
        hours=hours,
        link=link,
    )


# --- answering an invitation -----------------------------------------------------------------


def invitee(token: AccountToken) -> User | None:
    """The account an invitation's link is for: its address's, if it has one yet (a link
    from before invitations waited for an answer names its account)."""
    if token.invitation is None:
        return token.user
    return find_user_by_email(token.invitation.email)


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
class Answering:
    """An invitation's link as its page answers it: what it offers, the account it is for
    (None: someone new), and whether answering it is choosing a password (someone new, or an
    account that only its address's owner can reopen) rather than signing in to accept."""

    offer: Offer
    account: User | None
    needs_password: bool


def answering(token: AccountToken) -> Answering:
    account = invitee(token)
    return Answering(
        offer=offer_of(token),
        account=account,
        needs_password=account is None or opens_by_link(account),
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
    claim(token)
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
        revoke(account, TokenPurpose.INVITATION)
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
    claim(token)
    detail = _take_up(account, offer)
    audit.record("account.invitation_accepted", actor=account, subject=account, **detail)
    db.session.commit()
    return Accepted(role=str(detail["to"]), next_step=role_taken(account))


def decline_invitation(token: AccountToken) -> None:
    """The person invited says no: nothing is added, and the inviter sees "Declined".
    Raises LinkUnusable."""
    claim(token)
    account = invitee(token)
    offer = token.invitation
    if offer is None:
        if account is not None:
            revoke(account, TokenPurpose.INVITATION)
        audit.record("account.invitation_declined", actor=account, subject=account)
    else:
        offer.declined_at = utcnow()
        end_links(offer)
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
