"""CAF officer support: raising a request, routing it, working it to an outcome."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    case,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.access import (
    Principal,
    SupportScope,
    may_be_assigned_support_request,
    support_caseworker,
    support_request_condition,
    support_request_scope,
    support_request_scope_shape,
)
from portal.db import db, driver_records, utcnow
from portal.models import (
    Area,
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
    support_request_count,
)
from portal.numbers import record_id
from portal.outbox import queue_email
from portal.pagination import Page, PagedQuery, paginate_paged, paginate_rows
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
OPEN_STATUSES = [s for s in SupportStatus if s.is_open]


def _written(value: enum.Enum) -> ColumnElement[Any]:
    """One of the portal's own enums' values (stored as text) written into a statement rather
    than bound: for statements made once and sent by the driver (portal.db.driver_rows), and
    so that PostgreSQL plans with the value itself (the open requests' partial indexes)."""
    return literal_column(f"'{value.value}'")


# The open requests, their statuses written into the statement rather than bound, so that
# PostgreSQL can use the open requests' partial indexes (migration 0022) in every plan of it,
# a prepared statement's generic plan included.
_OPEN = SupportRequest.status.in_([_written(s) for s in OPEN_STATUSES])


def today_in_london(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LONDON).date()


def response_target_days(urgency: Urgency) -> int:
    return int(current_app.config[f"SUPPORT_TARGET_{urgency.name}_DAYS"])


# --- raising a request ------------------------------------------------------------------------


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def _officers_of(area: ColumnElement[int]) -> Select[tuple[User]]:
    """The active CAF officers of ``area``, in the order of their ids."""
    return (
        select(User)
        .join(Membership)
        .where(
            Membership.role == _written(Role.CAF_OFFICER),
            Membership.area_id == area,
            User.is_active.is_(True),
        )
        .order_by(User.id)
    )


# An area's active CAF officers (the area bound), made once.
_AREA_OFFICERS = _officers_of(bindparam("area_id"))


def area_officers(area_id: int) -> Sequence[User]:
    return db.session.scalars(_AREA_OFFICERS, {"area_id": area_id}).all()


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
    _add_event(request, actor=requester, to_status=SupportStatus.NEW, shared_with_school=True)
    audit.record("support.submitted", actor=requester, subject=request, reference=request.reference)
    _email_submitted(request)
    db.session.commit()
    return request


def _add_event(request: SupportRequest, **fields: Any) -> None:
    """A new entry on ``request``'s timeline. Added to the session beside the request, not
    appended to ``request.events``: appending would first read every entry the request has
    had, a read that grows with each update, on every submission, update and assignment."""
    db.session.add(SupportEvent(request_id=request.id, **fields))


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

# What an officer may do next, by the request's status: a new request is acknowledged (or
# redirected, when it is not for this area or not for a CAF officer); an acknowledged one
# gets its meeting (or is closed at once, for advice given without one); one in progress is
# closed with its outcome. Notes go on any request still open; a closed or redirected request
# takes nothing more.
NEXT_STATUSES = {
    SupportStatus.NEW: {SupportStatus.ACKNOWLEDGED, SupportStatus.REDIRECTED},
    SupportStatus.ACKNOWLEDGED: {
        SupportStatus.IN_PROGRESS,
        SupportStatus.CLOSED,
        SupportStatus.REDIRECTED,
    },
    SupportStatus.IN_PROGRESS: {SupportStatus.CLOSED, SupportStatus.REDIRECTED},
    SupportStatus.CLOSED: set(),
    SupportStatus.REDIRECTED: set(),
}


def next_statuses(status: SupportStatus) -> list[SupportStatus]:
    """The statuses a request of ``status`` may go to, in the order of the workflow."""
    return [s for s in SupportStatus if s in NEXT_STATUSES[status]]


def takes_updates(status: SupportStatus) -> bool:
    """Whether anything more can be recorded on a request of ``status``."""
    return status.is_open


class UpdateRefused(Exception):
    """What was asked does not fit the request's status (said in words for the officer)."""


def refusal(status: SupportStatus, to_status: SupportStatus | None) -> str | None:
    """Why an update to ``to_status`` (None: a note) cannot be made on a request of
    ``status``, in the officer's words; None when it can."""
    if not takes_updates(status):
        return f"This request is {status.label.lower()}: nothing more can be recorded on it"
    if to_status is None or to_status in NEXT_STATUSES[status]:
        return None
    if to_status is status:
        return f"This request is {status.label.lower()} already"
    allowed = " or ".join(DOING[s] for s in next_statuses(status))
    return (
        f"This request is {status.label.lower()}: it can be {allowed} now, not {DOING[to_status]}"
    )


# How each status change reads in "it can be ... now".
DOING = {
    SupportStatus.NEW: "made new",
    SupportStatus.ACKNOWLEDGED: "acknowledged",
    SupportStatus.IN_PROGRESS: "given a meeting date",
    SupportStatus.CLOSED: "closed with an outcome",
    SupportStatus.REDIRECTED: "redirected",
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
    refused = refusal(before, update.to_status)
    if refused is not None:
        raise UpdateRefused(refused)
    if update.to_status is not None:
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
    _add_event(
        request,
        actor=actor,
        from_status=before if update.to_status else None,
        to_status=update.to_status,
        note=update.note or None,
        shared_with_school=update.shared_with_school,
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


def timeline(events: Iterable[Any], *, council: bool) -> list[Any]:
    """The request's ``events`` (oldest first) that ``council`` or not may read: a school sees
    status changes and shared notes only (not who the council gave the request to)."""
    return [
        e
        for e in events
        if council or (not e.assignment and (e.shared_with_school or e.note is None))
    ]


class Officer(NamedTuple):
    """A CAF officer as the form that gives a request to one names them."""

    id: int
    display_name: str


@dataclass(frozen=True)
class ShownRequest:
    """A support request as its page shows it, read as plain values: ``request`` has the
    request's columns with ``school_name``, ``area_name``, ``requester_name``,
    ``requester_email`` and ``officer_name`` (None while nobody has it); ``events`` every
    event, oldest first, with ``actor_name`` and ``assigned_to_name``; ``officers``, while
    the request is open, whom it may be given to: its area's CAF officers."""

    request: Any
    events: list[Any]
    officers: list[Officer]

    @property
    def officer(self) -> Officer | None:
        """Whom the request is with, if anyone."""
        r = self.request
        if r.assigned_officer_id is None:
            return None
        return Officer(r.assigned_officer_id, r.officer_name)


def _named(column: Any, name: str, of: Any = User.display_name) -> Any:
    """``of`` (a person's name) for the id in ``column``, as the column ``name``: a scalar
    subquery rather than a join, so that planning the statement stays cheap (with seven
    joins, planning it cost more than running it)."""
    key = of.class_.id
    return select(of).where(key == column).scalar_subquery().label(name)


# The request, the names of its school, area, requester and officer, and each of its events
# with the names of who did it and whom it was given to: one statement, a row an event
# (the request's columns repeated on each; a request has a handful of events). Made once;
# each request adds only who may see it.
_SHOWN_COLUMNS = (
    SupportRequest.id,
    SupportRequest.reference,
    SupportRequest.area_id,
    SupportRequest.kind,
    SupportRequest.consent,
    SupportRequest.child_initials,
    SupportRequest.child_year_group,
    SupportRequest.level_of_need,
    SupportRequest.needs,
    SupportRequest.urgency,
    SupportRequest.contact_by,
    SupportRequest.contact_phone,
    SupportRequest.contact_times,
    SupportRequest.details,
    SupportRequest.status,
    SupportRequest.meeting_on,
    SupportRequest.outcome,
    SupportRequest.redirect_reason,
    SupportRequest.assigned_officer_id,
    SupportRequest.submitted_at,
    SupportRequest.respond_by,
    SupportRequest.first_response_at,
    SupportRequest.anonymised_at,
    SupportRequest.version,
    _named(SupportRequest.school_id, "school_name", School.name),
    _named(SupportRequest.area_id, "area_name", Area.name),
    _named(SupportRequest.requester_id, "requester_name"),
    _named(SupportRequest.requester_id, "requester_email", User.email),
    _named(SupportRequest.assigned_officer_id, "officer_name"),
    SupportEvent.id.label("event_id"),
    SupportEvent.occurred_at,
    SupportEvent.to_status,
    SupportEvent.note,
    SupportEvent.shared_with_school,
    SupportEvent.assignment,
    _named(SupportEvent.actor_id, "actor_name"),
    _named(SupportEvent.assigned_to_id, "assigned_to_name"),
)
_SHOWN = (
    select(*_SHOWN_COLUMNS, null().label("choice_id"), null().label("choice_name"))
    .outerjoin(SupportEvent, SupportEvent.request_id == SupportRequest.id)
    .where(SupportRequest.id == bindparam("request_id"))
)
# Whom the request may be given to while it is open: its area's CAF officers, as rows of
# their own below the request's (every column NULL but the officer's id and name). Not
# limited to the requests the person may see: the rows are used only with the request's
# own, which are (shown_request), so nobody is shown the officers of a request they cannot
# see.
_OFFICER_ROWS = (
    _officers_of(
        select(SupportRequest.area_id)
        .where(
            SupportRequest.id == bindparam("request_id"),
            _OPEN,
        )
        .scalar_subquery()
    )
    .with_only_columns(*(null() for _ in _SHOWN_COLUMNS), User.id, User.display_name)
    .order_by(None)
)


@lru_cache(maxsize=32)
def _shown_statement(shape: SupportScope) -> CompoundSelect:
    """shown_request's statement for each shape of who may see which requests
    (access.support_request_scope_shape): made once for each shape, its values (the person's,
    their schools', trusts' or areas' ids, and the request's) bound when sent, so that it is
    shared by everyone whose scope has that shape and sent by the driver itself, at a
    fraction of SQLAlchemy's cost for its 39 columns. What is kept is a statement, never
    what it reads: it cannot be stale."""
    return union_all(_SHOWN.where(support_request_condition(shape)), _OFFICER_ROWS)


def shown_request(who: Principal, request_id: int) -> ShownRequest | None:
    """The request ``request_id`` as its page shows it, if ``who`` may see it (None if not,
    or if there is no such request): one statement, one round trip."""
    shape, values = support_request_scope_shape(who)
    statement = _shown_statement(shape)
    params = {**values, "request_id": request_id}
    shown: Any = None
    events: list[Any] = []
    choices: list[Officer] = []
    for row in driver_records(statement, params):
        if row.choice_id is not None:
            choices.append(Officer(row.choice_id, row.choice_name))
        elif row.id is not None:
            shown = row
            if row.event_id is not None:
                events.append(row)
    if shown is None:
        return None
    events.sort(key=lambda event: event.event_id)
    choices.sort(key=lambda officer: officer.id)
    return ShownRequest(shown, events, choices)


# --- giving a request to an officer -------------------------------------------------------


def assign(request: SupportRequest, officer_id: int | None, actor: User) -> bool:
    """Give the request to the officer ``officer_id`` (None: to nobody), on the timeline and
    in the audit log, and tell the officer by e-mail unless they gave it to themselves.
    Giving it to the officer it is already with changes nothing: False."""
    if not takes_updates(request.status):
        raise UpdateRefused(refusal(request.status, None))
    if officer_id == request.assigned_officer_id:
        return False
    officer = db.session.get(User, officer_id) if officer_id is not None else None
    if officer_id is not None and (
        officer is None or not may_be_assigned_support_request(officer, request)
    ):
        raise UpdateRefused(f"Choose a CAF officer for {request.area.name}, or nobody")
    before = request.assigned_officer
    request.assigned_officer = officer
    _add_event(request, actor=actor, assignment=True, assigned_to=officer, shared_with_school=False)
    audit.record(
        "support.assigned",
        actor=actor,
        subject=request,
        reference=request.reference,
        from_officer=before.email if before else None,
        to_officer=officer.email if officer else None,
    )
    if officer is not None and officer != actor:
        _email_assigned(request, officer, actor)
    try:
        db.session.commit()
    except StaleDataError as error:
        # Another officer's change landed between reading the request and this commit.
        db.session.rollback()
        raise StaleRequest(db.session.get(SupportRequest, request.id) or request) from error
    return True


def _email_assigned(request: SupportRequest, officer: User, actor: User) -> None:
    queue_email(
        officer.email,
        f"CAF support request {request.reference} is now yours",
        f"Dear {officer.display_name},\n\n"
        f"{actor.display_name} has given you the request for CAF officer support "
        f"{request.reference} from {request.school.name}.\n\n"
        f"Status: {request.status.label}\nUrgency: {request.urgency.label}\n"
        f"Respond by: {request.respond_by:%-d %B %Y}\n\n"
        'It is in your queue under "Mine" in the Schools Partner Portal.\n',
    )


# --- the queue ------------------------------------------------------------------------------------

# Each order of the queue: the columns it sorts on, and whether the latest come first.
SORTS = {
    "respond_by": (("respond_by", "id"), False),
    "newest": (("submitted_at", "id"), True),
    "oldest": (("submitted_at", "id"), False),
}
OPEN = "open"
SCHOOL_QUERY_LENGTH = 100


# Whose requests: anyone's, the signed-in officer's own, or nobody's yet.
MINE, UNASSIGNED = "mine", "unassigned"
OWNERS = ("", MINE, UNASSIGNED)
# Which stage of the first response: due today, or past its date.
DUE_TODAY, OVERDUE = "today", "overdue"
DUES = ("", DUE_TODAY, OVERDUE)


@dataclass(frozen=True)
class QueueFilter:
    status: str = OPEN  # 'open', '' (all) or a SupportStatus value
    urgency: Urgency | None = None
    # A school's name, or part of it, or its URN: typed, not chosen from a list, since an
    # area of a large council has a thousand schools.
    school: str = ""
    owner: str = ""  # one of OWNERS
    due: str = ""  # one of DUES
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
        owner = args.get("owner", "")
        due = args.get("due", "")
        return cls(
            status=status,
            urgency=Urgency(urgency) if urgency in Urgency._value2member_map_ else None,
            school=school,
            owner=owner if owner in OWNERS else "",
            due=due if due in DUES else "",
            sort=sort if sort in SORTS else "respond_by",
            page=args.get("page", 1, type=int) or 1,
        )

    def as_args(self) -> dict[str, str]:
        return {
            "status": self.status,
            "urgency": self.urgency.value if self.urgency else "",
            "school": self.school,
            "owner": self.owner,
            "due": self.due,
            "sort": self.sort,
        }


# Each status's GOV.UK tag colour, wherever a request's status is shown.
STATUS_COLOURS = {
    SupportStatus.NEW: "blue",
    SupportStatus.ACKNOWLEDGED: "light-blue",
    SupportStatus.IN_PROGRESS: "yellow",
    SupportStatus.CLOSED: "grey",
    SupportStatus.REDIRECTED: "purple",
}


def awaiting_response(today: date, due: str) -> ColumnElement[bool]:
    """Requests still waiting for their first response that are due ``today`` or overdue:
    the same test as :func:`timeliness`, in SQL."""
    waiting = SupportRequest.status.in_(OPEN_STATUSES) & SupportRequest.first_response_at.is_(None)
    if due == DUE_TODAY:
        return waiting & (SupportRequest.respond_by == today)
    return waiting & (SupportRequest.respond_by < today)


def queue_query(
    who: Principal, filters: QueueFilter, today: date | None = None
) -> Select[tuple[SupportRequest]]:
    query = _by_status(support_request_scope(who), filters)
    if filters.urgency:
        query = query.where(SupportRequest.urgency == filters.urgency)
    if filters.school:
        named = School.name.icontains(filters.school, autoescape=True)
        urn = record_id(filters.school)
        by_urn = School.urn == urn if urn is not None else false()
        query = query.where(
            SupportRequest.school_id.in_(select(School.id).where(or_(named, by_urn)))
        )
    if filters.owner == MINE:
        query = query.where(SupportRequest.assigned_officer_id == who.person.id)
    elif filters.owner == UNASSIGNED:
        query = query.where(SupportRequest.assigned_officer_id.is_(None))
    if filters.due:
        query = query.where(awaiting_response(today or today_in_london(), filters.due))
    return query.order_by(*_sorted(filters.sort))


def _by_status(scope: ColumnElement[bool], filters: QueueFilter) -> Select[tuple[SupportRequest]]:
    """The requests of ``scope`` with the status ``filters`` ask for (a status written into
    the statement, as _OPEN's)."""
    query = select(SupportRequest).where(scope)
    if filters.status == OPEN:
        return query.where(_OPEN)
    if filters.status:
        return query.where(SupportRequest.status == _written(SupportStatus(filters.status)))
    return query


def _sorted(sort: str) -> list[ColumnElement[Any]]:
    """The ORDER BY of SORTS[sort]."""
    names, latest_first = SORTS[sort]
    order = [getattr(SupportRequest, name) for name in names]
    return [column.desc() for column in order] if latest_first else order


# The names a queue row shows, each read for the rows of the page alone: PostgreSQL works
# out such a column after the sort and the limit (joining the schools to every open request
# before sorting and paging hashed all 6,000 schools at factor 10). Made once.
_SCHOOL_NAME = (
    select(School.name)
    .where(School.id == SupportRequest.school_id)
    .scalar_subquery()
    .label("school_name")
)
_OFFICER_NAME = (
    select(User.display_name)
    .where(User.id == SupportRequest.assigned_officer_id)
    .scalar_subquery()
    .label("officer")
)


# What a queue row shows.
_QUEUE_COLUMNS = (
    SupportRequest.id,
    SupportRequest.reference,
    SupportRequest.kind,
    SupportRequest.urgency,
    SupportRequest.status,
    SupportRequest.assigned_officer_id,
    SupportRequest.respond_by,
    SupportRequest.first_response_at,
    _SCHOOL_NAME,
    _OFFICER_NAME,
)


def queue(who: Principal, filters: QueueFilter, today: date | None = None) -> Page[Any]:
    """A page of the queue as rows of what its table shows, in one query: the requests
    filtered, counted and paged, with their schools' and officers' names."""
    shape, values = support_request_scope_shape(who)
    if _counts_kept(shape, filters):
        # Counted from the counts the database keeps: only the page's own rows are visited.
        statements = _kept_queue(shape, filters.status, filters.sort, PAGE_SIZE)
        return paginate_paged(statements, filters.page, values, made_once=True)
    # Counted over the rows (a window): every matching request is visited.
    listed = queue_query(who, filters, today).with_only_columns(*_QUEUE_COLUMNS)
    return paginate_rows(listed, filters.page, PAGE_SIZE)


def _counts_kept(shape: SupportScope, filters: QueueFilter) -> bool:
    """Whether support_request_count says how many requests the queue lists for a scope of
    ``shape`` and ``filters``: filtered by status alone, for someone who sees requests by
    their area alone (council administrators every area, CAF officers with no school or
    trust of their own their areas)."""
    by_area_alone = shape.everything or (
        shape.areas and not (shape.raised or shape.led or shape.trusts)
    )
    return by_area_alone and not (filters.urgency or filters.school or filters.owner or filters.due)


@lru_cache(maxsize=64)
def _kept_queue(shape: SupportScope, status: str, sort: str, per_page: int) -> PagedQuery:
    """The queue's statements for a scope of ``shape`` filtered by ``status`` alone, in the
    order ``sort``, ``per_page`` requests a page, with the count the database keeps: made
    once for each, the scope's areas and a later page's offset bound when sent, and sent by
    the driver itself.
    Statements, functions of their arguments alone, never what they read: they cannot be
    stale."""
    filters = QueueFilter(status=status, sort=sort)
    listed = (
        _by_status(support_request_condition(shape), filters)
        .with_only_columns(*_QUEUE_COLUMNS)
        .order_by(*_sorted(sort))
    )
    total = _kept_count(shape, status)
    return PagedQuery.of(listed.add_columns(total.label("total")), select(total), per_page)


def _kept_count(shape: SupportScope, status: str) -> Any:
    """How many requests of ``status`` (OPEN, '' for any, or a status) a scope of ``shape``
    sees, from support_request_count (for a scope by area alone), its areas bound by the
    name the scope's condition binds them by."""
    counts = support_request_count.c
    areas: ColumnElement[bool] = (
        true() if shape.everything else counts.area_id.in_(bindparam("scope_areas", expanding=True))
    )
    if status == OPEN:
        statuses = counts.status.in_([_written(s) for s in OPEN_STATUSES])
    elif status:
        statuses = counts.status == _written(SupportStatus(status))
    else:
        statuses = true()
    total = func.coalesce(func.sum(counts.n), literal_column("0"))
    return select(total).where(areas, statuses).scalar_subquery()


@dataclass(frozen=True)
class QueueCounts:
    """An officer's open requests at a glance, each with the queue's filters that list it."""

    new: int
    due_today: int
    overdue: int
    mine: int

    LINKS: ClassVar[dict[str, dict[str, str]]] = {
        "new": {"status": SupportStatus.NEW.value},
        "due_today": {"due": DUE_TODAY},
        "overdue": {"due": OVERDUE},
        "mine": {"owner": MINE},
    }


def queue_counts(who: Principal, today: date | None = None) -> QueueCounts | None:
    """The counts on a CAF officer's home page, in one query; None for anyone else."""
    if not support_caseworker(who):
        return None
    today = today or today_in_london()

    def count(condition: ColumnElement[bool]) -> Any:
        return func.count(case((condition, 1)))

    row = db.session.execute(
        select(
            count(SupportRequest.status == SupportStatus.NEW),
            count(awaiting_response(today, DUE_TODAY)),
            count(awaiting_response(today, OVERDUE)),
            count(SupportRequest.assigned_officer_id == who.person.id),
        ).where(support_request_scope(who), SupportRequest.status.in_(OPEN_STATUSES))
    ).one()
    return QueueCounts(*row)


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
    from portal.contacts.keeping import months_before

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
