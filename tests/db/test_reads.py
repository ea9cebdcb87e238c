"""Round trips to PostgreSQL a page does without: pages read outside a transaction (whatever
writes or locks still gets one), and a pooled connection is checked only after sitting idle.

Each test builds an app on the real engine (not the suite's rolled-back transaction, which
pages must stay inside) with routes of its own on a scratch table, and looks from a second
connection at what the database holds while and after they run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC

import pytest
from flask import Blueprint, Flask
from sqlalchemy import Engine, bindparam, create_engine, literal_column, select, text
from sqlalchemy.exc import OperationalError

from portal.db import _compiled_for_driver, _for_driver, db, driver_rows, read_ahead
from portal.extensions import csrf

probe = Blueprint("probe", __name__)
# What the other connection saw while a route was half-way through.
seen: dict[str, object] = {}


def _other_connection() -> Engine:
    return create_engine(db.engine.url)


def _two_clock_readings() -> str:
    # now() is when the transaction began: one value for the whole of a transaction.
    first = db.session.scalar(text("SELECT now()"))
    db.session.execute(text("SELECT pg_sleep(0.02)"))
    second = db.session.scalar(text("SELECT now()"))
    return "one transaction" if first == second else "a transaction a statement"


@probe.get("/probe/clock")
def clock_on_a_page() -> str:
    return _two_clock_readings()


@probe.post("/probe/clock")
@csrf.exempt
def clock_on_a_form() -> str:
    return _two_clock_readings()


@probe.get("/probe/write/<outcome>")
def write_on_a_page(outcome: str) -> str:
    db.session.execute(text("INSERT INTO read_probe (note) VALUES ('first')"))
    other = _other_connection()
    with other.connect() as connection:
        seen["before commit"] = connection.scalar(text("SELECT count(*) FROM read_probe"))
    other.dispose()
    db.session.execute(text("INSERT INTO read_probe (note) VALUES ('second')"))
    if outcome == "fails":
        raise RuntimeError("the page failed after its first write")
    db.session.commit()
    return "written"


@probe.get("/probe/with")
def clock_read_with_a_cte() -> str:
    # now() is when the transaction began: one value for the whole of a transaction.
    read = text("WITH moment AS (SELECT now() AS at) SELECT at FROM moment")
    first = db.session.scalar(read)
    db.session.execute(text("SELECT pg_sleep(0.02)"))
    second = db.session.scalar(read)
    return "one transaction" if first == second else "a transaction a statement"


@probe.get("/probe/with-insert")
def write_with_a_cte_then_fail() -> str:
    db.session.execute(
        text(
            "WITH made AS (INSERT INTO read_probe (note) VALUES ('cte') RETURNING id)"
            " SELECT id FROM made"
        )
    )
    raise RuntimeError("the page failed after its write")


@probe.get("/probe/lock")
def lock_on_a_page() -> str:
    db.session.execute(text("SELECT id FROM read_probe WHERE note = 'locked' FOR UPDATE"))
    other = _other_connection()
    try:
        with other.connect() as connection:
            connection.execute(
                text("SELECT id FROM read_probe WHERE note = 'locked' FOR UPDATE NOWAIT")
            )
            seen["lock"] = "free"
    except OperationalError:
        seen["lock"] = "held"
    finally:
        other.dispose()
    return "locked"


@probe.get("/probe/backend")
def backend() -> str:
    return str(db.session.scalar(text("SELECT pg_backend_pid()")))


@pytest.fixture
def probe_app(database_url: str, make_app: Callable[..., Flask]) -> Iterator[Flask]:
    with _probe_app(database_url, make_app) as app:
        yield app


@contextmanager
def _probe_app(
    database_url: str, make_app: Callable[..., Flask], **settings: object
) -> Iterator[Flask]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite runs in the process, with no round trips to save")
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False, **settings)
    app.register_blueprint(probe)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE read_probe (id serial PRIMARY KEY, note text)"))
    seen.clear()
    try:
        yield app
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE read_probe"))
        engine.dispose()


def _notes(app: Flask) -> list[str]:
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as connection:
        notes = list(connection.scalars(text("SELECT note FROM read_probe ORDER BY id")))
    engine.dispose()
    return notes


def test_a_page_reads_each_statement_on_its_own(probe_app: Flask) -> None:
    client = probe_app.test_client()
    assert client.get("/probe/clock").get_data(as_text=True) == "a transaction a statement"
    # A form's answer keeps one transaction from its first statement to its last.
    assert client.post("/probe/clock").get_data(as_text=True) == "one transaction"


def test_a_statement_that_only_reads_through_with_reads_on_its_own(probe_app: Flask) -> None:
    """A WITH that only reads is a read: no transaction (whose rollback at the request's
    end would also drop every statement psycopg has prepared on the connection); a WITH that
    writes still gets one, and goes with the failed page."""
    client = probe_app.test_client()
    assert client.get("/probe/with").get_data(as_text=True) == "a transaction a statement"
    assert client.get("/probe/with-insert").status_code == 500
    assert _notes(probe_app) == []


def test_a_page_that_writes_commits_all_or_nothing(probe_app: Flask) -> None:
    client = probe_app.test_client()

    assert client.get("/probe/write/commits").status_code == 200
    assert seen["before commit"] == 0  # the first row was inside a transaction
    assert _notes(probe_app) == ["first", "second"]

    assert client.get("/probe/write/fails").status_code == 500
    assert _notes(probe_app) == ["first", "second"]  # the failed page's row went with it


def test_a_page_that_locks_rows_holds_them_until_it_ends(probe_app: Flask) -> None:
    engine = create_engine(probe_app.config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO read_probe (note) VALUES ('locked')"))
    engine.dispose()

    assert probe_app.test_client().get("/probe/lock").status_code == 200
    assert seen["lock"] == "held"


def test_times_come_back_in_pythons_own_utc(probe_app: Flask) -> None:
    """The sessions' zone is UTC whatever the server's, so that a time read needs no
    conversion (datetime.UTC itself, not a zone such as 'Etc/UTC' that each must be
    converted from)."""
    with probe_app.app_context():
        for engine in probe_app.extensions["portal.db"].engines:
            with engine.connect() as connection:
                assert connection.scalar(text("SHOW TimeZone")) == "UTC"
                assert connection.scalar(text("SELECT now()")).tzinfo is UTC


def _alive(app: Flask, backend_pid: str) -> bool:
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": int(backend_pid)},
        )
    engine.dispose()
    return bool(found)


def test_pages_connections_stay_in_autocommit_and_go_with_the_engine(probe_app: Flask) -> None:
    """Pages' connections come from a pool of their own that stays in autocommit (nothing
    switched as a request takes one and gives it back), and whatever lets go of the
    database's connections lets go of these too."""
    database = probe_app.extensions["portal.db"]
    client = probe_app.test_client()
    backend = client.get("/probe/backend").get_data(as_text=True)
    assert database.reader.pool.checkedin() == 1
    with database.reader.connect() as connection:
        parents = connection.connection.dbapi_connection
        assert parents.autocommit
        assert str(connection.scalar(text("SELECT pg_backend_pid()"))) == backend
    # A forked process lets go of its parent's connections without closing them.
    database.dispose(close=False)
    assert database.reader.pool.checkedin() == 0
    assert _alive(probe_app, backend)
    parents.close()  # as the parent would
    backend = client.get("/probe/backend").get_data(as_text=True)
    database.engine.dispose()
    assert database.reader.pool.checkedin() == 0
    assert not _alive(probe_app, backend)


def _drop_connection(app: Flask, backend_pid: str) -> None:
    """The database server ends one of the app's pooled connections (as a restart would)."""
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": int(backend_pid)})
        for _ in range(50):
            gone = not connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": int(backend_pid)},
            )
            if gone:
                break
            time.sleep(0.05)
    engine.dispose()


@pytest.mark.parametrize(
    ("idle_limit", "after_the_drop"),
    [
        # Idle past the limit (0: any time): checked, found gone, replaced before the page.
        (0, [200]),
        # What the limit trades: no round trip for a connection used moments ago, so one the
        # server dropped within it fails one page (the calm 503, "try again"); the pool then
        # replaces its connections.
        (3600, [503, 200]),
    ],
)
def test_a_dropped_connection_is_replaced(
    database_url: str, make_app: Callable[..., Flask], idle_limit: int, after_the_drop: list[int]
) -> None:
    with _probe_app(database_url, make_app, DATABASE_PING_AFTER_IDLE_SECONDS=idle_limit) as app:
        client = app.test_client()
        first = client.get("/probe/backend").get_data(as_text=True)
        _drop_connection(app, first)

        answers = [client.get("/probe/backend") for _ in after_the_drop]
        assert [answer.status_code for answer in answers] == after_the_drop
        assert answers[-1].get_data(as_text=True) != first  # served on a new connection


def test_a_statement_is_compiled_for_the_driver_once_for_both_engines(probe_app: Flask) -> None:
    """The pages' engine and the forms' each have a dialect of their own, made from one
    address: a statement sent by the driver is compiled once for both, so a worker's first
    form does not compile again what its pages already had."""
    database = probe_app.extensions["portal.db"]
    assert database.reader.dialect is not database.engine.dialect
    for engine in database.engines:
        with engine.connect():
            pass  # each dialect learns the server's version as it first connects
    statement = select(literal_column("1").label("one")).where(bindparam("wanted") == 1)
    compiled = _compiled_for_driver.cache_info().misses
    first = _for_driver(statement, database.reader.dialect)
    assert _for_driver(statement, database.engine.dialect) is first
    assert _compiled_for_driver.cache_info().misses == compiled + 1
    with probe_app.test_request_context():
        assert driver_rows(statement, {"wanted": 1}) == [(1,)]


def test_reads_sent_together_are_given_once_each_as_read(probe_app: Flask) -> None:
    """A page's reads sent together (read_ahead: one round trip) are each given once, as
    read then, to the first ask for the same statement with the same values; asked again,
    the statement is sent afresh and sees what changed. A read that fails leaves nothing
    read ahead, and the page's statements are sent one by one as before."""
    from sqlalchemy import event, func

    from portal.models import User

    notes = select(func.count()).select_from(text("read_probe"))
    person = select(User.email).where(User.id == bindparam("id"))
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_) -> None:
        sent.append(statement)

    for engine in probe_app.extensions["portal.db"].engines:
        event.listen(engine, "before_cursor_execute", count)
    with probe_app.test_request_context("/"):
        read_ahead([(notes, {}), (person, {"id": 1})])
        assert len(sent) == 2
        other = _other_connection()
        with other.begin() as connection:
            connection.execute(text("INSERT INTO read_probe (note) VALUES ('after')"))
        other.dispose()
        assert driver_rows(notes, {}) == [(0,)]  # as read ahead
        assert len(driver_rows(person, {"id": 1})) == 1
        assert len(sent) == 2  # neither sent again
        assert driver_rows(notes, {}) == [(1,)]  # asked again: afresh
        assert len(sent) == 3
        missing = select(literal_column("1")).select_from(text("no_such_table"))
        read_ahead([(notes, {}), (missing, {})])
        assert driver_rows(notes, {}) == [(1,)]
        assert driver_rows(notes, {}) == [(1,)]
    with probe_app.test_request_context("/", method="POST"):
        before = len(sent)
        read_ahead([(notes, {}), (person, {"id": 1})])  # a form's: nothing read ahead
        assert len(sent) == before
