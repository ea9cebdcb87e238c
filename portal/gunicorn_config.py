"""gunicorn's settings for the portal: the project's gunicorn.conf.py names them, and an
installed wheel's gunicorn reads them as ``-c python:portal.gunicorn_config``.

The worker's hooks import what they use when they run, in the worker: gunicorn's master reads
these settings and serves no page, and what the portal's modules make as they are imported
belongs to each worker.
"""

from __future__ import annotations

from typing import Any

from portal import check_listening, configured_environment


def on_starting(server: Any) -> None:
    # Before gunicorn listens anywhere: development settings are served on this machine's
    # loopback only (portal.check_listening), whatever the command line asked for. Raised
    # as a RuntimeError, which gunicorn prints before it exits with status 1.
    check_listening(server.cfg.address, configured_environment())


def post_worker_init(worker: Any) -> None:
    # A new worker would compile each template the first time a page needs it, a few hundred
    # milliseconds for each of the first people after a deploy or a worker's restart: done
    # here instead, before the worker takes its first request. (Imported here, in the worker:
    # gunicorn reads this file in its master process, which must not load the portal.)
    from flask import Flask
    from sqlalchemy.exc import SQLAlchemyError

    from portal.errors import database_error_text
    from portal.rendering import WARM_LOG, warm_templates

    if isinstance(worker.wsgi, Flask):
        count = warm_templates(worker.wsgi)
        try:
            warm_for_sign_in(worker.wsgi)
        except SQLAlchemyError as error:
            # A worker that failed here would never boot, and gunicorn stops when one cannot:
            # with the database down, nothing would answer at all. Served instead, each
            # request answers 503 until the database is back (portal/errors.py).
            worker.log.warning(
                "Worker %s: not warmed for sign-in, the database is unavailable: %s",
                worker.pid,
                database_error_text(error),
            )
        worker.log.info("Worker %s: %d %s", worker.pid, count, WARM_LOG)


def warm_for_sign_in(app: Any) -> None:
    # Likewise what a worker's first sign-in would pay on top of its own password check: the
    # dummy hash (portal.passwords.warm_hasher) and the first connection to the database,
    # which the pool then keeps; and the first connection pages read on (portal.db.reader_for).
    # Every signed-in request, page or form, sends the person's statement: compiled, for both.
    # (Imported in the worker, as above.)
    from sqlalchemy import text

    from portal.auth.service import person_statement
    from portal.db import ready_for_driver
    from portal.passwords import warm_hasher

    with app.app_context():
        warm_hasher()
        for engine in app.extensions["portal.db"].engines:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            ready_for_driver(person_statement(), engine)
