"""The job queue (RQ on a real Redis) that sends the outbox and runs register imports when
REDIS_URL is set, and the embedded ways that still work without it.

Most tests run jobs here and now with RQ's SimpleWorker (no fork), in the test's app, so
they see its rolled-back transaction. The last ones start a real ``flask worker`` process,
forking and with its scheduler, on a database of their own that they may commit to.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis, RedisError
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import portal.jobs
import portal.outbox
from portal import create_app
from portal.cli import upgrade_database
from portal.clock import utcnow
from portal.db import db
from portal.jobs import (
    DELIVERY_WAITING,
    IMPORTS_QUEUE,
    MAIL_QUEUE,
    QUEUES,
    hold_app,
    queue_for,
    request_delivery,
    schedule_delivery,
)
from portal.models import Area, AuditEvent, ImportStatus, OutboxMessage, RegisterImport, School
from portal.outbox import queue_email
from portal.register import jobs as register_jobs
from tests.conftest import REDIS_URL, TEST_CONFIG, RedisLater, skip_or_fail, unused_port
from tests.helpers import wait_for
from tests.jobs.test_outbox import FlakyHandler, flaky_smtp
from tests.register.test_register import (
    BASELINE,
    DISTRICTS,
    ST_MARYS,
    apply,
    comparable,
    extract,
    fragment,
    uploaded,
)

# Worker processes and a real Redis: left out of make test-fast.
pytestmark = pytest.mark.slow

FLASK = Path(sys.executable).with_name("flask")
RQ = Path(sys.executable).with_name("rq")


@pytest.fixture
def redis_jobs() -> Iterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except RedisError as error:
        skip_or_fail(f"Redis at {REDIS_URL} cannot be reached: {error}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def queued_app(
    app: Flask,
    session: Session,
    redis_jobs: Redis,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Flask]:
    """The test app with REDIS_URL set, an empty outbox and mail written to a temporary
    directory; jobs run in it, so they see what the test wrote and it is all rolled back."""
    session.execute(delete(OutboxMessage))
    session.commit()
    settings = {
        "REDIS_URL": REDIS_URL,
        "MAIL_BACKEND": "file",
        "MAIL_DIRECTORY": str(tmp_path / "mail"),
        "OUTBOX_BACKOFF_SECONDS": 60,
        "OUTBOX_MAX_ATTEMPTS": 8,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    hold_app(app)
    yield app
    hold_app(None)


def work(connection: Redis) -> bool:
    """Do every job that is waiting (and every scheduled one that is due), as the worker
    would but in this process; True if there was any."""
    queues = [Queue(name, connection=connection) for name in QUEUES]
    # The worker takes SIGINT and SIGTERM for its warm shutdown: give them back to pytest.
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        return SimpleWorker(queues, connection=connection).work(burst=True, with_scheduler=True)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def mail_queue(connection: Redis) -> Queue:
    return Queue(MAIL_QUEUE, connection=connection)


def queue_and_commit(app: Flask, *subjects: str) -> list[int]:
    """Queue a message per subject and commit them together, as a request would."""
    with app.app_context():
        messages = [
            queue_email("head@oakfield.example", subject, f"Dear head teacher,\n\n{subject}.\n")
            for subject in subjects
        ]
        db.session.commit()
        return [message.id for message in messages]


def statuses(session: Session, ids: list[int]) -> list[str]:
    session.expire_all()
    return [session.get_one(OutboxMessage, id).status.value for id in ids]


def written_subjects(app: Flask) -> list[str]:
    directory = Path(app.config["MAIL_DIRECTORY"])
    files = sorted(directory.glob("*.eml")) if directory.exists() else []
    return sorted(
        str(message_from_bytes(path.read_bytes(), policy=policy.default)["Subject"])
        for path in files
    )


# --- the outbox on the queue ----------------------------------------------------------------


def test_committed_mail_asks_for_one_delivery_job_and_the_worker_sends_it(
    queued_app: Flask, session: Session, redis_jobs: Redis
) -> None:
    mail = mail_queue(redis_jobs)
    first = queue_and_commit(queued_app, "Your request", "Your request was answered")
    [job] = mail.get_jobs()
    assert job.func_name == "portal.jobs.deliver_outbox"
    # A second commit while that job waits shares it: the job will see this mail too.
    second = queue_and_commit(queued_app, "Buy-back reminder")
    assert mail.job_ids == [job.id]
    assert statuses(session, first + second) == ["pending"] * 3

    assert work(redis_jobs)

    assert statuses(session, first + second) == ["sent"] * 3
    assert written_subjects(queued_app) == [
        "Buy-back reminder",
        "Your request",
        "Your request was answered",
    ]
    # Nothing is left to send, so nothing waits or is scheduled.
    assert mail.count == 0
    assert mail.scheduled_job_registry.count == 0
    assert not redis_jobs.exists(DELIVERY_WAITING)


def test_mail_rolled_back_with_its_change_asks_for_nothing(
    queued_app: Flask, session: Session, redis_jobs: Redis
) -> None:
    with queued_app.app_context():
        queue_email("head@oakfield.example", "Never sent", "The change failed.")
        db.session.rollback()
        # The same session's next commit carries no mail, so asks for no delivery either.
        db.session.commit()
    assert redis_jobs.keys("rq:job:*") == []
    assert mail_queue(redis_jobs).count == 0
    assert session.scalars(select(OutboxMessage)).all() == []


def test_mail_committed_while_a_pass_runs_gets_a_pass_of_its_own(
    queued_app: Flask, session: Session, redis_jobs: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_file = portal.outbox._write_file
    late: list[int] = []

    def write_and_meanwhile_commit_more(message: OutboxMessage) -> None:
        write_file(message)
        if not late:
            # Another request commits mail after this pass chose what it would send.
            late.extend(queue_and_commit(queued_app, "Committed during the pass"))

    monkeypatch.setattr(portal.outbox, "_write_file", write_and_meanwhile_commit_more)
    first = queue_and_commit(queued_app, "Committed before")
    assert mail_queue(redis_jobs).count == 1

    work(redis_jobs)

    assert statuses(session, first + late) == ["sent", "sent"]
    assert written_subjects(queued_app) == ["Committed before", "Committed during the pass"]


def test_a_failed_send_is_retried_by_a_job_scheduled_for_when_it_is_due(
    queued_app: Flask, session: Session, redis_jobs: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on this port: the mail server is down.
    monkeypatch.setitem(queued_app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(queued_app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(queued_app.config, "SMTP_PORT", unused_port())
    [message_id] = queue_and_commit(queued_app, "Your request")
    before = utcnow()

    work(redis_jobs)

    session.expire_all()
    message = session.get_one(OutboxMessage, message_id)
    assert (message.status.value, message.attempts) == ("pending", 1)
    assert message.last_error is not None and message.last_error.startswith("ConnectionRefused")
    assert before + timedelta(seconds=60) <= message.next_attempt_at
    mail = mail_queue(redis_jobs)
    registry = mail.scheduled_job_registry
    [retry_id] = registry.get_job_ids()
    # Due when the message is, to the second (rounded up: never a moment early), and not yet.
    assert registry.get_scheduled_time(retry_id) == datetime.fromtimestamp(
        math.ceil(message.next_attempt_at.timestamp()), UTC
    )
    assert mail.count == 0
    assert not work(redis_jobs)

    # A minute on: the mail server is back, the message is due and so is its job.
    monkeypatch.setitem(queued_app.config, "MAIL_BACKEND", "file")
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.commit()
    registry.schedule(Job.fetch(retry_id, connection=redis_jobs), utcnow() - timedelta(seconds=1))

    assert work(redis_jobs)

    assert statuses(session, [message_id]) == ["sent"]
    assert session.get_one(OutboxMessage, message_id).attempts == 2
    assert written_subjects(queued_app) == ["Your request"]
    assert registry.count == 0


def test_a_retry_is_scheduled_once_however_many_ask_and_again_once_it_has_run(
    queued_app: Flask, redis_jobs: Redis
) -> None:
    # Half way through a second, so that a microsecond later is the same whole second.
    due = utcnow().replace(microsecond=500_000) + timedelta(minutes=5)
    registry = mail_queue(redis_jobs).scheduled_job_registry
    job = schedule_delivery(queued_app, due)
    assert job is not None
    assert schedule_delivery(queued_app, due + timedelta(microseconds=1)) is None
    assert registry.get_job_ids() == [job.id]

    # Once that job has started it may have looked already: a new ask gets a new job.
    job.set_status(JobStatus.STARTED)
    again = schedule_delivery(queued_app, due)
    assert again is not None and again.id != job.id
    assert again.id in registry.get_job_ids()


def test_a_delivery_that_has_started_does_not_answer_for_a_later_commit(
    queued_app: Flask, redis_jobs: Redis
) -> None:
    waiting = request_delivery(queued_app)
    assert waiting is not None
    assert request_delivery(queued_app) is None
    assert mail_queue(redis_jobs).job_ids == [waiting.id]

    waiting.set_status(JobStatus.STARTED)
    later = request_delivery(queued_app)
    assert later is not None and later.id != waiting.id
    assert redis_jobs.get(DELIVERY_WAITING) == later.id.encode()


def test_without_a_reachable_redis_mail_is_still_committed_and_imports_still_run(
    queued_app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    # Nothing listens there.
    monkeypatch.setitem(queued_app.config, "REDIS_URL", f"redis://127.0.0.1:{unused_port()}/0")
    [message_id] = queue_and_commit(queued_app, "Your request")
    assert statuses(session, [message_id]) == ["pending"]
    assert "Redis is unavailable" in caplog.text
    assert "e-mail waits in the outbox for the worker" in caplog.text

    # An import runs in this process instead (here one with nothing to do).
    thread = register_jobs.launch(queued_app, -1)
    assert isinstance(thread, threading.Thread)
    thread.join(timeout=10)
    assert "register imports run in the web server until it answers" in caplog.text


# --- register imports on the queue ----------------------------------------------------------


@pytest.fixture
def register_on_queue(
    queued_app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Flask:
    """As tests/register/test_register.py's ``register``, but the imports really are launched."""
    monkeypatch.setitem(queued_app.config, "REGISTER_IMPORT_DIRECTORY", str(tmp_path / "imports"))
    monkeypatch.setitem(queued_app.config, "COUNCIL_LA_CODES", ("937",))
    for area in session.scalars(select(Area)):
        area.districts = DISTRICTS[area.code]
    session.commit()
    return queued_app


def import_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("register-")]


def test_a_register_import_dry_runs_and_applies_through_the_worker(
    register_on_queue: Flask,
    session: Session,
    client_for: Callable[[str], FlaskClient],
    redis_jobs: Redis,
) -> None:
    imports = Queue(IMPORTS_QUEUE, connection=redis_jobs)
    admin = client_for("la_admin")
    import_id = uploaded(admin, extract())

    # Queued for the worker, not started in a thread of the web process.
    [job] = imports.get_jobs()
    assert (job.func_name, job.args) == ("portal.jobs.run_register_import", (import_id,))
    assert job.timeout >= 3600
    assert import_threads() == []
    waiting = fragment(admin, import_id).select_one("#register-import")
    assert waiting["hx-trigger"] == "every 1s"
    assert "Waiting to check" in waiting.get_text()

    assert work(redis_jobs)

    record = session.get_one(RegisterImport, import_id)
    session.refresh(record)
    assert record.status is ImportStatus.READY
    assert record.total_rows == record.processed_rows == 7
    # The report the thread gives (tests/register/test_register.py), row for row.
    assert comparable(record.report) == comparable(BASELINE) | {
        "la_codes": ["937"],
        "missing": record.report["missing"],
    }
    assert session.scalars(select(School).where(School.urn == 125700)).first() is None
    ready = fragment(admin, import_id).select_one("#register-import")
    assert not ready.has_attr("hx-trigger")
    assert "Schools to add" in ready.get_text()

    assert apply(admin, import_id).status_code == 303
    [job] = imports.get_jobs()
    assert job.args == (import_id,)
    assert "Waiting to apply" in fragment(admin, import_id).get_text()

    assert work(redis_jobs)

    session.refresh(record)
    assert record.status is ImportStatus.APPLIED
    session.expire_all()
    added = session.scalars(select(School).where(School.urn == 125700)).one()
    assert added.name == ST_MARYS
    closed = session.scalars(select(School).where(School.urn == 125602)).one()
    assert closed.status.value == "closed"
    applied = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "register.import_applied", AuditEvent.subject_id == import_id
        )
    ).one()
    assert applied.actor.email == "admin@council.example"
    assert "The changes have been applied" in fragment(admin, import_id).get_text()
    # The uploaded file goes once the import is applied; the record and its report stay.
    assert record.stored_path == ""
    assert import_threads() == []


# --- without REDIS_URL ----------------------------------------------------------------------


def test_without_redis_the_web_process_and_the_polling_worker_do_the_work(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert app.config["REDIS_URL"] is None
    assert queue_for(app) is None
    asked: list[Flask] = []
    monkeypatch.setattr(portal.jobs, "request_delivery", asked.append)
    monkeypatch.setitem(app.config, "MAIL_DIRECTORY", str(tmp_path / "mail"))
    session.execute(delete(OutboxMessage))
    session.commit()

    [message_id] = queue_and_commit(app, "Your request")
    assert asked == []
    runner = app.test_cli_runner()
    assert runner.invoke(args=["outbox", "deliver", "--once"]).output == (
        "Outbox: 1 sent, 0 to retry, 0 failed.\n"
    )
    assert statuses(session, [message_id]) == ["sent"]

    # An import runs in a thread of this process (here one with nothing to do).
    thread = register_jobs.launch(app, -1)
    assert isinstance(thread, threading.Thread)
    thread.join(timeout=10)
    assert not thread.is_alive()

    result = runner.invoke(args=["worker"])
    assert result.exit_code == 1
    assert "REDIS_URL is not set, so there is no job queue" in result.output


def test_with_redis_the_polling_worker_refuses_but_one_pass_still_runs(
    queued_app: Flask, session: Session
) -> None:
    runner = queued_app.test_cli_runner()
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 1
    assert "REDIS_URL is set, so the job queue sends e-mail" in result.output

    [message_id] = queue_and_commit(queued_app, "Your request")
    result = runner.invoke(args=["outbox", "deliver", "--once"])
    assert result.output == "Outbox: 1 sent, 0 to retry, 0 failed.\n"
    assert statuses(session, [message_id]) == ["sent"]


# --- a real worker process ------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database for worker processes to commit to: never the suite's."""
    url = f"sqlite:///{tmp_path_factory.mktemp('worker') / 'portal.sqlite3'}"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade_database()
    app.extensions["portal.db"].engine.dispose()
    return url


@pytest.fixture
def smtp_server() -> Iterator[tuple[FlakyHandler, int]]:
    with flaky_smtp(failures=1) as server:
        yield server


def environment(database_url: str, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "INFO",
        **settings,
    }


def outbox_row(app: Flask, message_id: int) -> OutboxMessage:
    """The message as the database has it now.

    A context, and so a transaction, per look: one held open between looks would hold
    SQLite's lock and keep the worker from marking the message sent.
    """
    with app.app_context():
        message = db.session.get_one(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


@contextmanager
def running_worker(database_url: str, log: Path, **settings: str) -> Iterator[subprocess.Popen]:
    """A real `flask --app portal worker` writing to ``log``, killed at the end if still up."""
    with log.open("w") as output:
        worker = subprocess.Popen(  # noqa: S603 (our own command)
            [str(FLASK), "--app", "portal", "worker"],
            env=environment(database_url, **settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_the_worker_process_sends_retries_on_its_scheduler_and_stops_on_sigterm(
    own_database: str,
    redis_jobs: Redis,
    smtp_server: tuple[FlakyHandler, int],
    tmp_path: Path,
) -> None:
    handler, port = smtp_server
    smtp = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)}
    settings = {**smtp, "OUTBOX_BACKOFF_SECONDS": "1"}
    log = tmp_path / "worker.log"
    with running_worker(own_database, log, **settings) as worker:
        wait_for(lambda: "Worker started" in log.read_text(), 30, "the worker to start")
        app = create_app(
            {**TEST_CONFIG, "DATABASE_URL": own_database, "REDIS_URL": REDIS_URL, **smtp}
        )
        [message_id] = queue_and_commit(app, "Your request")
        # Refused once ("try again later"), then sent by the job the scheduler starts a
        # second later.
        wait_for(lambda: len(handler.accepted) == 1, 30, "the retry to be accepted")
        wait_for(lambda: outbox_row(app, message_id).status == "sent", 30, "it to be marked sent")
        assert outbox_row(app, message_id).attempts == 2
        app.extensions["portal.db"].engine.dispose()
        assert handler.calls == 2
        assert handler.accepted[0]["Subject"] == "Your request"

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    text = log.read_text()
    assert f"Worker started on {', '.join(QUEUES)}, with the scheduler" in text
    assert "Worker stopped." in text


def test_the_worker_sweeps_up_mail_whose_commit_could_not_reach_redis(
    own_database: str, redis_jobs: Redis, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    settings = {"MAIL_BACKEND": "file", "MAIL_DIRECTORY": str(mail), "OUTBOX_SWEEP_SECONDS": "1"}
    log = tmp_path / "worker.log"
    with running_worker(own_database, log, **settings) as worker:
        # Its first pass, asked for as it starts, has run (and found nothing to send).
        wait_for(lambda: "Job OK" in log.read_text(), 30, "the worker's first pass")
        # The web server's Redis is away when this commits: no job is asked for.
        away = f"redis://127.0.0.1:{unused_port()}/0"
        app = create_app({**TEST_CONFIG, "DATABASE_URL": own_database, "REDIS_URL": away})
        [message_id] = queue_and_commit(app, "Sent by the sweep")
        wait_for(lambda: outbox_row(app, message_id).status == "sent", 30, "the sweep to send it")
        app.extensions["portal.db"].engine.dispose()
        assert any("Sent by the sweep" in path.read_text() for path in mail.glob("*.eml"))
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0


def test_with_redis_away_the_worker_sends_the_outbox_itself_until_redis_returns(
    own_database: str, redis_later: RedisLater, tmp_path: Path
) -> None:
    """The whole outage, as the worker meets it: started with its Redis away, it sends the
    outbox itself (saying so in the log); when Redis returns, it works the queue again."""
    mail = tmp_path / "mail"
    settings = {
        "MAIL_BACKEND": "file",
        "MAIL_DIRECTORY": str(mail),
        "OUTBOX_POLL_SECONDS": "1",
        "REDIS_URL": redis_later.url,
    }
    log = tmp_path / "worker.log"
    with running_worker(own_database, log, **settings) as worker:
        wait_for(lambda: "Redis is unavailable" in log.read_text(), 30, "the worker to say so")
        assert "the worker sends the outbox itself" in log.read_text()
        # The web server's Redis is away too: its commit asks for no job, and still commits.
        app = create_app(
            {**TEST_CONFIG, "DATABASE_URL": own_database, "REDIS_URL": redis_later.url}
        )
        [first] = queue_and_commit(app, "Sent while Redis was away")
        wait_for(lambda: outbox_row(app, first).status == "sent", 30, "the worker to send it")
        assert worker.poll() is None, "the worker stopped when Redis went away"

        redis_later.start()
        wait_for(lambda: "Redis is available again" in log.read_text(), 30, "Redis to be seen")
        [second] = queue_and_commit(app, "Sent by a job")
        wait_for(lambda: outbox_row(app, second).status == "sent", 30, "the job to send it")
        wait_for(lambda: "Job OK" in log.read_text(), 30, "the queue to be worked again")
        app.extensions["portal.db"].engine.dispose()
        written = "".join(path.read_text() for path in mail.glob("*.eml"))
        assert "Sent while Redis was away" in written
        assert "Sent by a job" in written
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0


def test_a_plain_rq_worker_makes_the_app_it_needs(
    own_database: str, redis_jobs: Redis, tmp_path: Path
) -> None:
    mail_directory = tmp_path / "mail"
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": own_database,
            "REDIS_URL": REDIS_URL,
            "MAIL_DIRECTORY": str(mail_directory),
        }
    )
    [message_id] = queue_and_commit(app, "Sent by a plain worker")
    result = subprocess.run(  # noqa: S603 (our own command)
        [str(RQ), "worker", "--burst", "--url", REDIS_URL, *QUEUES],
        env=environment(own_database, MAIL_DIRECTORY=str(mail_directory)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with app.app_context():
        assert db.session.get_one(OutboxMessage, message_id).status == "sent"
    app.extensions["portal.db"].engine.dispose()
    [written] = mail_directory.glob("*.eml")
    assert "Subject: Sent by a plain worker" in written.read_text()
