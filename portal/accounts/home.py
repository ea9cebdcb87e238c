"""What the people of a school (or of the council) ask of whoever manages their accounts, on
that person's home page: an account locked by failed sign-ins, which they may unlock, and
invitations to their schools still waiting for an answer."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from portal.access import (
    Capability,
    Principal,
    managed_invitation_scope,
    managed_school_ids,
    managed_user_scope,
)
from portal.clock import london_time, utcnow
from portal.db import db
from portal.models import MembershipInvitation, User
from portal.pricing import plural
from portal.todo import ToDo, ToDoList

# The locked accounts named on a home page; the rest are counted.
LISTED = 5


def home_tasks(who: Principal) -> ToDoList | None:
    if not who.can(Capability.MANAGE_USERS):
        return None
    items = _locked(who)
    # A council administrator's scope is every invitation in the county, which the schools
    # themselves follow up: only a school's (or trust's) leaders are shown theirs.
    if managed_school_ids(who) is not None:
        items += _invitations(who)
    return ToDoList("People", tuple(items))


def _locked(who: Principal) -> list[ToDo]:
    """Accounts ``who`` may unlock (see access.may_unlock) that failed sign-ins have locked."""
    if not who.can(Capability.UNLOCK_ACCOUNTS):
        return []
    rows = db.session.execute(
        select(User.id, User.display_name, User.locked_until, func.count().over().label("total"))
        .where(
            managed_user_scope(who),
            User.id != who.person.id,
            User.is_active.is_(True),
            User.locked_until > utcnow(),
        )
        .order_by(User.locked_until, User.id)
        .limit(LISTED)
    ).all()
    items = [
        ToDo(
            f"{row.display_name}'s account is locked",
            url_for("accounts.user", user_id=row.id),
            hint=f"Failed sign-ins have locked it until {london_time(row.locked_until)}. "
            "If they ask, you can unlock it from their page.",
            status="Locked",
            colour="orange",
        )
        for row in rows
    ]
    total = rows[0].total if rows else 0
    if total > LISTED:
        items.append(
            ToDo(
                f"{plural(total - LISTED, 'more locked account')}",
                url_for("accounts.users"),
                hint="Each is shown as Locked on the users list.",
            )
        )
    return items


def _invitations(who: Principal) -> list[ToDo]:
    waiting, oldest = db.session.execute(
        select(
            func.count(MembershipInvitation.id), func.min(MembershipInvitation.created_at)
        ).where(managed_invitation_scope(who), MembershipInvitation.declined_at.is_(None))
    ).one()
    if not waiting:
        return []
    return [
        ToDo(
            f"{plural(waiting, 'invitation')} waiting for an answer",
            url_for("accounts.users"),
            hint=f"{'It was' if waiting == 1 else 'The first was'} sent on "
            f"{london_time(oldest, '%-d %B %Y')}. Each person has the role once they accept; an "
            "invitation can be sent again or withdrawn from its page on the users list.",
        )
    ]
