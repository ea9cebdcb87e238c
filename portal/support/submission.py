"""Raising a request: the draft the wizard keeps, and sending it once, however often its
button is pressed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from portal import audit
from portal.access import Principal, get_school_or_404, visible_school_list, visible_schools
from portal.db import db, utcnow
from portal.models import (
    LevelOfNeed,
    School,
    SupportKind,
    SupportRequest,
    SupportStatus,
    Urgency,
    User,
)
from portal.support import emails, wizard
from portal.support.dates import response_target_days, today_in_london
from portal.support.updates import add_event
from portal.workdays import add_working_days


def draft(who: Principal, answers: dict[str, Any]) -> dict[str, Any] | None:
    """The wizard's ``answers`` with what it needs to know about ``who``'s schools: how many
    they have, and the school itself when there is only one. None when they have none."""
    schools = db.session.scalars(visible_schools(who).with_only_columns(School.id)).all()
    if not schools:
        return None
    current = dict(answers)
    current["_schools"] = len(schools)
    if len(schools) == 1:
        current["school_id"] = schools[0]
    return current


def school_choices(who: Principal) -> list[tuple[int, str]]:
    """The schools ``who`` may raise a request for, by name: (id, name)."""
    return [(school.id, school.name) for school in visible_school_list(who)]


@dataclass(frozen=True)
class Created:
    """The request was made now."""

    request_id: int


@dataclass(frozen=True)
class AlreadySent:
    """An earlier press of the same button made the request: nothing new was made."""

    request_id: int


@dataclass(frozen=True)
class Busy:
    """The database was too busy to take the request; nothing was made. Press again."""


@dataclass(frozen=True)
class NotSent:
    """The draft is not ready to send (a question unanswered, or the page posted is not the
    draft's latest): the check page says what to do."""


Submitted = Created | AlreadySent | Busy | NotSent


def submit_request(who: Principal, answers: dict[str, Any], submission_key: str) -> Submitted:
    """Send the wizard's draft ``answers`` as ``who``'s request, once: the same
    ``submission_key`` again (a second press, a page sent again) gives the first request."""
    already = _sent_with(submission_key, requester_id=who.person.id)
    if already is not None:
        return AlreadySent(already.id)
    current = draft(who, answers)
    if current is None or wizard.first_unanswered(current) is not None:
        return NotSent()
    school = get_school_or_404(who, int(current["school_id"]))
    if submission_key != current.get("_key"):
        return NotSent()
    try:
        created = _create(current, school, who.user, submission_key)
    except OperationalError:
        # SQLite (the embedded database) gives up on a writer that waited past its busy
        # timeout; the other press of this button may have just sent it.
        db.session.rollback()
        found = _sent_with(submission_key)
        return Busy() if found is None else Created(found.id)
    return Created(created.id)


def _sent_with(submission_key: str, requester_id: int | None = None) -> SupportRequest | None:
    """The request sent with ``submission_key`` (by ``requester_id``, if given), if any."""
    query = select(SupportRequest).where(SupportRequest.submission_key == submission_key)
    if requester_id is not None:
        query = query.where(SupportRequest.requester_id == requester_id)
    return db.session.scalars(query).one_or_none()


def submit(
    answers: dict[str, Any], school: School, requester: User, submission_key: str
) -> SupportRequest:
    """Create the request from the checked answers, route it to the school's area, tell
    the requester and the area's officers. The same ``submission_key`` twice gives the
    first request back: pressing submit twice makes one request."""
    existing = _sent_with(submission_key)
    if existing is not None:
        return existing
    return _create(answers, school, requester, submission_key)


def _create(
    answers: dict[str, Any], school: School, requester: User, submission_key: str
) -> SupportRequest:
    """The request made from ``answers``, routed, told of and committed; the first request
    sent with ``submission_key`` if another press of the same button has just made it."""
    now = utcnow()
    urgency = Urgency(answers["urgency"])
    consent = answers["consent"] == "yes"
    kind = SupportKind(answers["kind"])
    about_a_child = kind is not SupportKind.TRAINING
    request = SupportRequest(
        # Replaced by the real reference once the id is known.
        reference=f"PENDING-{submission_key[:12]}",
        submission_key=submission_key,
        school=school,
        area_id=school.area_id,
        requester=requester,
        kind=kind,
        consent=consent,
        child_initials=(answers.get("initials") or "").upper() or None
        if consent and about_a_child
        else None,
        child_year_group=answers.get("year_group") if about_a_child else None,
        level_of_need=LevelOfNeed(answers["level"])
        if about_a_child and answers.get("level")
        else None,
        needs=list(answers.get("needs") or []) if about_a_child else [],
        urgency=urgency,
        contact_by=answers["contact_by"],
        contact_phone=answers.get("contact_phone") or None,
        contact_times=answers.get("contact_times") or None,
        details=answers.get("details") or None,
        status=SupportStatus.NEW,
        submitted_at=now,
        respond_by=add_working_days(today_in_london(now), response_target_days(urgency)),
    )
    db.session.add(request)
    try:
        db.session.flush()
    except IntegrityError:
        # Another press of the same submit button won the race: show its request.
        db.session.rollback()
        found = _sent_with(submission_key)
        assert found is not None, "a submission key's request cannot vanish"
        return found
    request.reference = f"CAF-{today_in_london(now).year}-{request.id:06d}"
    add_event(request, actor=requester, to_status=SupportStatus.NEW, shared_with_school=True)
    audit.record("support.submitted", actor=requester, subject=request, reference=request.reference)
    emails.submitted(request)
    db.session.commit()
    return request
