"""A school's choice of who approves its staff's training bookings: nobody, the head
teacher, or a named training lead (a member of the school's staff with an account)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import select

from portal import audit
from portal.access import Principal, may_set_training_approval, training_schools
from portal.clock import utcnow
from portal.db import db
from portal.models import Approver, Membership, School, SchoolTrainingSettings, User


@dataclass(frozen=True)
class SettingsPage:
    school: School
    # The schools ``who`` may set this for (a trust lead chooses among them).
    schools: list[School]
    approver: Approver
    training_lead_id: int | None
    staff: list[User]


def settable_schools(who: Principal) -> list[School]:
    return [s for s in training_schools(who) if may_set_training_approval(who, s.id)]


def settings_page(who: Principal, school_id: int | None) -> SettingsPage:
    schools = settable_schools(who)
    school = next((s for s in schools if s.id == school_id), None)
    if school is None:
        if school_id is not None or not schools:
            abort(404)
        school = schools[0]
    settings = db.session.get(SchoolTrainingSettings, school.id)
    return SettingsPage(
        school=school,
        schools=schools,
        approver=settings.approver if settings else Approver.NOBODY,
        training_lead_id=settings.training_lead_id if settings else None,
        staff=school_staff(school.id),
    )


def school_staff(school_id: int) -> list[User]:
    """The people with an active account and a role at the school, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.is_active.is_(True),
                User.id.in_(select(Membership.user_id).where(Membership.school_id == school_id)),
            )
            .order_by(User.display_name, User.id)
        )
    )


def save_settings(
    who: Principal, school_id: int, approver: Approver, training_lead_id: int | None
) -> SchoolTrainingSettings:
    """Save the school's choice (the lead checked to be one of its staff by the form)."""
    page = settings_page(who, school_id)
    if approver is Approver.TRAINING_LEAD:
        if training_lead_id not in {user.id for user in page.staff}:
            abort(400)
    else:
        training_lead_id = None
    settings = db.session.get(SchoolTrainingSettings, school_id)
    if settings is None:
        settings = SchoolTrainingSettings(school_id=school_id)
        db.session.add(settings)
    settings.approver = approver
    settings.training_lead_id = training_lead_id
    settings.updated_at = utcnow()
    audit.record(
        "training.approval_set",
        actor=who.user,
        subject=page.school,
        approver=approver.value,
        training_lead_id=training_lead_id,
    )
    db.session.commit()
    return settings
