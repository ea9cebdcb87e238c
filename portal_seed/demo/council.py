"""The demo council's areas, trusts, schools and accounts, and the accounts' states to see to."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.accounts.tokens import add_token
from portal.auth.two_factor import DEMO_TOTP_SECRET
from portal.clock import utcnow
from portal.db import db
from portal.models import (
    Area,
    EstablishmentType,
    Membership,
    MembershipInvitation,
    Phase,
    Role,
    School,
    TokenPurpose,
    Trust,
    User,
)
from portal.passwords import hash_password
from portal_seed.data_files import read_csv, read_json

DEMO_PASSWORD = "portal-demo-2026"

# Each area: its code and name, the register's districts it takes, the first names of its
# contacts and the start of their telephone numbers (demo_areas.json).
AREA_ROWS = read_json("demo_areas.json")
AREAS = [(area["code"], area["name"]) for area in AREA_ROWS]

TRUSTS = [
    (row["group_uid"], row["name"], row["companies_house_number"])
    for row in read_csv("demo_trusts.csv")
]


# name, URN, type, phase, pupils on roll, postcode, area code, trust group UID
SCHOOLS: list[tuple[str, int, EstablishmentType, Phase, int, str, str, str | None]] = [
    (
        row["name"],
        int(row["urn"]),
        EstablishmentType(row["establishment_type"]),
        Phase(row["phase"]),
        int(row["pupils_on_roll"]),
        row["postcode"],
        row["area"],
        row["trust"] or None,
    )
    for row in read_csv("demo_schools.csv")
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: Role
    school_urn: int | None = None
    trust_uid: str | None = None
    area_code: str | None = None


def accounts_of_kind(kind: str) -> list[DemoAccount]:
    """The demo accounts of one kind in ``demo_accounts.csv``: "demo" (those the README and
    the tests sign in as; North has two CAF officers, to share its queue: see support.py),
    "locked", "buyback season" and "locked staff" (each used below)."""
    return [
        DemoAccount(
            row["email"],
            row["display_name"],
            Role(row["role"]),
            school_urn=int(row["school_urn"]) if row["school_urn"] else None,
            trust_uid=row["trust_uid"] or None,
            area_code=row["area_code"] or None,
        )
        for row in read_csv("demo_accounts.csv")
        if row["kind"] == kind
    ]


ACCOUNTS = accounts_of_kind("demo")


# The register's administrative districts each demo area takes (Warwickshire's real ones).
AREA_DISTRICTS: dict[str, list[str]] = {area["code"]: area["districts"] for area in AREA_ROWS}


def add_area(code: str, name: str) -> Area:
    area = db.session.scalars(select(Area).where(Area.code == code)).one_or_none()
    if area is None:
        area = Area(code=code, name=name, districts=AREA_DISTRICTS[code])
        db.session.add(area)
    return area


def add_trust(uid: str, name: str, number: str) -> Trust:
    trust = db.session.scalars(select(Trust).where(Trust.group_uid == uid)).one_or_none()
    if trust is None:
        trust = Trust(group_uid=uid, name=name, companies_house_number=number)
        db.session.add(trust)
    return trust


def add_account(
    account: DemoAccount,
    schools: dict[int, School],
    trusts: dict[str, Trust],
    areas: dict[str, Area],
) -> None:
    user = db.session.scalars(
        select(User).where(func.lower(User.email) == account.email)
    ).one_or_none()
    if user is None:
        user = User(
            email=account.email,
            display_name=account.display_name,
            password_hash=hash_password(DEMO_PASSWORD),
        )
        db.session.add(user)
    if account.role.is_council and user.totp_enabled_at is None:
        user.totp_secret = DEMO_TOTP_SECRET
        user.totp_enabled_at = utcnow()
    school = schools[account.school_urn] if account.school_urn else None
    trust = trusts[account.trust_uid] if account.trust_uid else None
    area = areas[account.area_code] if account.area_code else None
    for membership in user.memberships:
        if (membership.role, membership.school, membership.trust, membership.area) == (
            account.role,
            school,
            trust,
            area,
        ):
            return
    user.memberships.append(Membership(role=account.role, school=school, trust=trust, area=area))


# Someone a stranger has been guessing at: failed sign-ins have locked the browsers the account
# does not know out of it, so the users list shows "Locked" and the council can unlock it.
(LOCKED_ACCOUNT,) = accounts_of_kind("locked")


def lock_account(schools: dict[int, School], account: DemoAccount = LOCKED_ACCOUNT) -> None:
    """The locked demo account, locked again (for the longest a lock lasts) each time the
    demo is seeded, so that the state can be seen whenever the demo is."""
    add_account(account, schools, {}, {})
    db.session.flush()
    user = db.session.scalars(select(User).where(User.email == account.email)).one()
    now = utcnow()
    if user.locked_until is None or user.locked_until <= now:
        config = current_app.config
        user.failed_sign_ins = config["LOCKOUT_THRESHOLD"]
        user.locked_until = now + timedelta(minutes=config["LOCKOUT_MAX_MINUTES"])


# What a head teacher sees to on their home page beyond the buy-back: at Dunchurch Hall, a
# member of staff locked out by failed sign-ins, and an invitation waiting for an answer.
(LOCKED_STAFF,) = accounts_of_kind("locked staff")
WAITING_INVITATION = ("new.teacher@dunchurch.example", "Drew Demo-Teacher", 125614)


def add_people_to_see_to(schools: dict[int, School]) -> None:
    lock_account(schools, LOCKED_STAFF)
    email, name, urn = WAITING_INVITATION
    head = db.session.scalars(select(User).where(User.email == "head@dunchurch.example")).one()
    waiting = db.session.scalars(
        select(MembershipInvitation).where(MembershipInvitation.email == email)
    ).first()
    if waiting is None:
        waiting = MembershipInvitation(
            email=email, invited_name=name, role=Role.SCHOOL_STAFF, school=schools[urn]
        )
        db.session.add(waiting)
        # Its link, as inviting sends (never e-mailed: nobody could follow it).
        add_token(
            None,
            TokenPurpose.INVITATION,
            secrets.token_urlsafe(32),
            current_app.config["INVITATION_HOURS"],
            created_by=head,
            invitation=waiting,
        )
    db.session.commit()
