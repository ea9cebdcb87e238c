"""Who the simulated users sign in as: real accounts, read from the benchmark's database.

The driver (bench/run.py) writes them to a file the locustfile reads; without the file the
locustfile falls back to the demo council's accounts (portal_seed/demo/). Only accounts the
harness can really sign in as are taken: active, not locked, with the demo password, and for
council staff the demo authenticator secret. So the file holds nothing that is not already in
the README, and the harness cannot sign in to a database whose accounts are real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from portal import clock
from portal.db import db
from portal.models import BuybackWindow, EstablishmentType, Membership, Role, School, User
from portal.passwords import verify_password
from portal_seed.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET

# The roles whose journeys the load test runs (a publisher's journey suits an administrator
# too, who also edits services: the demo's only other council account that does).
JOURNEY_ROLES = (Role.SCHOOL_STAFF, Role.HEAD_TEACHER, Role.CAF_OFFICER, Role.PUBLISHER)
EDITORS = (Role.PUBLISHER, Role.LA_ADMIN)
# Enough for the mixed run's 50 people (each takes the next account of its role); the driver
# asks for more when its capacity steps need them.
PER_ROLE = 40
# Each role's share of the simulated people on a morning before the buy-back deadline: most
# are school staff and head teachers; a few officers work the queue, fewer publishers edit.
WEIGHTS = {"school_staff": 8, "head_teacher": 6, "caf_officer": 3, "publisher": 1}


def _usable(user: User, moment: Any, known_hashes: dict[str, bool]) -> bool:
    if not user.is_active or (user.locked_until is not None and user.locked_until > moment):
        return False
    if user.password_hash not in known_hashes:
        # Generated accounts share one hash of the demo password: each hash is checked once.
        known_hashes[user.password_hash] = verify_password(user.password_hash, DEMO_PASSWORD)
    return known_hashes[user.password_hash]


def _entry(user: User, council: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"email": user.email, "password": DEMO_PASSWORD}
    if council:
        entry["totp_secret"] = DEMO_TOTP_SECRET
    return entry


def find_accounts(per_role: int = PER_ROLE) -> dict[str, list[dict[str, Any]]]:
    """Up to ``per_role`` usable accounts for each journey's role (in an app context).

    Head teachers are those of one school whose buy-back window is open now, each of a
    different school, so that their drafts do not collide; staff come from different schools
    too, so that their contacts differ.
    """
    moment = clock.now()
    known_hashes: dict[str, bool] = {}
    open_windows = [
        w for w in db.session.scalars(select(BuybackWindow)) if w.state(moment) == "open"
    ]
    # The kinds of school some open window is for (asked of the window's own rule, with a
    # school of each kind that is never saved): a head of one of them can choose now.
    choosing = [
        kind
        for kind in EstablishmentType
        if any(w.cohort.includes(School(establishment_type=kind)) for w in open_windows)
    ]
    found: dict[str, list[dict[str, Any]]] = {role.value: [] for role in JOURNEY_ROLES}
    # People of one school only: their home page names it, and buy-back goes straight to it.
    one_school = select(Membership.user_id).group_by(Membership.user_id).having(func.count() == 1)

    for role in (Role.SCHOOL_STAFF, Role.HEAD_TEACHER):
        query = (
            select(Membership.user_id, Membership.school_id)
            .join(School, School.id == Membership.school_id)
            .where(Membership.role == role, Membership.user_id.in_(one_school))
            .order_by(Membership.user_id)
            # Ids only, and a bounded number: at scale there are tens of thousands.
            .limit(per_role * 25)
        )
        if role is Role.HEAD_TEACHER:
            query = query.where(School.establishment_type.in_(choosing))
        first_of_school: dict[int, int] = {}
        for user_id, school_id in db.session.execute(query):
            first_of_school.setdefault(school_id, user_id)
        users = db.session.scalars(
            select(User).where(User.id.in_(first_of_school.values())).order_by(User.id)
        )
        for user in users:
            if len(found[role.value]) >= per_role:
                break
            if _usable(user, moment, known_hashes):
                found[role.value].append(_entry(user, council=False))

    for role, roles in ((Role.CAF_OFFICER, (Role.CAF_OFFICER,)), (Role.PUBLISHER, EDITORS)):
        users = db.session.scalars(
            select(User)
            .where(
                User.id.in_(select(Membership.user_id).where(Membership.role.in_(roles))),
                User.totp_secret == DEMO_TOTP_SECRET,
                User.totp_enabled_at.is_not(None),
                or_(User.locked_until.is_(None), User.locked_until <= moment),
            )
            .order_by(User.id)
            .limit(per_role * 5)
        )
        for user in users:
            if len(found[role.value]) >= per_role:
                break
            if _usable(user, moment, known_hashes):
                found[role.value].append(_entry(user, council=True))
    return found


def demo_accounts() -> dict[str, list[dict[str, Any]]]:
    """The demo council's accounts by journey, for a locustfile run without the file."""
    found: dict[str, list[dict[str, Any]]] = {role.value: [] for role in JOURNEY_ROLES}
    for account in ACCOUNTS:
        role = Role.PUBLISHER if account.role in EDITORS else account.role
        if role.value in found:
            entry: dict[str, Any] = {"email": account.email, "password": DEMO_PASSWORD}
            if account.role.is_council:
                entry["totp_secret"] = DEMO_TOTP_SECRET
            found[role.value].append(entry)
    return found


def write_accounts(path: Path, accounts: dict[str, list[dict[str, Any]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(accounts, indent=1) + "\n")


def read_accounts(path: Path | None) -> dict[str, list[dict[str, Any]]]:
    """The accounts in ``path``; the demo's for a role the file has none for, or no file."""
    fallback = demo_accounts()
    if path is None or not path.exists():
        return fallback
    stored = json.loads(path.read_text())
    return {role: stored.get(role) or fallback[role] for role in fallback}
