"""Giving a request to one of its area's CAF officers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.access import may_be_assigned_support_request
from portal.db import db
from portal.models import SupportRequest, User
from portal.support import emails
from portal.support.updates import (
    Conflict,
    Refused,
    StaleRequest,
    UpdateRefused,
    add_event,
    refusal,
    takes_updates,
)


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
    add_event(request, actor=actor, assignment=True, assigned_to=officer, shared_with_school=False)
    audit.record(
        "support.assigned",
        actor=actor,
        subject=request,
        reference=request.reference,
        from_officer=before.email if before else None,
        to_officer=officer.email if officer else None,
    )
    if officer is not None and officer != actor:
        emails.assigned(request, officer, actor)
    try:
        db.session.commit()
    except StaleDataError as error:
        # Another officer's change landed between reading the request and this commit.
        db.session.rollback()
        raise StaleRequest(db.session.get(SupportRequest, request.id) or request) from error
    return True


@dataclass(frozen=True)
class Assigned:
    """The request is with whom it was given to; ``changed`` is False when it was already."""

    changed: bool


def assign_request(
    request: SupportRequest, officer_id: int | None, actor: User
) -> Assigned | Conflict | Refused:
    """Give ``request`` to the officer ``officer_id`` (None: to nobody), as :func:`assign`."""
    try:
        changed = assign(request, officer_id, actor)
    except StaleRequest:
        db.session.refresh(request)
        return Conflict()
    except UpdateRefused as error:
        return Refused(str(error))
    return Assigned(changed)
