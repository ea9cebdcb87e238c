"""The audit log: who did what, to which record, from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from portal.db import db
from portal.models import AuditEvent, User


def record(
    action: str,
    *,
    actor: User | None = None,
    subject: Any = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current session; it is committed with the change it records."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=getattr(subject, "id", None),
        ip_address=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    db.session.add(event)
    return event
