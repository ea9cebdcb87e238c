"""The e-mails a request sends as it is raised, updated and given to an officer: their
bodies are templates under templates/email/support/."""

from __future__ import annotations

from typing import Any

from flask import current_app

from portal.models import SupportRequest, User
from portal.outbox import queue_email
from portal.support.statements import area_officers


def _body(name: str, **context: Any) -> str:
    # From the environment rather than render_template: an e-mail is also written outside a
    # request (seeding, the command line), where the pages' context processors cannot run.
    # Jinja drops a template's last line break; an e-mail's text ends with one.
    template = current_app.jinja_env.get_template(f"email/support/{name}")
    return template.render(**context) + "\n"


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
