"""Anonymising requests closed long ago."""

from __future__ import annotations

from sqlalchemy import select

from portal import audit
from portal.clock import months_before, utcnow
from portal.db import db
from portal.models import SupportRequest, SupportStatus, User


def anonymise_closed(older_than_months: int, actor: User | None = None) -> int:
    """Strip the child's details and every free text from requests closed long enough ago;
    keep what the statistics need. Returns how many were anonymised."""
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
