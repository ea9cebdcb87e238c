"""The officers' queue of requests: filtered, sorted, paged and counted; and how soon each is
due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    case,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)

from portal.access import (
    Principal,
    SupportScope,
    support_caseworker,
    support_request_condition,
    support_request_scope,
    support_request_scope_shape,
)
from portal.db import db
from portal.models import (
    School,
    SupportRequest,
    SupportStatus,
    Urgency,
    User,
    support_request_count,
)
from portal.numbers import record_id
from portal.pagination import Page, PagedQuery, paginate_paged, paginate_rows
from portal.support.dates import today_in_london
from portal.support.statements import OPEN_REQUESTS, OPEN_STATUSES, written

PAGE_SIZE = 25

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


def filter_items(filters: QueueFilter) -> dict[str, list[dict[str, Any]]]:
    """The choices of the queue's filters, as GOV.UK's select items, ``filters``' chosen."""

    def items(options: list[tuple[str, str]], chosen: str) -> list[dict[str, Any]]:
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in options]

    return dict(
        status_items=items(
            [(OPEN, "Open (not closed or redirected)"), ("", "Any status")]
            + [(s.value, s.label) for s in SupportStatus],
            filters.status,
        ),
        urgency_items=items(
            [("", "Any urgency")] + [(u.value, u.label) for u in Urgency],
            filters.urgency.value if filters.urgency else "",
        ),
        owner_items=items(
            [("", "Anyone"), (MINE, "Me"), (UNASSIGNED, "Nobody yet")],
            filters.owner,
        ),
        due_items=items(
            [
                ("", "Any date"),
                (DUE_TODAY, "Due today"),
                (OVERDUE, "Overdue"),
            ],
            filters.due,
        ),
        sort_items=items(
            [
                ("respond_by", "Respond by date"),
                ("newest", "Newest first"),
                ("oldest", "Oldest first"),
            ],
            filters.sort,
        ),
    )


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
    the statement, as OPEN_REQUESTS's)."""
    query = select(SupportRequest).where(scope)
    if filters.status == OPEN:
        return query.where(OPEN_REQUESTS)
    if filters.status:
        return query.where(SupportRequest.status == written(SupportStatus(filters.status)))
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
        statuses = counts.status.in_([written(s) for s in OPEN_STATUSES])
    elif status:
        statuses = counts.status == written(SupportStatus(status))
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
