"""Data stamps: a count, per table, of the commits that changed it (table ``data_stamp``).

Pages kept for reuse (portal/page_cache.py) are served again only while the tables they read
keep the stamps they had, so a stamp must move with every change, whoever makes it:

* Every statement the portal's engine sends is looked at once, by its first words: an
  INSERT, UPDATE or DELETE names the table it changes; any other statement that is not a
  plain read (a schema change, a CTE that writes) is counted as a change to every table
  (:data:`ANY`, which every kept page depends on).
* When the transaction commits, or releases the savepoint that stands for a commit (the
  tests' transactions), each changed table's stamp moves inside it, in table-name order so
  that two commits never wait for each other's stamps in a circle. The stamp's row is
  locked only from there to the COMMIT, one round trip.
* A rollback forgets what it undid. A savepoint rolled back keeps what it noted: the stamps
  then move for changes that did not happen, which costs a page drawn again, never a stale one.

Reads are noted only while a page is drawn for keeping (:func:`noting_reads`): the name of
each portal table a statement mentions, which may be more than it read, never less.

Changes made outside the portal's own engine (psql, a restore) move no stamp; kept pages
last a minute at most (portal/page_cache.py), and restarting the portal empties them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Executable, Pool, event, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.db import Base

STAMP_TABLE = "data_stamp"
# Stands for "some table, we cannot tell which": every kept page depends on it.
ANY = "*"

_CHANGED = "portal.stamps.changed"
_STAMPING = "portal.stamps.stamping"
_NOT_A_CHANGE = re.compile(
    r"\s*(?:SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|EXPLAIN|PRAGMA|VALUES)\b",
    re.IGNORECASE,
)
_CHANGES = re.compile(
    r'\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:"?\w+"?\s*\.\s*)?"?(\w+)"?',
    re.IGNORECASE,
)
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_WRITING_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_SCHEMA_CHANGE = re.compile(r"\s*(?:CREATE|ALTER|DROP)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def _bump(dialect: str, tables: list[str]) -> Executable:
    """One statement that moves each of ``tables``' stamps, in the order given; a table's row
    is made at its first change."""
    from portal.models import DataStamp

    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(DataStamp).values([{"table_name": t, "version": 1} for t in tables])
    return statement.on_conflict_do_update(
        index_elements=[DataStamp.table_name], set_={"version": DataStamp.version + 1}
    )


def changed_table(statement: str) -> str | None:
    """The table ``statement`` changes, :data:`ANY` if it may change one we cannot name, or
    None if it only reads."""
    if _NOT_A_CHANGE.match(statement):
        return None
    if _WITH.match(statement) and not _WRITING_WORD.search(statement):
        return None
    found = _CHANGES.match(statement)
    return found.group(1).lower() if found else ANY


def tables_named(statement: str) -> set[str]:
    """The portal's tables whose names appear in ``statement``."""
    return set(_WORD.findall(statement.lower())) & Base.metadata.tables.keys()


@dataclass
class Reading:
    """What the statements sent while a page was drawn touched."""

    tables: set[str] = field(default_factory=set)
    changed: bool = False


_reading: ContextVar[Reading | None] = ContextVar("portal_stamps_reading", default=None)


@contextmanager
def noting_reads() -> Iterator[Reading]:
    """Note the tables every statement sent in this context reads, and whether any changes."""
    reading = Reading()
    token = _reading.set(reading)
    try:
        yield reading
    finally:
        _reading.reset(token)


# Whether each database (by its engine's pool) has the stamps' table: one being migrated up
# to it, or a test's before migration 0011, may not. Looked up again after a schema change.
_has_table: WeakKeyDictionary[Pool, bool] = WeakKeyDictionary()


def has_stamps(conn: Connection) -> bool:
    """Whether ``conn``'s database keeps stamps; a gunicorn worker asks before its first
    request (gunicorn.conf.py), so that no one's first commit waits for the answer."""
    pool = conn.engine.pool
    if not _has_table.get(pool):
        _has_table[pool] = inspect(conn).has_table(STAMP_TABLE)
    return _has_table[pool]


def track(engine: Engine) -> None:
    """Move the stamps of the tables each transaction on ``engine`` (and on engines made from
    it with other execution options) changes, as it commits."""

    @event.listens_for(engine, "after_cursor_execute")
    def _note(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.get(_STAMPING):
            return
        table = changed_table(statement)
        reading = _reading.get()
        if table is None:
            if reading is not None:
                reading.tables |= tables_named(statement)
            return
        if reading is not None:
            reading.changed = True
        if _SCHEMA_CHANGE.match(statement):
            _has_table.pop(conn.engine.pool, None)
        if table != STAMP_TABLE:
            conn.info.setdefault(_CHANGED, set()).add(table)

    def _stamp(conn: Connection, *_args: Any) -> None:
        changed: set[str] | None = conn.info.pop(_CHANGED, None)
        if not changed:
            return
        if not has_stamps(conn):
            return
        conn.info[_STAMPING] = True
        try:
            conn.execute(_bump(conn.dialect.name, sorted(changed)))
        finally:
            conn.info.pop(_STAMPING, None)

    def _forget(conn: Connection, *_args: Any) -> None:
        # A connection the server dropped has nothing left to forget (nor can it be asked).
        if not conn.invalidated:
            conn.info.pop(_CHANGED, None)

    def _forget_on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        record.info.pop(_CHANGED, None)

    event.listen(engine, "commit", _stamp)
    event.listen(engine, "release_savepoint", _stamp)
    event.listen(engine, "rollback", _forget)
    # A connection given back to the pool mid-transaction is rolled back by the pool itself.
    event.listen(engine, "reset", _forget_on_reset)
