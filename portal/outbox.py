"""The e-mail outbox: mail is queued with the change that causes it and sent by a worker.

``queue_email`` adds a message to the caller's session, so it is committed (or rolled back)
with the change it tells someone about. ``deliver_due``, run by ``flask --app portal outbox
deliver``, sends what is due, one message per short transaction, retrying with backoff.

A message is marked sent in the transaction that holds its row lock while it is sent, so
two workers never both send it. If the worker dies between the send and the commit the
message is sent again later; its Message-ID stays the same so the receiver can tell.

With REDIS_URL set, the commit that keeps queued mail also asks the job queue for a
delivery pass (``portal.jobs``), and ``flask --app portal worker`` runs it instead.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.db import db
from portal.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# Bounds how long one send (and so the row lock held across it) can take.
SMTP_TIMEOUT_SECONDS = 30
ERROR_LENGTH = 500  # the width of OutboxMessage.last_error
RECIPIENT_LENGTH = 254
SUBJECT_LENGTH = 200
ATTACHMENT_NAME_LENGTH = 100  # the width of OutboxMessage.attachment_name and _type
MAIL_BACKENDS = ("file", "smtp")
# In a session's info: the app whose outbox the session's transaction adds mail to.
MAIL_QUEUED = "portal.outbox.mail_queued"


@dataclass(frozen=True)
class Attachment:
    """One text file sent with a message, such as a calendar file: its name, its MIME type
    with any parameters (``text/calendar; method=PUBLISH``), and its text."""

    name: str
    content_type: str
    text: str


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"


def email_body(template: str, **context: Any) -> str:
    """An e-mail's text from its template (``email/<capability>/<name>.txt``), ending in a
    line break as a plain-text message should. Rendered without the pages' context (the
    signed-in person, the navigation): a message is often written outside a request, by a
    command or the job queue, and says only what it is given."""
    text = current_app.jinja_env.get_template(template).render(**context)
    return text.rstrip("\n") + "\n"


def queue_email(
    recipient: str, subject: str, body: str, attachment: Attachment | None = None
) -> OutboxMessage:
    """Add an e-mail to the current session; it is sent once the caller commits. With an
    ``attachment``, it is sent as a multipart message: the text, then the file.

    Raises ValueError for a recipient or subject that could never be sent, so that the
    mistake surfaces in the request that made it rather than in the worker's log.
    """
    if "@" not in recipient or len(recipient) > RECIPIENT_LENGTH:
        raise ValueError(f"not an e-mail address: {recipient!r}")
    if len(subject) > SUBJECT_LENGTH:
        raise ValueError(f"subject longer than {SUBJECT_LENGTH} characters")
    # A line break in a header would let the text write headers of its own.
    if any(ch in value for value in (recipient, subject) for ch in "\r\n"):
        raise ValueError("line breaks are not allowed in a recipient or subject")
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        body=body,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    if attachment is not None:
        _check_attachment(attachment)
        message.attachment_name = attachment.name
        message.attachment_type = attachment.content_type
        message.attachment = attachment.text
    db.session.add(message)
    db.session.info[MAIL_QUEUED] = current_app._get_current_object()
    return message


def _check_attachment(attachment: Attachment) -> None:
    if not attachment.content_type.startswith("text/"):
        raise ValueError(f"only text attachments are sent, not {attachment.content_type!r}")
    if max(len(attachment.name), len(attachment.content_type)) > ATTACHMENT_NAME_LENGTH:
        raise ValueError(f"attachment name or type longer than {ATTACHMENT_NAME_LENGTH}")
    if any(ch in value for value in (attachment.name, attachment.content_type) for ch in "\r\n"):
        raise ValueError("line breaks are not allowed in an attachment's name or type")


# The app's extension under which the job queue leaves what to do once mail is committed
# (portal.jobs.init_app, called by create_app when there is a queue): the outbox does not
# import the queue, which imports the outbox to send it.
MAIL_COMMITTED = "portal.mail_committed"


@event.listens_for(Session, "after_commit")
def _request_delivery(session: Session) -> None:
    """Once mail is committed, and only then, ask the job queue (if any) to send it."""
    app: Flask | None = session.info.pop(MAIL_QUEUED, None)
    if app is None:
        return
    committed = app.extensions.get(MAIL_COMMITTED)
    if committed is not None:
        committed(app)


@event.listens_for(Session, "after_rollback")
def _forget_mail(session: Session) -> None:
    # The mail went with the rollback: nothing to send.
    session.info.pop(MAIL_QUEUED, None)


def next_attempt_due() -> datetime | None:
    """When the next pending message is due (perhaps already), or None if none is pending."""
    return db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    )


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """How long to wait after the attempts-th failure: doubling each time, at most an hour."""
    # The exponent is capped first so that a large count cannot build a huge number.
    seconds = base_seconds * 2 ** min(max(attempts - 1, 0), 32)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def deliver_due(limit: int = 50, now: datetime | None = None) -> DeliveryReport:
    """Send up to ``limit`` due messages, oldest first; commit after each one.

    Needs an app context. It commits the session, so call it with nothing else pending.
    ``now`` fixes the clock (tests); by default each message is stamped as it is handled.
    """
    send = _backend()
    cutoff = now or utcnow()
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    session = db.session
    report = DeliveryReport()
    handled: list[int] = []
    for _ in range(limit):
        # One message per transaction: its row stays locked while it is sent, and other
        # workers skip it rather than wait (PostgreSQL; SQLite ignores this and runs one
        # worker). Messages handled in this pass are left alone even if already due again.
        message = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= cutoff,
                OutboxMessage.id.not_in(handled),
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            # Another worker may have changed this row since the session last saw it.
            .execution_options(populate_existing=True)
        ).first()
        if message is None:
            break
        handled.append(message.id)
        message.attempts += 1
        try:
            send(message)
        except Exception as error:
            # Any exception: one message that cannot be sent must not hold up the rest.
            _record_failure(message, error, clock(), report)
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = clock()
            message.last_error = None
            report.sent += 1
        session.commit()
    return report


def _record_failure(
    message: OutboxMessage,
    error: Exception,
    moment: datetime,
    report: DeliveryReport,
) -> None:
    message.last_error = describe_error(error)
    # A failure we did not expect (not the network, not the mail server) is a bug: keep its
    # traceback in the log, though never in the database.
    traceback = None if isinstance(error, smtplib.SMTPException | OSError) else error
    if message.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"]):
        message.status = OutboxStatus.FAILED
        report.failed += 1
        log.error(
            "outbox message %s failed after %s attempts, giving up: %s",
            message.id,
            message.attempts,
            message.last_error,
            exc_info=traceback,
        )
        return
    delay = backoff(message.attempts, float(current_app.config["OUTBOX_BACKOFF_SECONDS"]))
    message.next_attempt_at = moment + delay
    report.retried += 1
    log.warning(
        "outbox message %s attempt %s failed, retrying in %s: %s",
        message.id,
        message.attempts,
        delay,
        message.last_error,
        exc_info=traceback,
    )


def describe_error(error: Exception) -> str:
    """One line for last_error: what went wrong, never a traceback."""
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        description = f"{type(error).__name__}: SMTP {error.smtp_code} {text}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = ", ".join(
            f"{code} {reply.decode(errors='replace')}" for code, reply in error.recipients.values()
        )
        description = f"SMTPRecipientsRefused: SMTP {replies}"
    else:
        description = f"{type(error).__name__}: {error}"
    return " ".join(description.split())[:ERROR_LENGTH]


def build_email(message: OutboxMessage) -> EmailMessage:
    """The message as RFC 5322 mail, the same however it is delivered."""
    sender = current_app.config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # Fixed per message, so a retry of a message the receiver did accept can be recognised;
    # the creation time keeps ids apart across databases whose ids start again from 1.
    email["Message-ID"] = f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    # RFC 3834: sent by the portal, not a person, so out-of-office replies are not sent back.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    if message.attachment is not None:
        _attach(email, message)
    return email


def _attach(email: EmailMessage, message: OutboxMessage) -> None:
    """The message's text attachment, under its MIME type and parameters (a calendar file's
    ``method``, which mail programs read to offer to add it to a calendar)."""
    kind, *parameters = (message.attachment_type or "text/plain").split(";")
    maintype, _, subtype = kind.strip().partition("/")
    if maintype != "text" or not subtype:
        raise ValueError(f"only text attachments are sent, not {message.attachment_type!r}")
    params = dict(
        (name.strip(), value.strip()) for name, _, value in (p.partition("=") for p in parameters)
    )
    email.add_attachment(
        message.attachment,
        subtype=subtype,
        filename=message.attachment_name or "attachment.txt",
        params=params,
    )


def _backend() -> Callable[[OutboxMessage], None]:
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "file":
        return _write_file
    if backend == "smtp":
        return _send_smtp
    raise ValueError(f"MAIL_BACKEND must be one of {MAIL_BACKENDS}, not {backend!r}")


def mail_directory() -> Path:
    configured = current_app.config.get("MAIL_DIRECTORY")
    return Path(configured) if configured else Path(current_app.instance_path) / "mail"


def _write_file(message: OutboxMessage) -> None:
    """Write the message as an .eml file, for a person to read: development and demos."""
    directory = mail_directory()
    directory.mkdir(parents=True, exist_ok=True)
    # Named by creation time and id: a resend after a crash replaces the file, not doubles it.
    name = f"{message.created_at:%Y%m%dT%H%M%SZ}-{message.id}.eml"
    data = bytes(build_email(message))
    # Written under a temporary name and renamed, so nobody ever reads half a message.
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _send_smtp(message: OutboxMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(
        config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=SMTP_TIMEOUT_SECONDS
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(build_email(message))
