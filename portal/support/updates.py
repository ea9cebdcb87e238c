"""Working a request: the statuses it may go to, and an officer's update (a status, a note,
or both)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.db import db, utcnow
from portal.models import (
    RedirectReason,
    SupportEvent,
    SupportOutcome,
    SupportRequest,
    SupportStatus,
    User,
)
from portal.support import emails


def add_event(request: SupportRequest, **fields: Any) -> None:
    """A new entry on ``request``'s timeline. Added to the session beside the request, not
    appended to ``request.events``: appending would first read every entry the request has
    had, a read that grows with each update, on every submission, update and assignment."""
    db.session.add(SupportEvent(request_id=request.id, **fields))


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
    add_event(
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
        emails.status_changed(request)
    try:
        db.session.commit()
    except StaleDataError as error:
        # The version check above passed, but another officer's commit landed in between.
        db.session.rollback()
        raise StaleRequest(db.session.get(SupportRequest, request.id) or request) from error


@dataclass(frozen=True)
class Saved:
    """The change was made."""


@dataclass(frozen=True)
class Conflict:
    """Someone else changed the request first: nothing was made, and the request is read
    again, as it is now, for the page that says so."""


@dataclass(frozen=True)
class Refused:
    """What was asked does not fit the request now: ``reason`` says why, in words."""

    reason: str


def update_request(
    request: SupportRequest, change: Update, actor: User, seen_version: int
) -> Saved | Conflict | Refused:
    """An officer's update to ``request`` as they saw it at ``seen_version``."""
    try:
        update(request, change, actor, seen_version)
    except StaleRequest:
        db.session.refresh(request)
        return Conflict()
    except UpdateRefused as error:
        return Refused(str(error))
    return Saved()
