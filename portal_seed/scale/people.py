"""People: a head teacher and staff for every school, trust leads, CAF officers and
publishers, each with one membership."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from portal.models import Membership, Role, User
from portal.passwords import hash_password
from portal_seed.data_files import read_json
from portal_seed.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from portal_seed.scale.bulk import Run

_NAMES = read_json("scale_names.json")
FIRST_NAMES: list[str] = _NAMES["first_names"]
SURNAMES: list[str] = _NAMES["surnames"]


def invented_name(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    while last == first:  # James James
        last = rng.choice(SURNAMES)
    return first, last


def local_part(first: str, last: str) -> str:
    return f"{first}.{last}".lower()


def add_people(run: Run) -> None:
    rng = run.rng
    password_hash = hash_password(DEMO_PASSWORD)
    per_area = Counter(school.area_code for school in run.schools)
    officers_per_area = {code: max(1, round(count / 100)) for code, count in per_area.items()}
    leads = sum(1 + (trust.size >= 10) for trust in run.trusts)
    publishers = max(1, round(run.plan.services / 25))
    fixed = len(run.schools) + leads + sum(officers_per_area.values()) + publishers
    staff = _shares(
        max(run.plan.users - fixed, len(run.schools)),
        [school.pupils**0.75 + 1 for school in run.schools],
    )
    next_user = run.next_id(User)
    users: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []

    def person(email: str, name: str, role: Role, **organisation: int) -> int:
        user_id = next_user + len(users)
        created = run.today - timedelta(days=rng.randint(30, 1_100))
        council = role.is_council
        signed_in = run.today - timedelta(minutes=rng.randint(60, 120 * 24 * 60))
        users.append(
            {
                "id": user_id,
                "email": email,
                "display_name": name,
                "password_hash": password_hash,
                # A few people have left and had their accounts closed.
                "is_active": council or role is Role.HEAD_TEACHER or rng.random() > 0.02,
                "session_version": 1,
                "created_at": created,
                "last_signed_in_at": signed_in if rng.random() < 0.75 else None,
                "password_changed_at": created,
                "failed_sign_ins": 0,
                # Council staff sign in with a second factor: the demo's shared secret.
                "totp_secret": DEMO_TOTP_SECRET if council else None,
                "totp_enabled_at": created if council else None,
                "recovery_codes": [],
            }
        )
        memberships.append(
            {"user_id": user_id, "role": role, "school_id": None, "trust_id": None, "area_id": None}
            | organisation
        )
        return user_id

    for school, count in zip(run.schools, staff, strict=True):
        domain = f"{school.urn}.schools.example"
        first, last = invented_name(rng)
        people = [
            person(f"head@{domain}", f"{first} {last}", Role.HEAD_TEACHER, school_id=school.id)
        ]
        taken: Counter[str] = Counter()
        for _ in range(count):
            first, last = invented_name(rng)
            local = local_part(first, last)
            taken[local] += 1
            if taken[local] > 1:
                local += str(taken[local])
            people.append(
                person(
                    f"{local}@{domain}", f"{first} {last}", Role.SCHOOL_STAFF, school_id=school.id
                )
            )
        run.school_people[school.id] = people
    for trust in run.trusts:
        domain = f"{trust.group_uid.lower()}.trusts.example"
        run.trust_leads[trust.id] = []
        for number in range(1, 2 + (trust.size >= 10)):
            first, last = invented_name(rng)
            run.trust_leads[trust.id].append(
                person(
                    f"lead{number}@{domain}", f"{first} {last}", Role.TRUST_LEAD, trust_id=trust.id
                )
            )
    generated_officers: list[tuple[str, int, str, str]] = []
    for code, count in officers_per_area.items():
        for number in range(1, count + 1):
            first, last = invented_name(rng)
            email = f"caf.{code}.{number}@council.example"
            user_id = person(email, f"{first} {last}", Role.CAF_OFFICER, area_id=run.areas[code].id)
            generated_officers.append((code, user_id, f"{first} {last}", email))
    for number in range(1, publishers + 1):
        first, last = invented_name(rng)
        run.publishers.append(
            person(f"publisher.{number}@council.example", f"{first} {last}", Role.PUBLISHER)
        )
    count_users = run.insert(User, users)
    count_memberships = run.insert(Membership, memberships)
    for code, user_id, name, email in generated_officers:
        run.officers.setdefault(run.areas[code].id, []).append((user_id, name, email))
    run.done("people", users=count_users, memberships=count_memberships)


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, every share at least 1, adding up exactly."""
    base = [1] * len(weights)
    left = total - len(weights)
    scale = sum(weights)
    exact = [left * w / scale for w in weights]
    shares = [b + math.floor(e) for b, e in zip(base, exact, strict=True)]
    remainders = sorted(range(len(weights)), key=lambda i: exact[i] - math.floor(exact[i]))
    for index in remainders[len(remainders) - (total - sum(shares)) :]:
        shares[index] += 1
    return shares
