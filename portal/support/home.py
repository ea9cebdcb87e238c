"""What CAF officer support asks of a person on their home page.

A school's people see their open requests (staff those they raised, head teachers the
school's) and where each stands; someone with several schools, how many each has open; a
council administrator, the requests no officer has answered in time. CAF officers have their
queue's counts instead (:func:`service.queue_counts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from flask import url_for
from sqlalchemy import Select, case, func, select

from portal.access import (
    Capability,
    Principal,
    SupportScope,
    support_request_condition,
    support_request_scope,
    support_request_scope_shape,
)
from portal.db import db, driver_records
from portal.models import Role, School, SupportRequest
from portal.services.pricing import plural
from portal.support.dates import today_in_london
from portal.support.queue import DUE_TODAY, OVERDUE, STATUS_COLOURS, awaiting_response, timeliness
from portal.support.statements import OPEN_STATUSES
from portal.templating import london_time, long_date
from portal.todo import ToDo, ToDoList

# The open requests a school's home page lists, most pressing first; the rest are a link away.
LISTED = 5


def home_tasks(who: Principal, schools: Sequence[School]) -> ToDoList | None:
    """CAF support's list on ``who``'s home page (``schools``: theirs, for school staff)."""
    today = today_in_london()
    if who.can(Capability.RAISE_SUPPORT_REQUEST) and schools:
        if len(schools) > 1:
            return _by_school(who, schools, today)
        return _open_requests(who, today)
    if Role.LA_ADMIN in who.roles:
        return _overdue(who, today)
    return None


def home_reads(who: Principal, schools: Sequence[School]) -> list[tuple[Any, Any]]:
    """What home_tasks will read for ``who`` (db.read_ahead): for one school, its open
    requests."""
    if not (who.can(Capability.RAISE_SUPPORT_REQUEST) and len(schools) == 1):
        return []
    shape, values = support_request_scope_shape(who)
    return [(_open_requests_query(shape), values)]


def _open_requests(who: Principal, today: date) -> ToDoList:
    shape, values = support_request_scope_shape(who)
    # Sent by the driver itself (db.driver_records): its statement is made once per shape.
    rows = driver_records(_open_requests_query(shape), values)
    total = rows[0].total if rows else 0
    more = (
        ToDo(f"See all {plural(total, 'open request')}", url_for("support.index"))
        if total > LISTED
        else None
    )
    return ToDoList(
        "Requests for CAF officer support", tuple(_request(row, today) for row in rows), more
    )


@lru_cache(maxsize=16)
def _open_requests_query(shape: SupportScope) -> Select[Any]:
    """The first few open requests someone may see, with how many are open in all, for each
    shape of who may see which (access.support_request_scope_shape), built once: building
    it and working out its key for SQLAlchemy's statement cache cost as much as running it."""
    return (
        select(
            SupportRequest.id,
            SupportRequest.reference,
            SupportRequest.kind,
            SupportRequest.status,
            SupportRequest.submitted_at,
            SupportRequest.respond_by,
            SupportRequest.first_response_at,
            SupportRequest.meeting_on,
            # How many are open in all, counted before the first few are taken.
            func.count().over().label("total"),
        )
        .where(support_request_condition(shape), SupportRequest.status.in_(OPEN_STATUSES))
        .order_by(SupportRequest.respond_by, SupportRequest.id)
        .limit(LISTED)
    )


def _request(row: Any, today: date) -> ToDo:
    raised = f"Raised on {london_time(row.submitted_at, '%-d %B %Y')}."
    when = timeliness(row, today)
    status, colour = row.status.label, STATUS_COLOURS[row.status]
    if row.meeting_on is not None:
        hint = f"{raised} Meeting on {long_date(row.meeting_on)}."
    elif when == "overdue":
        hint = f"{raised} A CAF officer's first response was due by {long_date(row.respond_by)}."
        status, colour = "Overdue", "red"
    elif when == "due":
        hint = f"{raised} A CAF officer's first response is due today."
    elif row.first_response_at is None:
        hint = f"{raised} A CAF officer will respond by {long_date(row.respond_by)}."
    else:
        hint = raised
    return ToDo(
        f"{row.reference}: {row.kind.label}",
        url_for("support.show", request_id=row.id),
        hint=hint,
        status=status,
        colour=colour,
    )


def _by_school(who: Principal, schools: Sequence[School], today: date) -> ToDoList:
    """How many requests each school has open, and how many of those are overdue."""
    counts = {
        school_id: (open_, late)
        for school_id, open_, late in db.session.execute(
            select(
                SupportRequest.school_id,
                func.count(SupportRequest.id),
                func.count(case((awaiting_response(today, OVERDUE), 1))),
            )
            .where(support_request_scope(who), SupportRequest.status.in_(OPEN_STATUSES))
            .group_by(SupportRequest.school_id)
        )
    }
    items = []
    for school in schools:
        if school.id not in counts:
            continue
        open_, late = counts[school.id]
        items.append(
            ToDo(
                plural(open_, "open request"),
                url_for("support.index", school=str(school.urn)),
                hint=f"{late:,} overdue for a first response" if late else "",
                status="Overdue" if late else "",
                colour="red" if late else "",
                school_id=school.id,
            )
        )
    return ToDoList("Requests for CAF officer support", tuple(items))


def _overdue(who: Principal, today: date) -> ToDoList:
    """For a council administrator: the requests no officer has answered in time."""
    late, due = db.session.execute(
        select(
            func.count(case((awaiting_response(today, OVERDUE), 1))),
            func.count(case((awaiting_response(today, DUE_TODAY), 1))),
        ).where(support_request_scope(who), SupportRequest.status.in_(OPEN_STATUSES))
    ).one()
    items = []
    if late:
        items.append(
            ToDo(
                f"{plural(late, 'request')} overdue for a first response",
                url_for("support.index", due=OVERDUE),
                hint="No CAF officer has responded by the date the council aims to.",
                status="Overdue",
                colour="red",
            )
        )
    if due:
        items.append(
            ToDo(
                f"{plural(due, 'request')} due for a first response today",
                url_for("support.index", due=DUE_TODAY),
                hint="Waiting for a CAF officer's first response, due today.",
            )
        )
    return ToDoList("CAF officer support", tuple(items))
