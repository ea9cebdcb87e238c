"""CAF officer support: raising a request, routing it, working it to an outcome."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.access import Principal, support_request_scope
from portal.db import db, utcnow
from portal.models import (
    LevelOfNeed,
    Membership,
    RedirectReason,
    Role,
    School,
    SupportEvent,
    SupportKind,
    SupportOutcome,
    SupportRequest,
    SupportStatus,
    Urgency,
    User,
)
from portal.numbers import record_id
from portal.outbox import queue_email
from portal.pagination import Page, paginate
from portal.workdays import add_working_days

LONDON = ZoneInfo("Europe/London")
PAGE_SIZE = 25

# The areas of need a school can tick, in the words of councils' early help forms.
AREAS_OF_NEED = {
    "learning": "Learning and progress",
    "attendance": "Attendance",
    "behaviour": "Behaviour",
    "emotional_health": "Emotional health and wellbeing",
    "physical_health": "Physical health or development",
    "family_relationships": "Family relationships",
    "parenting": "Parenting support",
    "housing_money": "Housing or money worries",
    "young_carer": "Young carer",
    "domestic_abuse": "Domestic abuse (no immediate risk)",
    "substance_misuse": "Drugs or alcohol in the family",
}

YEAR_GROUPS = ["Nursery", "Reception"] + [f"Year {n}" for n in range(1, 14)]


def today_in_london(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LONDON).date()


def response_target_days(urgency: Urgency) -> int:
    return int(current_app.config[f"SUPPORT_TARGET_{urgency.name}_DAYS"])


# --- raising a request ------------------------------------------------------------------------


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def area_officers(area_id: int) -> Sequence[User]:
    return db.session.scalars(
        select(User)
        .join(Membership)
        .where(
            Membership.role == Role.CAF_OFFICER,
            Membership.area_id == area_id,
            User.is_active.is_(True),
        )
        .order_by(User.id)
    ).all()


def submit(
    answers: dict[str, Any], school: School, requester: User, submission_key: str
) -> SupportRequest:
    """Create the request from the checked answers, route it to the school's area, tell
    the requester and the area's officers. The same ``submission_key`` twice gives the
    first request back: pressing submit twice makes one request."""
    existing = db.session.scalars(
        select(SupportRequest).where(SupportRequest.submission_key == submission_key)
    ).one_or_none()
    if existing is not None:
        return existing
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
        return db.session.scalars(
            select(SupportRequest).where(SupportRequest.submission_key == submission_key)
        ).one()
    request.reference = f"CAF-{today_in_london(now).year}-{request.id:06d}"
    request.events.append(
        SupportEvent(actor=requester, to_status=SupportStatus.NEW, shared_with_school=True)
    )
    audit.record("support.submitted", actor=requester, subject=request, reference=request.reference)
    _email_submitted(request)
    db.session.commit()
    return request


def _email_submitted(request: SupportRequest) -> None:
    queue_email(
        request.requester.email,
        f"Your request for CAF officer support: {request.reference}",
        f"Dear {request.requester.display_name},\n\n"
        f"We have your request for CAF officer support for {request.school.name}. Its "
        f"reference is {request.reference}. The {request.area.name} area's CAF officers will "
        f"respond by {request.respond_by:%-d %B %Y}.\n\n"
        "You can follow its progress in the Schools Partner Portal.\n\n"
        "If a child is in immediate danger, call 999. This request is not a safeguarding "
        "referral.\n",
    )
    for officer in area_officers(request.area_id):
        queue_email(
            officer.email,
            f"New CAF support request {request.reference} ({request.urgency.label})",
            f"A new request for CAF officer support has arrived from {request.school.name}.\n\n"
            f"Reference: {request.reference}\nUrgency: {request.urgency.label}\n"
            f"Respond by: {request.respond_by:%-d %B %Y}\n\n"
            "Open the support queue in the Schools Partner Portal to work it.\n",
        )


# --- working a request ------------------------------------------------------------------------

# Where each status may go next.
NEXT_STATUSES = {
    SupportStatus.NEW: {
        SupportStatus.ACKNOWLEDGED,
        SupportStatus.IN_PROGRESS,
        SupportStatus.CLOSED,
        SupportStatus.REDIRECTED,
    },
    SupportStatus.ACKNOWLEDGED: {
        SupportStatus.IN_PROGRESS,
        SupportStatus.CLOSED,
        SupportStatus.REDIRECTED,
    },
    SupportStatus.IN_PROGRESS: {SupportStatus.CLOSED, SupportStatus.REDIRECTED},
    SupportStatus.CLOSED: set(),
    SupportStatus.REDIRECTED: set(),
}


class StaleRequest(Exception):
    """Someone else changed the request since this person loaded it."""

    def __init__(self, request: SupportRequest) -> None:
        super().__init__(request.reference)
        self.request = request


@dataclass(frozen=True)
class Update:
    """What an officer did: a new status (with what it needs), a note, or both."""

    to_status: SupportStatus | None
    note: str | None = None
    shared_with_school: bool = True
    meeting_on: date | None = None
    outcome: SupportOutcome | None = None
    redirect_reason: RedirectReason | None = None


def update(request: SupportRequest, update: Update, actor: User, seen_version: int) -> None:
    """Apply an officer's update, if nobody else has changed the request since they saw it."""
    if request.version != seen_version:
        raise StaleRequest(request)
    before = request.status
    if update.to_status is not None:
        if update.to_status not in NEXT_STATUSES[before]:
            raise ValueError(f"a {before.value} request cannot become {update.to_status.value}")
        request.status = update.to_status
        if update.to_status is SupportStatus.IN_PROGRESS:
            request.meeting_on = update.meeting_on
        if update.to_status is SupportStatus.CLOSED:
            request.outcome = update.outcome
        if update.to_status is SupportStatus.REDIRECTED:
            request.redirect_reason = update.redirect_reason
    if request.assigned_officer is None:
        request.assigned_officer = actor
    if request.first_response_at is None and (
        update.to_status is not None or update.shared_with_school
    ):
        request.first_response_at = utcnow()
    request.events.append(
        SupportEvent(
            actor=actor,
            from_status=before if update.to_status else None,
            to_status=update.to_status,
            note=update.note or None,
            shared_with_school=update.shared_with_school,
        )
    )
    audit.record(
        "support.updated",
        actor=actor,
        subject=request,
        from_status=before.value,
        to_status=update.to_status.value if update.to_status else None,
        note_shared=update.shared_with_school if update.note else None,
    )
    if update.to_status is not None:
        _email_status_changed(request)
    try:
        db.session.commit()
    except StaleDataError as error:
        # The version check above passed, but another officer's commit landed in between.
        db.session.rollback()
        raise StaleRequest(db.session.get(SupportRequest, request.id) or request) from error


def _email_status_changed(request: SupportRequest) -> None:
    status = request.status.label
    lines = [f"Your request {request.reference} for {request.school.name} is now: {status}."]
    if request.meeting_on:
        lines.append(f"Meeting date: {request.meeting_on:%-d %B %Y}.")
    if request.outcome:
        lines.append(f"Outcome: {request.outcome.label}.")
    if request.redirect_reason:
        lines.append(f"Reason: {request.redirect_reason.label}.")
    queue_email(
        request.requester.email,
        f"Update on your CAF support request {request.reference}: {request.status.label}",
        "\n\n".join(lines) + "\n\nSee the details and any notes in the Schools Partner Portal.\n",
    )


def timeline(request: SupportRequest, *, council: bool) -> list[SupportEvent]:
    """The request's events; a school sees status changes and shared notes only."""
    return [e for e in request.events if council or e.shared_with_school or e.note is None]


# --- the queue ------------------------------------------------------------------------------------

SORTS = {
    "respond_by": (SupportRequest.respond_by, SupportRequest.id),
    "newest": (SupportRequest.submitted_at.desc(), SupportRequest.id.desc()),
    "oldest": (SupportRequest.submitted_at, SupportRequest.id),
}
OPEN = "open"
SCHOOL_QUERY_LENGTH = 100


@dataclass(frozen=True)
class QueueFilter:
    status: str = OPEN  # 'open', '' (all) or a SupportStatus value
    urgency: Urgency | None = None
    # A school's name, or part of it, or its URN: typed, not chosen from a list, since an
    # area of a large council has a thousand schools.
    school: str = ""
    sort: str = "respond_by"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> QueueFilter:
        status = args.get("status", OPEN)
        if status not in ("", OPEN, *SupportStatus._value2member_map_):
            status = OPEN
        urgency = args.get("urgency", "")
        sort = args.get("sort", "respond_by")
        school = " ".join(args.get("school", "").split())[:SCHOOL_QUERY_LENGTH]
        return cls(
            status=status,
            urgency=Urgency(urgency) if urgency in Urgency._value2member_map_ else None,
            school=school,
            sort=sort if sort in SORTS else "respond_by",
            page=args.get("page", 1, type=int) or 1,
        )

    def as_args(self) -> dict[str, str]:
        return {
            "status": self.status,
            "urgency": self.urgency.value if self.urgency else "",
            "school": self.school,
            "sort": self.sort,
        }


def queue_query(who: Principal, filters: QueueFilter) -> Select[tuple[SupportRequest]]:
    query = select(SupportRequest).where(support_request_scope(who))
    if filters.status == OPEN:
        query = query.where(SupportRequest.status.in_([s for s in SupportStatus if s.is_open]))
    elif filters.status:
        query = query.where(SupportRequest.status == SupportStatus(filters.status))
    if filters.urgency:
        query = query.where(SupportRequest.urgency == filters.urgency)
    if filters.school:
        named = School.name.icontains(filters.school, autoescape=True)
        urn = record_id(filters.school)
        by_urn = School.urn == urn if urn is not None else false()
        query = query.where(
            SupportRequest.school_id.in_(select(School.id).where(or_(named, by_urn)))
        )
    return query.order_by(*SORTS[filters.sort])


def queue(who: Principal, filters: QueueFilter) -> Page[SupportRequest]:
    # A queue row shows only its school's name. Joining the school, area and people to every
    # open request before sorting and taking a page hashed all 6,000 schools at factor 10:
    # the page's 25 schools are read after, by id.
    listed = queue_query(who, filters).options(
        lazyload(SupportRequest.area),
        lazyload(SupportRequest.requester),
        lazyload(SupportRequest.assigned_officer),
        selectinload(SupportRequest.school).load_only(School.id, School.name),
    )
    return paginate(listed, filters.page, PAGE_SIZE)


def timeliness(request: SupportRequest, today: date) -> str | None:
    """'overdue' or 'due' (today) while the first response is still awaited."""
    if request.first_response_at is not None or not request.status.is_open:
        return None
    if request.respond_by < today:
        return "overdue"
    if request.respond_by == today:
        return "due"
    return None


# --- retention ----------------------------------------------------------------------------------


def anonymise_closed(older_than_months: int, actor: User | None = None) -> int:
    """Strip the child's details and every free text from requests closed long enough ago;
    keep what the statistics need. Returns how many were anonymised."""
    from portal.contacts.service import months_before

    cutoff = months_before(utcnow(), older_than_months)
    requests = db.session.scalars(
        select(SupportRequest).where(
            SupportRequest.status.in_([SupportStatus.CLOSED, SupportStatus.REDIRECTED]),
            SupportRequest.anonymised_at.is_(None),
            SupportRequest.updated_at < cutoff,
        )
    ).all()
    for request in requests:
        request.child_initials = None
        request.child_year_group = None
        request.needs = []
        request.details = None
        request.contact_phone = None
        request.contact_times = None
        request.anonymised_at = utcnow()
        for event in request.events:
            event.note = None
    if requests:
        audit.record(
            "support.anonymised",
            actor=actor,
            count=len(requests),
            older_than_months=older_than_months,
            references=[r.reference for r in requests],
        )
    db.session.commit()
    return len(requests)
