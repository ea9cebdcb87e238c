"""The register's work on the database: the snapshot a plan reads, applying a plan, and
areas by district. Every change is audited in the transaction that makes it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from portal import audit
from portal.buyback.closed_figures import keep_closed_windows
from portal.db import db
from portal.models import Area, Membership, School, SchoolStatus, Trust, User
from portal.register.plan import FIELD_LABELS, KnownSchool, Plan, Snapshot
from portal.register.values import district_key


def council_la_codes() -> frozenset[str]:
    setting = current_app.config["COUNCIL_LA_CODES"]
    codes = setting.split(",") if isinstance(setting, str) else setting
    return frozenset(code.strip() for code in codes if code.strip())


def load_snapshot(la_codes: frozenset[str] | None = None) -> Snapshot:
    session = db.session
    members = dict(
        session.execute(
            select(Membership.school_id, func.count(Membership.id))
            .where(Membership.school_id.is_not(None))
            .group_by(Membership.school_id)
        ).all()
    )
    rows = session.execute(select(School, Trust.group_uid).outerjoin(School.trust)).all()
    schools = {
        school.urn: KnownSchool(
            id=school.id,
            urn=school.urn,
            name=school.name,
            establishment_type=school.establishment_type,
            phase=school.phase,
            pupils_on_roll=school.pupils_on_roll,
            postcode=school.postcode,
            status=school.status,
            closed_on=school.closed_on,
            la_code=school.la_code,
            district=school.district,
            area_id=school.area_id,
            trust_uid=uid,
            members=members.get(school.id, 0),
        )
        for school, uid in rows
    }
    areas = list(session.scalars(select(Area).order_by(Area.name)))
    trusts = session.execute(
        select(Trust.group_uid, Trust.name).where(Trust.group_uid.is_not(None))
    )
    return Snapshot(
        schools=schools,
        area_names={area.id: area.name for area in areas},
        area_by_district=district_map(areas),
        trusts={uid: name for uid, name in trusts if uid},
        la_codes=la_codes if la_codes is not None else council_la_codes(),
    )


def district_map(areas: Iterable[Area]) -> dict[str, int]:
    return {district_key(d): area.id for area in areas for d in area.districts}


class Describer:
    """Values as a person reads them in a report or the audit log."""

    def __init__(self, snapshot: Snapshot, plan: Plan) -> None:
        self.areas = snapshot.area_names
        self.trusts = {**snapshot.trusts, **plan.new_trusts}
        self.trusts.update({uid: new for uid, (_old, new) in plan.renamed_trusts.items()})

    def __call__(self, key: str, value: Any) -> str | None:
        if value is None:
            return None
        if key == "area_id":
            return self.areas.get(value, f"area {value}")
        if key == "trust_uid":
            return f"{self.trusts.get(value, value)} ({value})"
        if isinstance(value, date):
            return value.strftime("%-d %B %Y")
        return str(value.value if hasattr(value, "value") else value)

    def changes(self, fields: dict[str, tuple[Any, Any]]) -> dict[str, list[str | None]]:
        return {
            FIELD_LABELS[key]: [self(key, old), self(key, new)]
            for key, (old, new) in fields.items()
        }


def apply_plan(plan: Plan, snapshot: Snapshot, actor: User | None, **context: Any) -> None:
    """Make the plan's changes in the session, audited; the caller commits (or rolls back)
    once, so that an import is applied whole or not at all."""
    session = db.session
    # A closed buy-back window's figures must not move with the register: kept first.
    keep_closed_windows()
    describe = Describer(snapshot, plan)
    trusts = {
        trust.group_uid: trust
        for trust in session.scalars(select(Trust).where(Trust.group_uid.is_not(None)))
    }
    for uid, name in plan.new_trusts.items():
        trusts[uid] = Trust(group_uid=uid, name=name)
        session.add(trusts[uid])
    for uid, (_old, new) in plan.renamed_trusts.items():
        trusts[uid].name = new
    session.flush()
    for uid, name in plan.new_trusts.items():
        audit.record("register.trust_added", actor=actor, subject=trusts[uid], name=name, **context)
    for uid, (old, new) in plan.renamed_trusts.items():
        audit.record(
            "register.trust_renamed",
            actor=actor,
            subject=trusts[uid],
            changes={"Name": [old, new]},
            **context,
        )

    added: dict[int, School] = {}
    for addition in plan.additions:
        values = dict(addition.values)
        uid = values.pop("trust_uid")
        added[addition.urn] = School(
            urn=addition.urn, trust=trusts.get(uid) if uid else None, **values
        )
        session.add(added[addition.urn])
    session.flush()
    for addition in plan.additions:
        audit.record(
            "register.school_added",
            actor=actor,
            subject=added[addition.urn],
            urn=addition.urn,
            values={
                FIELD_LABELS[k]: describe(k, v) for k, v in addition.values.items() if v is not None
            },
            **context,
        )

    ids = {c.school_id for c in plan.changes} | {c.school_id for c in plan.closures}
    ids |= {r.school_id for r in plan.reviews.values() if r.school_id is not None}
    schools = {s.id: s for s in session.scalars(select(School).where(School.id.in_(ids)))}
    for change in plan.changes:
        school = schools[change.school_id]
        for key, (_old, new) in change.fields.items():
            if key == "trust_uid":
                school.trust = trusts.get(new) if new else None
            else:
                setattr(school, key, new)
        audit.record(
            "register.school_changed",
            actor=actor,
            subject=school,
            urn=change.urn,
            changes=describe.changes(change.fields),
            **context,
        )
    for closure in plan.closures:
        school = schools[closure.school_id]
        school.status = SchoolStatus.CLOSED
        school.closed_on = closure.closed_on
        audit.record(
            "register.school_closed",
            actor=actor,
            subject=school,
            urn=closure.urn,
            closed_on=describe("closed_on", closure.closed_on),
            **context,
        )
    for review in plan.reviews.values():
        school = added[review.urn] if review.school_id is None else schools[review.school_id]
        school.review_note = review.note
        audit.record(
            "register.review_flagged", actor=actor, subject=school, note=review.note, **context
        )
    session.flush()


# --- areas and districts --------------------------------------------------------------------


def set_districts(area: Area, districts: list[str], actor: User) -> bool:
    """Change the districts whose schools belong in ``area``; True if anything changed."""
    if districts == list(area.districts):
        return False
    audit.record(
        "register.area_districts_changed",
        actor=actor,
        subject=area,
        changes={"Districts": [list(area.districts), districts]},
    )
    area.districts = districts
    db.session.commit()
    return True


def districts_elsewhere(area: Area) -> dict[str, str]:
    """Every district claimed by another area: normalised district -> that area's name."""
    others = db.session.scalars(select(Area).where(Area.id != area.id))
    return {district_key(d): other.name for other in others for d in other.districts}


@dataclass(frozen=True)
class Move:
    school: School
    to: Area


def area_moves() -> list[Move]:
    """Open schools whose district belongs to an area other than the one they are in."""
    areas = list(db.session.scalars(select(Area)))
    by_district = {district_key(d): area for area in areas for d in area.districts}
    schools = db.session.scalars(
        select(School)
        .where(School.status == SchoolStatus.OPEN, School.district.is_not(None))
        .order_by(School.name)
    )
    moves = []
    for school in schools:
        target = by_district.get(district_key(school.district or ""))
        if target is not None and target.id != school.area_id:
            moves.append(Move(school, target))
    return moves


def assign_by_district(actor: User) -> int:
    """Put every open school in the area its district belongs to, in one transaction."""
    moves = area_moves()
    for move in moves:
        audit.record(
            "register.school_changed",
            actor=actor,
            subject=move.school,
            urn=move.school.urn,
            changes={"Area": [move.school.area.name, move.to.name]},
            reason="assigned by district",
        )
        move.school.area = move.to
    if moves:
        audit.record("register.areas_assigned", actor=actor, schools=len(moves))
    db.session.commit()
    return len(moves)


def unmapped_districts() -> list[tuple[str, int]]:
    """Districts of open schools that no area claims, with how many schools have each."""
    claimed = set(district_map(db.session.scalars(select(Area))))
    counts = Counter(
        district
        for district in db.session.scalars(
            select(School.district).where(
                School.status == SchoolStatus.OPEN, School.district.is_not(None)
            )
        )
        if district and district_key(district) not in claimed
    )
    return sorted(counts.items())


# --- reviews --------------------------------------------------------------------------------


def clear_review(school: School, actor: User) -> None:
    audit.record("register.review_cleared", actor=actor, subject=school, note=school.review_note)
    school.review_note = None
    db.session.commit()
