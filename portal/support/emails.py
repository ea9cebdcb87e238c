"""The e-mails a request sends as it is raised, updated and given to an officer: their
bodies are templates under portal/templates/email/support/."""

from __future__ import annotations

from typing import Any

from portal.models import SupportRequest, User
from portal.outbox import email_body, queue_email
from portal.support.statements import area_officers


def _body(name: str, **context: Any) -> str:
    return email_body(f"email/support/{name}", **context)


def submitted(request: SupportRequest) -> None:
    """Tell the requester their request has arrived, and the area's officers it is there."""
    queue_email(
        request.requester.email,
        f"Your request for CAF officer support: {request.reference}",
        _body("submitted.txt", request=request),
    )
    for officer in area_officers(request.area_id):
        queue_email(
            officer.email,
            f"New CAF support request {request.reference} ({request.urgency.label})",
            _body("new-request.txt", request=request),
        )


def status_changed(request: SupportRequest) -> None:
    queue_email(
        request.requester.email,
        f"Update on your CAF support request {request.reference}: {request.status.label}",
        _body("status-changed.txt", request=request),
    )


def assigned(request: SupportRequest, officer: User, actor: User) -> None:
    queue_email(
        officer.email,
        f"CAF support request {request.reference} is now yours",
        _body("assigned.txt", request=request, officer=officer, actor=actor),
    )
