"""What a manager does to someone's account: a school's leaders remove a person from their
schools; a council administrator deactivates, reactivates, or resets a lost authenticator
app."""

from __future__ import annotations

import enum

from portal import audit
from portal.access import Capability, Principal, removable_memberships
from portal.accounts.mail import external_url, send_email, service_name
from portal.accounts.roles import describe_membership
from portal.accounts.tokens import never_opened, revoke
from portal.auth import two_factor
from portal.db import db
from portal.models import User


class Refused(Exception):
    """The change is not this person's to make; the message says why, for the page."""


def remove_from_schools(who: Principal, user: User) -> None:
    """Take away ``user``'s roles at the schools ``who`` leads. Raises Refused.

    The school's one action on a person, whether or not they work anywhere else: that is not
    the school's to know. An account left with no role at all is closed, and signed out (a
    new invitation, accepted, reopens it).
    """
    if user.id == who.person.id:
        raise Refused("You cannot remove yourself from your schools")
    removed = removable_memberships(who, user)
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
        revoke(user)
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
        revoke(user)
        audit.record("account.invitation_withdrawn", actor=who.user, subject=user)
        db.session.commit()
        return Deactivation.INVITATION_WITHDRAWN
    if not user.is_active:
        return Deactivation.ALREADY_INACTIVE
    user.is_active = False
    user.session_version += 1
    revoke(user)
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
    send_email(
        user.email,
        f"Your authenticator app for the {service_name()} has been reset",
        "second-factor-reset",
        user=user,
        by=who.person,
        sign_in_link=external_url("auth.sign_in"),
    )
    # Commits, and the e-mail with it.
    two_factor.reset(user, by=who.user)
