"""A support request as its page shows it: read as plain values, in one statement."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import CompoundSelect, bindparam, null, select, union_all

from portal.access import (
    Principal,
    SupportScope,
    support_request_condition,
    support_request_scope_shape,
    visible_support_events,
)
from portal.db import driver_records
from portal.models import Area, School, SupportEvent, SupportRequest, User
from portal.support.statements import OPEN_REQUESTS, officers_of


class Officer(NamedTuple):
    """A CAF officer as the form that gives a request to one names them."""

    id: int
    display_name: str


@dataclass(frozen=True)
class ShownRequest:
    """A support request as its page shows it, read as plain values: ``request`` has the
    request's columns with ``school_name``, ``area_name``, ``requester_name``,
    ``requester_email`` and ``officer_name`` (None while nobody has it); ``events`` the
    events its reader may see (access.visible_support_events), oldest first, with
    ``actor_name`` and ``assigned_to_name``; ``officers``, while the request is open, whom
    it may be given to: its area's CAF officers."""

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
    officers_of(
        select(SupportRequest.area_id)
        .where(
            SupportRequest.id == bindparam("request_id"),
            OPEN_REQUESTS,
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
    return ShownRequest(shown, visible_support_events(who, events), choices)
