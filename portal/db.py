"""The database: plain SQLAlchemy 2, one session per application context.

Longer than most modules: the engines, the session and the ways of reading (the driver's
plain rows, rows read ahead in one round trip, a request's memo) share one connection
pool's life, and each depends on how the others hold it.
"""

from __future__ import annotations

import re
import time
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from flask import Flask, current_app, g, has_request_context, request
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    CompoundSelect,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Select,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator

# Named constraints, so that Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in time, stored as UTC and always handed back timezone-aware.

    SQLite keeps no offset, so every value is converted to UTC on the way in and marked as
    UTC on the way out; a naive datetime is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give the portal timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def request_memo(name: str) -> dict[Any, Any]:
    """A dict that lasts as long as the request, for rows a page asks for more than once
    and that do not change while it is drawn. Outside a request (a command such as the demo
    seed, which may add those rows after asking), a fresh one each time: nothing is kept."""
    if not has_request_context():
        return {}
    memo: dict[Any, Any] = g.setdefault(f"memo:{name}", {})
    return memo


def request_memo_if_any(name: str) -> dict[Any, Any] | None:
    """The request's memo ``name`` if anything has made it (request_memo), else None: for a
    path every request takes, which need not make one to find it empty."""
    if not has_request_context():
        return None
    memo: dict[Any, Any] | None = g.get(f"memo:{name}")
    return memo


# How long a write on SQLite waits for the one in hand to finish before it gives up with
# "database is locked". Write transactions there last from their first write to the commit
# (see session_engine), milliseconds, so a writer that waits this long has found a fault.
SQLITE_BUSY_TIMEOUT_MS = 5000
# An execution option: SQLAlchemy's "begin" sends no BEGIN; the first write does (SQLite).
_BEGIN_AT_FIRST_WRITE = "portal_begin_at_first_write"
# Statements that only read on SQLite (a PRAGMA through a session asks about the schema).
_SQLITE_READS = re.compile(r"\s*(?:SELECT|PRAGMA)\b", re.IGNORECASE)


def make_engine(url: str, ping_after_idle_seconds: float = 0, **options: Any) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # Sessions in UTC, whatever the server's own time zone: psycopg then hands back times
    # with Python's own UTC, which UTCDateTime and every comparison take as they are, rather
    # than with a zone (the server's 'Etc/UTC', say) each time must be converted from. The
    # portal stores and compares in UTC and shows Europe/London itself; no statement leans
    # on the session's zone.
    given = make_url(url).query.get("options")  # any the address sets go first
    startup = " ".join([*([given] if isinstance(given, str) else given or ()), "-c TimeZone=UTC"])
    engine = create_engine(url, connect_args={"options": startup}, **options)
    _ping_when_idle(engine, ping_after_idle_seconds)
    return engine


def _sqlite_engine(url: str) -> Engine:
    """SQLite as it is meant to serve a small site: the write-ahead log, and writers that
    wait their turn. The web server's threads and the outbox worker write to one file."""
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, begin transactions, so that SAVEPOINTs and
        # transactional DDL behave as they do on PostgreSQL (SQLAlchemy's pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless asked, and waits for locks only if told to.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # The write-ahead log: readers never wait for the writer, nor it for them, and a
        # commit is one append. Kept in the file, so this changes it once; a database in
        # memory keeps its own mode.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(_BEGIN_AT_FIRST_WRITE):
            connection.exec_driver_sql("BEGIN")

    return engine


def session_engine(engine: Engine) -> Engine:
    """``engine`` for the portal's sessions. On SQLite: reads outside a transaction, and a
    transaction that takes the write lock (BEGIN IMMEDIATE) before the first write.

    SQLite has one writer at a time. A transaction begun as a plain BEGIN reads first and
    asks for the write lock only when it writes; if another connection has written since
    it read, or is waiting to, SQLite refuses it at once with "database is locked", without
    waiting (waiting could not help: its reads may be out of date). That was how a sign-in
    and an officer's note were lost while the outbox worker sent mail. Here the write lock
    is taken before the first write or the first statement that would lock rows on
    PostgreSQL (SELECT ... FOR UPDATE), so the transaction never needs to upgrade a read;
    a second writer waits for the lock (the busy timeout). Reads before that are read as
    committed, one by one, as at PostgreSQL's READ COMMITTED, which the portal's sessions
    already use; the write lock is held from the first write to the commit, not while a
    request checks a password or draws a page. Any other database: ``engine`` itself.
    """
    if engine.dialect.name != "sqlite":
        return engine
    writer = engine.execution_options(**{_BEGIN_AT_FIRST_WRITE: True})

    @event.listens_for(writer, "before_cursor_execute")
    def _begin_before_writing(
        connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if _SQLITE_READS.match(statement) and not _locks_rows(context):
            return
        driver_connection = connection.connection.dbapi_connection
        if not driver_connection.in_transaction:
            driver_connection.execute("BEGIN IMMEDIATE")

    return writer


def _locks_rows(context: Any) -> bool:
    """Whether the statement asks for row locks that it would wait for (SQLite's SQL leaves
    FOR UPDATE out). A worker's claim, FOR UPDATE SKIP LOCKED, never waits on PostgreSQL; on
    SQLite one worker sends the mail (portal/outbox.py), and holding the database's one
    write lock while it sent a message would keep every other writer waiting."""
    compiled = getattr(context, "compiled", None)
    wanted = getattr(getattr(compiled, "statement", None), "_for_update_arg", None)
    return wanted is not None and not wanted.skip_locked


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only if it has sat idle ``idle_seconds``.

    SQLAlchemy's pool_pre_ping checks before every use: a round trip on every request, about
    a seventh of a worker's time serving the signed-in layout under load (py-spy, bench). A
    connection a request gave back a moment ago is almost certainly still good; one that has
    sat idle (after a quiet spell, or a database restart, which takes longer than the idle
    limit) is checked, and replaced if the server has gone (the pool's DisconnectionError).
    """

    @event.listens_for(engine, "checkin")
    def _note_return(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(str(error)) from error


# Requests that only ask: a page, never a form's answer.
READING_METHODS = frozenset({"GET", "HEAD"})
# A statement that only reads (and takes no row locks) needs no transaction of its own.
# A read: a SELECT, or a WITH whose parts only read. A statement that starts otherwise, or
# names a data-modifying command anywhere (a WITH ... INSERT), gets its transaction. A read
# sent in a transaction is not only a round trip more: the pool's reset rolls the
# transaction back at the request's end, and psycopg then drops every statement it has
# prepared on the connection, so each is planned afresh (bench/FINDINGS.md).
_READS_ONLY = re.compile(r"\s*\(*\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_MODIFIES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_LOCKS_ROWS = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)


@lru_cache(maxsize=1024)
def only_reads(statement: str) -> bool:
    """Whether ``statement`` only reads and locks no rows.

    Kept per statement's text: searching a page's statement for the words that write or
    lock took about 60 microseconds (the whole text, case-insensitively), on every statement
    of every page, and a portal sends a few hundred different statements. The answer
    depends on nothing but the text, so it cannot go out of date; statements whose text
    varies (a list of ids spelled out) only come and go from the bounded store.
    """
    return bool(
        _READS_ONLY.match(statement)
        and not _LOCKS_ROWS.search(statement)
        and not _MODIFIES.search(statement)
    )


def reader_for(engine: Engine, ping_after_idle_seconds: float = 0) -> Engine | None:
    """``engine`` for pages: reads outside a transaction, writes still inside one.

    At PostgreSQL's READ COMMITTED every statement sees what was committed when it began,
    inside a transaction or not, so a page's reads lose nothing without one, and save the
    BEGIN and ROLLBACK round trips every request otherwise pays (about 1 ms of a signed-in
    page's 3 ms floor on the benchmark's machine). The first statement that writes or locks
    rows opens a real transaction before it runs, which the session's commit ends or the
    pool's reset rolls back: a page that writes (a session ended for its age, say) still
    writes all or nothing. None for SQLite, which runs in the process and has no round trips,
    and whose sessions read outside a transaction whatever the request (session_engine).

    An engine of its own, with a pool of connections that stay in autocommit, rather than
    ``engine`` told to use autocommit: that would switch each connection into autocommit
    as a request took it and back as it returned it, on every page (a tenth of what the
    signed-in layout costs beyond the bare one). Disposed of with ``engine``, so that
    whatever lets go of the database's connections (a test, a fork) lets go of these too.
    """
    if engine.dialect.name != "postgresql":
        return None
    reader = make_engine(
        engine.url.render_as_string(hide_password=False),
        ping_after_idle_seconds,
        isolation_level="AUTOCOMMIT",
    )

    @event.listens_for(engine, "engine_disposed")
    def _dispose_reader(_engine: Engine) -> None:
        reader.dispose()

    @event.listens_for(reader, "before_cursor_execute")
    def _begin_before_writing(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if only_reads(statement):
            return
        driver_connection = connection.connection.dbapi_connection
        # psycopg sends COMMIT or ROLLBACK only when the server says a transaction is open.
        if driver_connection.info.transaction_status == TransactionStatus.IDLE:
            driver_connection.execute("BEGIN")

    return reader


def reading_request() -> bool:
    """Whether this request only asks (a page), never a form's answer."""
    return has_request_context() and request.method in READING_METHODS


class Database:
    """Holds each application's engine and hands out one session per app context."""

    extension_key = "portal.db"

    def init_app(self, app: Flask) -> None:
        engine = make_engine(
            app.config["DATABASE_URL"], app.config["DATABASE_PING_AFTER_IDLE_SECONDS"]
        )
        app.extensions[self.extension_key] = _AppDatabase(
            engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"]
        )
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def _state() -> _AppDatabase:
        return current_app.extensions[Database.extension_key]

    @property
    def engine(self) -> Engine:
        return self._state().engine

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self._state().new_session(reading=reading_request())
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


class _AppDatabase:
    def __init__(self, engine: Engine, ping_after_idle_seconds: float = 0) -> None:
        self.engine = engine
        self.reader = reader_for(engine, ping_after_idle_seconds)
        self.writer = session_engine(engine)
        # The tests swap this factory for one bound to a rolled-back transaction.
        self.session_factory: sessionmaker[Session] = sessionmaker(
            bind=self.writer, expire_on_commit=False
        )

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine statements go through: whatever watches them listens on each."""
        return (self.engine,) if self.reader is None else (self.engine, self.reader)

    def dispose(self, close: bool = True) -> None:
        """Let go of every pooled connection; ``close=False`` in a forked process, whose
        pooled connections are its parent's (SQLAlchemy's fork recipe). The reader first:
        disposing of the engine disposes of the reader's pool again, closing what it holds,
        which by then is nothing."""
        if self.reader is not None:
            self.reader.dispose(close=close)
        self.engine.dispose(close=close)

    def new_session(self, reading: bool) -> Session:
        # Only while the factory is the engine's own: the tests' factory is bound to their
        # transaction, which a page's reads must stay inside.
        if (
            reading
            and self.reader is not None
            and self.session_factory.kw.get("bind") is self.writer
        ):
            return self.session_factory(bind=self.reader)
        return self.session_factory()


db = Database()


@dataclass(frozen=True)
class _DriverStatement:
    sql: str
    # The parameters' names in the order the driver takes them (None: it takes them by name).
    order: tuple[str, ...] | None
    # The columns whose driver's value SQLAlchemy's results convert (an enum from its name,
    # a time made aware), each with its conversion: the others are read as the driver
    # gives them. Most columns (numbers, text, flags) need none, and going through every
    # value of a task list's hundred and fifty rows to find the few that do cost more than
    # the conversions themselves.
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...]
    # A row as a named tuple, its fields named as SQLAlchemy's rows name them.
    record: type[tuple[Any, ...]]
    # The values the statement was built with (a status compared with, a literal), by name,
    # as SQLAlchemy would send them.
    fixed: dict[str, Any]
    # For a statement with lists of values (an expanding IN), the compiled statement that
    # spells them out for each number of values (SQLAlchemy's construct_expanded_state), in
    # place of ``sql``.
    expanding: SQLCompiler | None = None


# The first dialect seen of each kind (_dialect_kind), which compiles that kind's statements.
_DIALECTS: dict[tuple[Any, ...], Dialect] = {}


def _dialect_kind(dialect: Dialect) -> tuple[Any, ...]:
    """What a statement's SQL and conversions for the driver depend on in ``dialect``: its
    class, how it writes parameters, and the server version it found. The pages' and the
    forms' engines (reader_for) are made from one address, each with a dialect object of
    its own that writes the same SQL: keyed on this, each statement is compiled once for
    both, not again the first time a worker's form sends what its pages already had (a
    request's first assignment compiled a request's statement for a few milliseconds)."""
    return (type(dialect), dialect.paramstyle, dialect.server_version_info)


def _for_driver(statement: Select[Any] | CompoundSelect, dialect: Dialect) -> _DriverStatement:
    kind = _dialect_kind(dialect)
    _DIALECTS.setdefault(kind, dialect)
    return _compiled_for_driver(statement, kind)


# Keyed on the statement object itself: only statements made once (kept by lru_cache where
# they are built) belong here; bounded, so that a statement built per request would cost
# its compiling every time but never fill the memory.
@lru_cache(maxsize=512)
def _compiled_for_driver(
    statement: Select[Any] | CompoundSelect, kind: tuple[Any, ...]
) -> _DriverStatement:
    dialect = _DIALECTS[kind]
    compiled = statement.compile(dialect=dialect)
    columns = statement.selected_columns
    fixed = {}
    for bind, name in compiled.bind_names.items():
        if bind.required or bind.callable is not None or bind.expanding:
            continue  # bound when it runs
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        fixed[name] = bind.value if process is None else process(bind.value)
    processors = (
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return _DriverStatement(
        compiled.string,
        tuple(compiled.positiontup) if compiled.positiontup is not None else None,
        tuple(
            (position, convert)
            for position, convert in enumerate(processors)
            if convert is not None
        ),
        namedtuple("Record", columns.keys(), rename=True),
        fixed,
        cast(SQLCompiler, compiled) if compiled.post_compile_params else None,
    )


def ready_for_driver(statement: Select[Any] | CompoundSelect, engine: Engine) -> None:
    """Compile ``statement`` (made once) for the driver on ``engine``'s connections now, not at
    the first request that sends it: compiling the person's statement took a worker's first
    request a few milliseconds. Engines whose dialects are of one kind (_dialect_kind: the
    pages' and the forms', once each has connected) share what is compiled for either."""
    _for_driver(statement, engine.dialect)


def driver_rows(
    statement: Select[Any] | CompoundSelect, params: Mapping[str, Any]
) -> list[Sequence[Any]]:
    """The rows of ``statement``, a SELECT made once (its values bound by name) that locks
    nothing, sent on the session's connection by the driver itself; each value converted
    as SQLAlchemy's own results convert it.

    For the statements of the pages everyone opens (the person every signed-in request
    reads, portal/auth/service.py load_user; the catalogue; home; the buy-back task
    list's hundred and fifty services, a category's): SQLAlchemy's execution
    of a statement (its events, execution context and result objects) costs the processor
    about twice what the driver itself does for it (0.34 against 0.12 ms, measured), on
    every page. Anything else goes through SQLAlchemy, whose events (the SQLite write lock
    among them) this skips.
    """
    prepared, rows = _driver_execute(statement, params)
    if prepared is None or not prepared.conversions:
        return list(rows)
    return [_converted(row, prepared.conversions) for row in rows]


def _converted(
    row: Sequence[Any], conversions: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> list[Any]:
    values = list(row)
    for position, convert in conversions:
        values[position] = convert(values[position])
    return values


def driver_records(statement: Select[Any] | CompoundSelect, params: Mapping[str, Any]) -> list[Any]:
    """As :func:`driver_rows`, each row a named tuple whose fields are named as SQLAlchemy's
    rows name them (``row.total``), so that a caller reads it as it would read theirs."""
    prepared, rows = _driver_execute(statement, params)
    if prepared is None:
        return list(rows)
    make = prepared.record._make
    conversions = prepared.conversions
    if not conversions:
        return [make(row) for row in rows]
    return [make(_converted(row, conversions)) for row in rows]


# Where a pooled connection keeps the cursor the driver's statements are sent on, and the
# cursors of statements sent together (read_ahead).
_CURSOR = "portal.driver_cursor"
_AHEAD_CURSORS = "portal.driver_cursors_ahead"
# The request's rows read ahead (read_ahead), by statement and values, until asked for.
_AHEAD = "driver_rows_ahead"


def _ahead_key(statement: Any, params: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        statement,
        tuple(
            sorted(
                (name, tuple(value) if isinstance(value, list) else value)
                for name, value in params.items()
            )
        ),
    )


def read_ahead(reads: Sequence[tuple[Select[Any] | CompoundSelect, Mapping[str, Any]]]) -> None:
    """Send ``reads`` (statements made once, each with its values) together, for
    driver_rows and driver_records to answer from when the page asks for them later in the
    request: on PostgreSQL in one round trip (psycopg's pipeline mode), so a page whose
    reads depend on nothing it has read waits for the server once, not once for each. Each
    is read a moment earlier than it would be, in the same request. Only on a page (GET,
    HEAD), whose reads are outside any transaction: a form's statement that failed in a
    pipeline would end its transaction. Elsewhere (SQLite runs in the process: no round
    trips to save), and should sending them together fail, nothing is read ahead: each is
    sent when asked for."""
    if len(reads) < 2 or not reading_request():
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    pooled = connection.connection
    cursors: list[Any] = pooled.info.setdefault(_AHEAD_CURSORS, [])
    while len(cursors) < len(reads):
        cursors.append(pooled.cursor())
    sent = []
    try:
        with pooled.driver_connection.pipeline():
            for cursor, (statement, params) in zip(cursors, reads, strict=False):
                prepared, sql, values = _bound(statement, params, connection.dialect)
                connection.dispatch.before_cursor_execute(
                    connection, cursor, sql, values, None, False
                )
                cursor.execute(sql, values)
                sent.append((cursor, statement, params, prepared, sql, values))
        memo = request_memo(_AHEAD)
        for cursor, statement, params, prepared, sql, values in sent:
            memo[_ahead_key(statement, params)] = (prepared, cursor.fetchall())
            connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
    except connection.dialect.loaded_dbapi.Error:
        for cursor in pooled.info.pop(_AHEAD_CURSORS, []):
            cursor.close()
        request_memo(_AHEAD).clear()


def _bound(
    statement: Select[Any] | CompoundSelect, params: Mapping[str, Any], dialect: Dialect
) -> tuple[_DriverStatement, str, Any]:
    """``statement`` compiled for the driver, its SQL and its values as the driver takes
    them."""
    prepared = _for_driver(statement, dialect)
    sql = prepared.sql
    bound = {**prepared.fixed, **params} if prepared.fixed else params
    order = prepared.order
    if prepared.expanding is not None:
        # A list of values (an expanding IN): the SQL written out for this many of them.
        expanded = prepared.expanding.construct_expanded_state(dict(bound))
        sql, bound, order = expanded.statement, expanded.parameters, expanded.positiontup
    values = bound if order is None else tuple(bound[name] for name in order)
    return prepared, sql, values


def _driver_execute(
    statement: Select[Any] | CompoundSelect, params: Mapping[str, Any]
) -> tuple[_DriverStatement | None, Sequence[Any]]:
    """``statement``'s rows as the driver gives them, with how to read them; or, with None,
    as SQLAlchemy gives them. Rows read ahead for it in this request (read_ahead) are
    given once, not read again."""
    ahead = request_memo_if_any(_AHEAD)
    if ahead:
        found = ahead.pop(_ahead_key(statement, params), None)
        if found is not None:
            return found
    connection = db.session.connection()
    prepared, sql, values = _bound(statement, params, connection.dialect)
    pooled = connection.connection
    # One cursor per driver connection, kept with it for as long as the connection lives
    # (the pool's ``info``, dropped with the connection): making a psycopg cursor (its
    # adapters and transformer) cost a third as much as running the person's statement.
    # A connection serves one request at a time, and each statement's rows are all read
    # before the next is sent, so nothing is left on it between uses.
    cursor = pooled.info.get(_CURSOR)
    if cursor is None:
        cursor = pooled.info[_CURSOR] = pooled.cursor()
    try:
        # Told to the engine's listeners as any statement is, so that whatever watches the
        # statements sent (the query budget's count among them) sees this one too.
        connection.dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        rows = cursor.fetchall()
        connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
    except connection.dialect.loaded_dbapi.Error:
        pooled.info.pop(_CURSOR, None)
        cursor.close()
        # Asked again through SQLAlchemy, which deals with whatever went wrong as with any
        # statement: in its own exceptions, giving up a connection the server has dropped.
        return None, connection.execute(statement, dict(params)).all()
    return prepared, rows


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter when comparing the models with the database.

    Trigram search indexes (migration 0009) exist on PostgreSQL only, with an operator class
    the models cannot state portably: the migrations own them, not the models.
    """
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))
