"""The people and invitations a manager sees: the users list, and the top of each one's page.

A school sees of its people only what it needs: name, e-mail address, role there, status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, union_all
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import True_

from portal.access import (
    Capability,
    Principal,
    managed_invitation_scope,
    managed_user_scope,
    visible_memberships,
)
from portal.accounts.tokens import AccountStatus, account_statuses, invitation_statuses
from portal.accounts.unlocks import unlock_refusal
from portal.accounts.users import second_factor_reset_refusal
from portal.auth.service import find_user_by_email
from portal.auth.two_factor import needs_second_factor
from portal.db import db
from portal.models import MembershipInvitation, RoleInOrganisation, User
from portal.pagination import Page, paginate

PAGE_SIZE = 25


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
    people_status = account_statuses(list(users.values()))
    invitation_status = invitation_statuses(list(invitations.values()))
    items = [
        _person_row(who, users[key], people_status[key])
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


def _person_row(who: Principal, user: User, status: AccountStatus) -> UserRow:
    return UserRow(
        name=user.display_name,
        email=user.email,
        roles=visible_memberships(who, user),
        status=status,
        user=user,
        locked_until=user.locked_until if status is AccountStatus.LOCKED else None,
    )


def user_row(who: Principal, user: User) -> UserRow:
    return _person_row(who, user, account_statuses([user])[user.id])


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


@dataclass(frozen=True)
class PersonPage:
    """A person's page, for someone who manages their account: the top of it (as their row
    on the list shows them), and what the manager may do there."""

    row: UserRow
    is_self: bool
    # Council administrators see whether a council account has its authenticator app.
    needs_second_factor: bool
    may_reset_second_factor: bool
    may_unlock: bool


def person_page(who: Principal, user: User) -> PersonPage:
    return PersonPage(
        row=user_row(who, user),
        is_self=user.id == who.person.id,
        needs_second_factor=who.can(Capability.ADMINISTER_ACCOUNTS) and needs_second_factor(user),
        may_reset_second_factor=second_factor_reset_refusal(who, user) is None,
        may_unlock=unlock_refusal(who, user) is None,
    )


@dataclass(frozen=True)
class InvitationPage:
    row: UserRow
    # For a council administrator, who sees everything: the account the address has, if any
    # (never for a school).
    account_id: int | None


def invitation_page(who: Principal, invitation: MembershipInvitation) -> InvitationPage:
    account_id = None
    if who.can(Capability.ADMINISTER_ACCOUNTS):
        account_id = invited_account_id(invitation)
    return InvitationPage(invitation_row(invitation), account_id)
