"""The job queue (RQ on Redis), when REDIS_URL is set: the outbox and register imports.

Without REDIS_URL nothing here runs: ``flask --app portal outbox deliver`` polls the outbox
and a register import runs in a thread of the web process. With it, ``flask --app portal
worker`` works two queues, mail before imports, with RQ's scheduler for delayed retries.

The database stays the source of truth. A job carries no data, only "look now": the outbox
table says what to send and the import's row what to do, so a lost or doubled job costs a
pass, never a message or a change.

Redis away stops nothing: a commit keeps its mail in the outbox, the worker sends the outbox
itself until Redis answers again, and an import runs in the web server; each says so once in
the log (``redis_away``).

Jobs run in the app that ``flask worker`` holds (``hold_app``). A worker started some other
way (``rq worker portal-mail portal-imports``) makes one from the environment, once per
process.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import signal
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from portal import create_app
from portal.outbox import MAIL_COMMITTED, SMTP_TIMEOUT_SECONDS, deliver_due, next_attempt_due

log = logging.getLogger(__name__)

# Mail first: a worker takes the next delivery before the next import, though it never
# interrupts an import it has started (run two workers to keep mail moving during one).
MAIL_QUEUE = "portal-mail"
IMPORTS_QUEUE = "portal-imports"
QUEUES = (MAIL_QUEUE, IMPORTS_QUEUE)

# Holds the id of a delivery job that has been asked for and has not yet started its pass.
DELIVERY_WAITING = "portal:outbox:delivery-waiting"
# Only tidiness: a stale id is noticed anyway, because its job is no longer waiting.
DELIVERY_WAITING_SECONDS = 3600
# Messages per delivery job, as in the polling worker: a job that ends soon lets a stopping
# worker stop soon; a full pass asks for another at once.
MAIL_PASS_LIMIT = 50
# Time enough for a whole pass of sends that each time out.
MAIL_JOB_TIMEOUT = MAIL_PASS_LIMIT * SMTP_TIMEOUT_SECONDS + 60
# A pass that fails outright (the database away) is tried again, then left for the next
# commit that queues mail or the next start of the worker.
MAIL_JOB_RETRY = Retry(max=3, interval=[30, 120, 600])
# Generous: all of England's extract takes minutes; an import that is truly stuck stops
# sending heartbeats and its page says so after register.jobs.STALLED_AFTER.
IMPORT_JOB_TIMEOUT = 2 * 3600
# Statuses of a job that has not yet begun its work.
WAITING = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED})
# What stops a worker: SIGTERM from the service manager, Ctrl-C at a terminal.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_held: Flask | None = None
_held_pid = 0


def hold_app(app: Flask | None) -> None:
    """The app jobs in this process run in (``flask worker`` holds its own; tests theirs)."""
    global _held, _held_pid
    _held, _held_pid = app, os.getpid()


IMPORT_RUNNER = "portal.jobs.run_import"


def init_app(app: Flask, *, run_import: Callable[[Flask, int], None]) -> None:
    """Wire the queue into the app as it is made: what a register import job runs
    (portal.register.jobs, which imports this module to queue its jobs), and asking, with
    REDIS_URL, for a delivery pass once mail is committed (portal.outbox, which this
    module imports to send the mail)."""
    app.extensions[IMPORT_RUNNER] = run_import
    app.extensions[MAIL_COMMITTED] = _mail_committed


def _mail_committed(app: Flask) -> None:
    if not app.config.get("REDIS_URL"):
        return  # no queue: the outbox loop sends it
    # The change and its mail are committed: failing the request now would tell the person
    # it was not. The mail waits for the next pass (the next commit that queues mail, the
    # worker's sweep, which sends it itself while Redis is away, or `flask outbox deliver
    # --once`).
    try:
        request_delivery(app)
    except RedisError as error:
        redis_away(app, MAIL_WAITS, error)
    except Exception:
        log.exception("could not ask the job queue to send the outbox")
    else:
        redis_back(app)


def worker_app() -> Flask:
    """The held app, or one made from the environment the first time a job needs it."""
    global _held_pid
    if _held is None:
        hold_app(create_app())
    assert _held is not None
    if _held_pid != os.getpid():
        # A forked work horse: connections in the pool belong to the parent, whose
        # sockets must not be shared; the child opens its own (SQLAlchemy's fork recipe).
        _held.extensions["portal.db"].dispose(close=False)
        _held_pid = os.getpid()
    return _held


@functools.cache
def redis_connection(url: str) -> Redis:
    """One client (and connection pool) per Redis URL per process."""
    # A Redis that hangs must not hang the request whose commit asks for a job. (RQ's
    # worker lengthens the read timeout on its own connection to outlast its waits.)
    return Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)


def queue_for(app: Flask, name: str = MAIL_QUEUE) -> Queue | None:
    """The named queue on the app's Redis, or None without REDIS_URL."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    return Queue(name, connection=redis_connection(url))


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Work the portal's queues until stopped (SIGTERM or Ctrl-C, after the job in hand);
    with ``burst``, until they are empty. True if any job was done.

    While Redis cannot be reached the worker keeps going without it: it sends the outbox
    itself every OUTBOX_POLL_SECONDS (the sweep, below) and works the queues again once
    Redis answers.
    """
    queues = [queue for name in QUEUES if (queue := queue_for(app, name)) is not None]
    if not queues:
        raise ValueError("the job queue needs REDIS_URL")
    hold_app(app)
    if burst:
        try:
            # Mail queued while no worker ran, or while Redis could not be reached, goes now.
            request_delivery(app)
            return _work(app, queues, burst=True)
        except RedisError as error:
            redis_away(app, SENDING_HERE, error)
            _deliver_here(app)
            return False
    stop_sweeping = threading.Event()
    # Its first pass asks at once for the mail queued while no worker ran, or while Redis
    # could not be reached.
    threading.Thread(
        target=_sweep, args=(app, stop_sweeping), name="outbox-sweep", daemon=True
    ).start()
    worked = False
    try:
        while True:
            try:
                worked = _work(app, queues, burst=False) or worked
            except RedisError as error:
                redis_away(app, SENDING_HERE, error)
            if redis_answers(app):
                # RQ stopped because it was asked to.
                return worked
            # RQ gave up on Redis: the sweep sends the mail meanwhile.
            if not _wait_for_redis(app):
                return worked
    finally:
        stop_sweeping.set()


def _work(app: Flask, queues: list[Queue], *, burst: bool) -> bool:
    worker = Worker(queues, connection=queues[0].connection)
    return worker.work(burst=burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])


def _sweep(app: Flask, stop: threading.Event) -> None:
    """Ask for a delivery pass every OUTBOX_SWEEP_SECONDS, however quiet things are; while
    Redis is away, send the outbox here every OUTBOX_POLL_SECONDS instead.

    A commit asks for its own pass; this is for the mail whose commit could not reach Redis,
    or whose job gave up its retries while the database was away. Several workers sweeping
    cost nothing: request_delivery makes one job for them all.
    """
    while True:
        wait = app.config["OUTBOX_SWEEP_SECONDS"]
        try:
            request_delivery(app)
            redis_back(app)
        except RedisError as error:
            redis_away(app, SENDING_HERE, error)
            _deliver_here(app)
            wait = app.config["OUTBOX_POLL_SECONDS"]
        except Exception:
            log.exception("outbox sweep could not ask for a delivery pass; trying again later")
        if stop.wait(wait):
            return


def _deliver_here(app: Flask) -> None:
    """One pass of the outbox in this process, as the delivery job would make."""
    try:
        with app.app_context():
            report = deliver_due(limit=MAIL_PASS_LIMIT)
    except Exception:
        log.exception("outbox pass failed; trying again later")
        return
    if report.sent + report.retried + report.failed:
        log.info("Outbox: %s.", report)


def _wait_for_redis(app: Flask) -> bool:
    """Wait, looking every OUTBOX_POLL_SECONDS, until Redis answers (True) or the worker is
    asked to stop (False)."""
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    # Signal handlers can only be set from the main thread (not so under some test runners).
    handle_signals = threading.current_thread() is threading.main_thread()
    previous = (
        {number: signal.signal(number, request_stop) for number in STOP_SIGNALS}
        if handle_signals
        else {}
    )
    try:
        while not stop.wait(app.config["OUTBOX_POLL_SECONDS"]):
            if redis_answers(app):
                redis_back(app)
                return True
        return False
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# --- Redis away ------------------------------------------------------------------------------

# What each fallback says while Redis is away.
SENDING_HERE = "the worker sends the outbox itself, every OUTBOX_POLL_SECONDS, until it answers"
MAIL_WAITS = "e-mail waits in the outbox for the worker, which sends it without Redis meanwhile"
IMPORTS_HERE = "register imports run in the web server until it answers"

# In each app's extensions: the fallbacks said since its Redis last answered.
_AWAY = "portal.redis_away"
_away_lock = threading.Lock()


def redis_away(app: Flask, fallback: str, error: Exception) -> None:
    """The app's Redis could not be reached and ``fallback`` is what happens instead: said
    once an outage in each process (a warning), not at every request that meets it."""
    with _away_lock:
        said: set[str] = app.extensions.setdefault(_AWAY, set())
        first = fallback not in said
        said.add(fallback)
    if first:
        log.warning("Redis is unavailable (%s): %s.", error, fallback)


def redis_back(app: Flask) -> None:
    """The app's Redis answered: the next outage is said again."""
    with _away_lock:
        said: set[str] = app.extensions.get(_AWAY, set())
        was_away = bool(said)
        said.clear()
    if was_away:
        log.warning("Redis is available again: the job queue is back in use.")


def redis_answers(app: Flask) -> bool:
    try:
        return bool(redis_connection(app.config["REDIS_URL"]).ping())
    except RedisError:
        return False


# --- the outbox -----------------------------------------------------------------------------


def request_delivery(app: Flask) -> Job | None:
    """Make sure that a delivery pass starts after now; call it after a commit queued mail.

    A burst of commits shares one job: while a job is waiting, it will see them all, so no
    other is needed. Once it has started its pass it no longer counts, and the next commit
    asks for a job of its own, so nothing committed after a pass began is left waiting.
    """
    queue = queue_for(app, MAIL_QUEUE)
    if queue is None:
        return None
    connection = queue.connection
    job_id = f"outbox-deliver-{uuid.uuid4().hex}"
    if not connection.set(DELIVERY_WAITING, job_id, nx=True, ex=DELIVERY_WAITING_SECONDS):
        waiting = connection.get(DELIVERY_WAITING)
        if waiting is not None and _is_waiting(queue, waiting.decode()):
            return None
        # Its job has started (or is gone): this one takes its place.
        connection.set(DELIVERY_WAITING, job_id, ex=DELIVERY_WAITING_SECONDS)
    return queue.enqueue_call(
        deliver_outbox,
        job_id=job_id,
        timeout=MAIL_JOB_TIMEOUT,
        result_ttl=0,
        retry=MAIL_JOB_RETRY,
        description="Send the e-mail that is due",
    )


def schedule_delivery(app: Flask, due: datetime) -> Job | None:
    """A delivery pass at ``due`` (a retry's time), one job however many ask for it."""
    queue = queue_for(app, MAIL_QUEUE)
    if queue is None:
        return None
    # Whole seconds, rounded up: RQ's scheduler keeps whole seconds, and a pass that ran a
    # moment before the message was due would find nothing to send.
    moment = math.ceil(due.timestamp())
    when = datetime.fromtimestamp(moment, UTC)
    job_id = f"outbox-deliver-at-{moment}"
    options = {
        "job_timeout": MAIL_JOB_TIMEOUT,
        "result_ttl": 0,
        "retry": MAIL_JOB_RETRY,
        "description": f"Send the e-mail due at {when:%Y-%m-%d %H:%M:%S} UTC",
    }
    try:
        return queue.enqueue_at(when, deliver_outbox, job_id=job_id, unique=True, **options)
    except DuplicateJobError:
        if _is_waiting(queue, job_id):
            return None
        # That job has already run (or is running): only a new one is sure to look again.
        unique_id = f"{job_id}-{uuid.uuid4().hex}"
        return queue.enqueue_at(when, deliver_outbox, job_id=unique_id, **options)


def deliver_outbox() -> str:
    """The delivery job: one pass of the outbox, then another job if more is due."""
    app = worker_app()
    queue = queue_for(app, MAIL_QUEUE)
    if queue is not None:
        # Before reading the outbox: from here on, a commit that queues mail asks for a
        # job of its own rather than count on this one.
        queue.connection.delete(DELIVERY_WAITING)
    with app.app_context():
        report = deliver_due(limit=MAIL_PASS_LIMIT)
        due = next_attempt_due()
    handled = report.sent + report.retried + report.failed
    if handled:
        log.info("Outbox: %s.", report)
    if handled >= MAIL_PASS_LIMIT:
        request_delivery(app)
    elif due is not None:
        schedule_delivery(app, due)
    return str(report)


# --- register imports -----------------------------------------------------------------------


def enqueue_register_import(app: Flask, import_id: int) -> Job | None:
    """Queue the import's job; None without REDIS_URL (the caller runs it itself)."""
    queue = queue_for(app, IMPORTS_QUEUE)
    if queue is None:
        return None
    return queue.enqueue_call(
        run_register_import,
        args=(import_id,),
        timeout=IMPORT_JOB_TIMEOUT,
        description=f"Register import {import_id}",
    )


def run_register_import(import_id: int) -> None:
    """The import job: the same worker function as the thread without Redis (given to
    init_app by create_app: portal.register.jobs queues its jobs here)."""
    app = worker_app()
    app.extensions[IMPORT_RUNNER](app, import_id)


def _is_waiting(queue: Queue, job_id: str) -> bool:
    try:
        return Job.fetch(job_id, connection=queue.connection).get_status() in WAITING
    except NoSuchJobError:
        return False
