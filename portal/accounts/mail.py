"""The e-mails accounts send: their bodies are templates (templates/email/accounts/), their
links full addresses."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from portal.models import OutboxMessage
from portal.outbox import email_body, queue_email


def external_url(endpoint: str, **values: Any) -> str:
    """A full link for an e-mail: under PORTAL_URL when set, else from this request's host."""
    base = current_app.config.get("PORTAL_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def service_name() -> str:
    return str(current_app.config["SERVICE_NAME"])


def send_email(recipient: str, subject: str, template: str, **context: Any) -> OutboxMessage:
    """Queue an e-mail (sent once the caller commits) whose body is
    templates/email/accounts/``template``.txt drawn with ``context``."""
    return queue_email(recipient, subject, email_body(f"email/accounts/{template}.txt", **context))
