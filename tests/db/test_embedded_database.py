"""The embedded database (SQLite, what `make run` uses) with more than one writer at once.

`make run` starts the web server and `flask outbox deliver` side by side on one SQLite file,
and the server answers several requests at once on threads: each is a writer. These tests
run them for real, on a file of their own (their commits are real, so never the suite's
shared database), and check that no write fails with "database is locked" and that nothing
anyone did is lost.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import audit, create_app
from portal.cli import upgrade_database
from portal.clock import utcnow
from portal.db import db
from portal.models import AuditEvent, OutboxMessage, SupportEvent, SupportRequest, User
from portal.outbox import queue_email
from portal_seed.demo import seed
from tests.conftest import TEST_CONFIG, sign_in
from tests.helpers import wait_for

# The outbox worker and a web server in processes of their own: left out of make test-fast.
pytestmark = pytest.mark.slow

FLASK = Path(sys.executable).with_name("flask")
OFFICER = "caf.north@council.example"
HEAD = "head@oakfield.example"
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def own_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded SQLite file for these tests alone."""
    folder = tmp_path_factory.mktemp("embedded")
    url = f"sqlite:///{folder / 'portal.sqlite3'}"
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": url,
            "MAIL_DIRECTORY": str(folder),
            "CLAIM_EVIDENCE_DIRECTORY": str(folder / "claim-evidence"),
        }
    )
    with app.app_context():
        upgrade_database()
        seed()
    app.extensions["portal.db"].engine.dispose()
    return url


@pytest.fixture
def own_app(own_database: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {**TEST_CONFIG, "DATABASE_URL": own_database, "MAIL_DIRECTORY": str(tmp_path / "mail")}
    )
    yield app
    app.extensions["portal.db"].engine.dispose()


def head_teacher() -> User:
    return db.session.scalars(select(User).where(User.email == HEAD)).one()


def test_the_file_keeps_a_write_ahead_log_and_writers_wait_their_turn(own_app: Flask) -> None:
    with own_app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_write_after_reading_goes_through_when_another_wrote_in_between(
    own_app: Flask,
) -> None:
    """A request reads, another commits a change, and the first then writes: on a
    transaction begun by its read, SQLite would refuse that write ("database is locked")."""
    with own_app.app_context():
        head = head_teacher()  # the first request reads
        with own_app.app_context():  # a second request, with its own session, writes
            audit.record("test.between", actor=head_teacher())
            db.session.commit()
        audit.record("test.after_reading", actor=head)
        db.session.commit()
        recorded = (
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action.in_(["test.between", "test.after_reading"]))
        )
        assert db.session.scalar(recorded) == 2


def test_a_second_writer_waits_for_the_first_to_commit(own_app: Flask) -> None:
    holding, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with own_app.app_context():
            audit.record("test.first", actor=head_teacher())
            db.session.flush()  # the write lock is taken here and held to the commit
            holding.set()
            release.wait(timeout=10)
            time.sleep(0.5)
            db.session.commit()

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        release.set()
        with own_app.app_context():
            started = time.monotonic()
            audit.record("test.second", actor=head_teacher())
            db.session.commit()
            waited = time.monotonic() - started
    finally:
        release.set()
        thread.join(timeout=10)
    assert waited >= 0.3, "the second writer did not wait for the first"
    with own_app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.in_(["test.first", "test.second"]))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["test.first", "test.second"]


def count(app: Flask, statement: object) -> int:
    # A context, and so a transaction, per look.
    with app.app_context():
        return int(db.session.scalar(statement) or 0)


def test_the_outbox_worker_and_the_web_server_write_at_once_and_lose_nothing(
    own_database: str, own_app: Flask, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    app = own_app
    with app.app_context():
        # Mail enough to keep the worker writing for the whole test.
        for number in range(300):
            queue_email(HEAD, f"Message {number}", "Body")
        db.session.commit()
        request_id = db.session.scalars(
            select(SupportRequest.id).where(SupportRequest.area.has(code="north")).limit(1)
        ).one()
    messages = select(func.count()).select_from(OutboxMessage)
    pending = messages.where(OutboxMessage.status == "pending")
    notes = select(func.count()).select_from(SupportEvent).where(SupportEvent.note.like("Note %"))
    sign_ins = (
        select(func.count())
        .select_from(AuditEvent)
        .join(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.action == "auth.sign_in", User.email == HEAD)
    )
    signed_in_before = count(app, sign_ins)

    log = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": own_database,
        "MAIL_DIRECTORY": str(mail),
        "OUTBOX_POLL_SECONDS": "1",
    }
    environment.pop("REDIS_URL", None)
    with log.open("w") as output:
        worker = subprocess.Popen(  # noqa: S603 (our own command)
            [str(FLASK), "--app", "portal", "outbox", "deliver"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    failures: list[str] = []
    answers: dict[str, list[int]] = {"sign-in": [], "note": []}

    def keep_signing_in() -> None:
        for _ in range(20):
            client = app.test_client()
            answers["sign-in"].append(sign_in(client, HEAD).status_code)

    def keep_adding_notes() -> None:
        officer = app.test_client()
        assert sign_in(officer, OFFICER).status_code == 303
        for number in range(20):
            page = officer.get(f"/support/{request_id}").get_data(as_text=True)
            version, token = VERSION.search(page), TOKEN.search(page)
            assert version and token
            response = officer.post(
                f"/support/{request_id}",
                data={
                    "csrf_token": token.group(1),
                    "version": version.group(1),
                    "action": "note",
                    "note": f"Note {number}",
                    "shared": "council",
                },
            )
            answers["note"].append(response.status_code)

    def keep_queueing_mail() -> None:
        # As requests that send mail do: more for the worker while the others write.
        for number in range(40):
            with app.app_context():
                queue_email(HEAD, f"Later message {number}", "Body")
                db.session.commit()

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except Exception as error:  # the failure is the test's to report
                failures.append(f"{type(error).__name__}: {error}")

        return run

    try:
        wait_for(lambda: "Outbox worker started" in log.read_text(), 30, "the worker to start")
        threads = [
            threading.Thread(target=guarded(keep_signing_in)),
            threading.Thread(target=guarded(keep_signing_in)),
            threading.Thread(target=guarded(keep_adding_notes)),
            threading.Thread(target=guarded(keep_queueing_mail)),
        ]
        started = utcnow()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        finished = utcnow()
        wait_for(lambda: count(app, pending) == 0, 60, "the worker to send every message")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    text = log.read_text()
    assert failures == []
    assert "locked" not in text and "Traceback" not in text, text
    assert answers == {"sign-in": [303] * 40, "note": [303] * 20}
    assert count(app, notes) == 20
    assert count(app, sign_ins) == signed_in_before + 40
    sent = messages.where(OutboxMessage.status == "sent")
    assert count(app, sent) == len(list(mail.glob("*.eml"))) >= 340
    # The worker was writing while the requests were.
    assert count(app, messages.where(OutboxMessage.sent_at.between(started, finished))) > 0
