"""The e-mail outbox: queued with the change, sent once, retried with backoff."""

from __future__ import annotations

import logging
import os
import re
import signal
import smtplib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import portal.outbox
from portal.clock import utcnow
from portal.db import db
from portal.models import OutboxMessage
from portal.outbox import (
    MAX_BACKOFF,
    DeliveryReport,
    backoff,
    deliver_due,
    describe_error,
    mail_directory,
    queue_email,
)
from tests.conftest import unused_port

NOTHING = DeliveryReport()


@pytest.fixture
def outbox_app(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Flask:
    """The test app with an empty outbox, writing any mail to a temporary directory.

    The demo data may have queued mail of its own; it is deleted inside the test's
    transaction, so only for this test. Settings are changed on the app itself, not on a
    new one from ``make_app``, because a new app's commits would not be rolled back.
    """
    session.execute(delete(OutboxMessage))
    session.commit()
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_DIRECTORY", str(tmp_path / "mail"))
    monkeypatch.setitem(app.config, "OUTBOX_BACKOFF_SECONDS", 60)
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 8)
    return app


def use_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch, port: int, **settings: Any) -> None:
    settings = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, **settings}
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)


def queued(recipient: str = "head@oakfield.example", subject: str = "Your request") -> int:
    """Queue a message and commit it, as a caller would; its id."""
    message = queue_email(recipient, subject, "Dear head teacher,\n\nIt is on its way.\n")
    db.session.commit()
    return message.id


@dataclass
class FlakyHandler:
    """An SMTP server's DATA handler that says "try again later" a few times, then accepts."""

    failures: int
    calls: int = 0
    accepted: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            return "451 4.3.0 Try again later"
        self.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def flaky_smtp(failures: int) -> Iterator[tuple[FlakyHandler, int]]:
    """A real SMTP server on a free port that refuses its first ``failures`` messages: its
    handler (what it accepted) and its port."""
    handler = FlakyHandler(failures=failures)
    controller = Controller(handler, hostname="127.0.0.1", port=unused_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[FlakyHandler, int]]:
    with flaky_smtp(failures=2) as server:
        yield server


def test_a_message_is_queued_only_with_the_change_that_caused_it(
    outbox_app: Flask, session: Session
) -> None:
    with outbox_app.app_context():
        queue_email("head@oakfield.example", "Never sent", "The change failed.")
        db.session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    with outbox_app.app_context():
        queue_email("head@oakfield.example", "Sent", "The change was made.")
        db.session.commit()
    message = session.scalars(select(OutboxMessage)).one()
    assert (message.subject, message.status, message.attempts) == ("Sent", "pending", 0)


@pytest.mark.parametrize(
    ("recipient", "subject"),
    [
        ("not an address", "Subject"),
        ("head@oakfield.example", "Subject\r\nBcc: everyone@example.com"),
        ("head@oakfield.example\nBcc: everyone@example.com", "Subject"),
        ("head@oakfield.example", "x" * 201),
    ],
)
def test_a_message_that_could_never_be_sent_is_refused_when_queued(
    outbox_app: Flask, recipient: str, subject: str
) -> None:
    with outbox_app.app_context(), pytest.raises(ValueError):
        queue_email(recipient, subject, "Body")


def test_the_file_backend_writes_a_readable_message_once(
    outbox_app: Flask, session: Session
) -> None:
    with outbox_app.app_context():
        message_id = queued(subject="Your request for CAF officer support: CAF-0001")
        now = utcnow()
        assert deliver_due(now=now) == DeliveryReport(sent=1)
        assert deliver_due(now=now + timedelta(days=1)) == NOTHING
        directory = mail_directory()

    files = list(directory.iterdir())
    assert len(files) == 1, "one file, and no temporary file left behind"
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-{message_id}\.eml", files[0].name)
    email = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert email["To"] == "head@oakfield.example"
    assert email["Subject"] == "Your request for CAF officer support: CAF-0001"
    assert email["From"] == "Schools Partner Portal <no-reply@council.example>"
    assert re.fullmatch(rf"<outbox\.{message_id}\.\d{{14}}@council\.example>", email["Message-ID"])
    assert email.get_content() == "Dear head teacher,\n\nIt is on its way.\n"

    message = session.get_one(OutboxMessage, message_id)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 1, now)


def test_mail_goes_to_the_instance_folder_unless_told_otherwise(outbox_app: Flask) -> None:
    outbox_app.config["MAIL_DIRECTORY"] = None
    with outbox_app.app_context():
        assert mail_directory() == Path(outbox_app.instance_path) / "mail"


def test_a_refusing_smtp_server_gets_the_message_again_later_and_exactly_once(
    outbox_app: Flask,
    session: Session,
    smtp_server: tuple[FlakyHandler, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, port = smtp_server
    use_smtp(outbox_app, monkeypatch, port, OUTBOX_BACKOFF_SECONDS=30)
    with outbox_app.app_context():
        message_id = queued()
        message = db.session.get_one(OutboxMessage, message_id)
        first_try = message.next_attempt_at

        # Attempt 1: "try again later"; due again after the backoff, and not before.
        assert deliver_due(now=first_try) == DeliveryReport(retried=1)
        assert (message.status, message.attempts) == ("pending", 1)
        assert message.next_attempt_at == first_try + timedelta(seconds=30)
        assert message.last_error == "SMTPDataError: SMTP 451 4.3.0 Try again later"
        assert deliver_due(now=first_try + timedelta(seconds=29)) == NOTHING

        # Attempt 2: refused again; the wait doubles.
        second_try = message.next_attempt_at
        assert deliver_due(now=second_try) == DeliveryReport(retried=1)
        assert (message.status, message.attempts) == ("pending", 2)
        assert message.next_attempt_at == second_try + timedelta(seconds=60)

        # Attempt 3: accepted.
        third_try = message.next_attempt_at
        assert deliver_due(now=third_try) == DeliveryReport(sent=1)
        assert deliver_due(now=third_try + timedelta(days=30)) == NOTHING

    stored = session.get_one(OutboxMessage, message_id)
    assert (stored.status, stored.attempts, stored.sent_at) == ("sent", 3, third_try)
    assert stored.last_error is None
    assert handler.calls == 3
    [received] = handler.accepted
    assert received["To"] == "head@oakfield.example"
    assert received["Subject"] == "Your request"
    assert received["Message-ID"].startswith(f"<outbox.{message_id}.")
    # SMTP carries lines ending CR LF.
    content = received.get_content().replace("\r\n", "\n")
    assert content == "Dear head teacher,\n\nIt is on its way.\n"


def test_a_mail_server_that_is_down_is_a_failed_attempt_not_an_error(
    outbox_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_smtp(outbox_app, monkeypatch, unused_port())
    with outbox_app.app_context():
        message_id = queued()
        assert deliver_due() == DeliveryReport(retried=1)
        message = db.session.get_one(OutboxMessage, message_id)
    assert message.status == "pending"
    assert message.last_error is not None
    assert message.last_error.startswith("ConnectionRefusedError:")
    assert "Traceback" not in message.last_error
    assert "\n" not in message.last_error


def test_an_unexpected_error_in_one_message_does_not_stop_the_others(
    outbox_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write_file(message: OutboxMessage) -> None:
        if message.subject == "Broken":
            raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(portal.outbox, "_write_file", write_file)
    with outbox_app.app_context():
        broken, fine = queued(subject="Broken"), queued(subject="Fine")
        assert deliver_due() == DeliveryReport(sent=1, retried=1)
        assert (
            db.session.get_one(OutboxMessage, broken).last_error
            == "RuntimeError: a bug over two lines"
        )
        assert db.session.get_one(OutboxMessage, fine).status == "sent"


def test_an_error_is_kept_as_one_short_line() -> None:
    refused = smtplib.SMTPRecipientsRefused({"a@b.example": (550, b"5.1.1 No such user")})
    assert describe_error(refused) == "SMTPRecipientsRefused: SMTP 550 5.1.1 No such user"
    long = describe_error(OSError("line one\nline two " + "x" * 1000))
    assert long.startswith("OSError: line one line two xxx")
    assert len(long) == 500


def test_a_message_that_keeps_failing_is_given_up_on_and_left_alone(
    outbox_app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    use_smtp(outbox_app, monkeypatch, unused_port(), OUTBOX_MAX_ATTEMPTS=3)
    with outbox_app.app_context():
        message_id = queued()
        message = db.session.get_one(OutboxMessage, message_id)
        reports = []
        for _ in range(3):
            reports.append(deliver_due(now=message.next_attempt_at))
        assert reports == [DeliveryReport(retried=1)] * 2 + [DeliveryReport(failed=1)]
        assert (message.status, message.attempts) == ("failed", 3)
        assert deliver_due(now=utcnow() + timedelta(days=365)) == NOTHING
        assert message.attempts == 3
    [given_up] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert f"outbox message {message_id} failed after 3 attempts" in given_up.getMessage()


def test_a_message_that_is_not_due_is_not_sent(outbox_app: Flask, session: Session) -> None:
    now = utcnow()
    with outbox_app.app_context():
        message_id = queued()
        message = db.session.get_one(OutboxMessage, message_id)
        message.next_attempt_at = now + timedelta(minutes=10)
        db.session.commit()
        assert deliver_due(now=now) == NOTHING
        assert deliver_due(now=now + timedelta(minutes=10)) == DeliveryReport(sent=1)


def test_messages_go_oldest_first_and_a_pass_sends_no_more_than_its_limit(
    outbox_app: Flask,
) -> None:
    with outbox_app.app_context():
        ids = [queued(subject=f"Message {number}") for number in range(3)]
        assert deliver_due(limit=2) == DeliveryReport(sent=2)
        statuses = [db.session.get_one(OutboxMessage, id).status for id in ids]
    assert statuses == ["sent", "sent", "pending"]


def test_deliver_once_from_the_command_line(outbox_app: Flask) -> None:
    with outbox_app.app_context():
        queued()
        queued()
    result = outbox_app.test_cli_runner().invoke(args=["outbox", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output == "Outbox: 2 sent, 0 to retry, 0 failed.\n"


def test_an_unknown_mail_backend_stops_the_command(outbox_app: Flask) -> None:
    outbox_app.config["MAIL_BACKEND"] = "pigeon"
    result = outbox_app.test_cli_runner().invoke(args=["outbox", "deliver", "--once"])
    assert result.exit_code != 0
    assert "MAIL_BACKEND must be one of" in result.output


def run_worker(app: Flask, monkeypatch: pytest.MonkeyPatch, stop: Callable[[], None]) -> Any:
    """Run the looping worker; after its first pass, ``stop`` is called during the second."""
    passes: list[DeliveryReport] = []
    real_deliver_due = portal.outbox.deliver_due

    def deliver_then_stop(**kwargs: Any) -> DeliveryReport:
        if passes:
            stop()
        passes.append(real_deliver_due(**kwargs))
        return passes[-1]

    monkeypatch.setattr(portal.outbox, "deliver_due", deliver_then_stop)
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", 0)
    return app.test_cli_runner().invoke(args=["outbox", "deliver"])


def test_the_worker_finishes_its_pass_and_stops_on_sigterm(
    outbox_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = signal.getsignal(signal.SIGTERM)

    def send_sigterm() -> None:
        # Only with the worker's own handler in place: the default would end the test run.
        assert signal.getsignal(signal.SIGTERM) is not before, "no SIGTERM handler"
        os.kill(os.getpid(), signal.SIGTERM)

    with outbox_app.app_context():
        queued()
    result = run_worker(outbox_app, monkeypatch, send_sigterm)
    assert result.exit_code == 0, result.output
    assert "Outbox: 1 sent, 0 to retry, 0 failed." in result.output
    assert result.output.endswith("Outbox worker stopped.\n")
    assert signal.getsignal(signal.SIGTERM) is before, "the worker put the old handler back"


def test_the_worker_stops_on_ctrl_c(outbox_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    result = run_worker(outbox_app, monkeypatch, interrupt)
    assert result.exit_code == 0, result.output
    assert result.output.endswith("Outbox worker stopped.\n")


def test_two_workers_never_send_the_same_message(
    database_url: str,
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """One worker holds a message while it sends; the other skips it and takes the next."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite ignores FOR UPDATE SKIP LOCKED; run one worker on it")
    # Two apps, two connection pools: two workers. Their commits are real, so the messages
    # are dated long ago and `now` is set just after: the demo's own mail is not due then,
    # and the test deletes its messages at the end.
    workers = [make_app(MAIL_DIRECTORY=str(tmp_path)) for _ in range(2)]
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    sent: dict[str, list[int]] = {"first": [], "second": []}
    first_is_sending, release_first = threading.Event(), threading.Event()

    def send(message: OutboxMessage) -> None:
        name = threading.current_thread().name
        sent[name].append(message.id)
        if name == "first":
            first_is_sending.set()
            release_first.wait(timeout=10)

    monkeypatch.setattr(portal.outbox, "_write_file", send)
    with workers[0].app_context():
        messages = [
            queue_email("head@oakfield.example", f"Message {number}", "Body") for number in range(2)
        ]
        for message in messages:
            message.next_attempt_at = long_ago
        db.session.commit()
        ids = [message.id for message in messages]

    reports: dict[str, DeliveryReport] = {}

    def work(name: str, app: Flask, limit: int) -> None:
        with app.app_context():
            reports[name] = deliver_due(limit=limit, now=long_ago + timedelta(days=1))

    first = threading.Thread(target=work, args=("first", workers[0], 1), name="first")
    second = threading.Thread(target=work, args=("second", workers[1], 50), name="second")
    try:
        first.start()
        assert first_is_sending.wait(timeout=10)
        second.start()
        second.join(timeout=10)
        assert not second.is_alive(), "the second worker waited for the first one's lock"
    finally:
        release_first.set()
        first.join(timeout=10)
        second.join(timeout=10)
        with workers[0].app_context():
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            db.session.commit()
    assert sent == {"first": [ids[0]], "second": [ids[1]]}
    assert reports == {"first": DeliveryReport(sent=1), "second": DeliveryReport(sent=1)}


@given(
    base=st.integers(min_value=0, max_value=2 * 3600),
    attempts=st.integers(min_value=1, max_value=1000),
)
def test_backoff_doubles_and_is_capped_at_an_hour(base: int, attempts: int) -> None:
    wait = backoff(attempts, base)
    assert timedelta(0) <= wait <= backoff(attempts + 1, base) <= MAX_BACKOFF
    uncapped = base * 2 ** (attempts - 1)
    assert wait == (MAX_BACKOFF if uncapped >= 3600 else timedelta(seconds=uncapped))
