"""Writing the generated rows in bulk, and the run that hands ids from stage to stage."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from portal.db import Base
from portal.models import (
    Area,
    Booking,
    BuybackChoice,
    BuybackSubmission,
    Contact,
    Course,
    CourseSession,
    PaymentBatch,
    PriceOption,
    School,
    Service,
    ServiceOffer,
    SupplyClaim,
    SupplyFund,
    SupportRequest,
    Trust,
    User,
)
from portal_seed.scale.plan import BATCH, NewSchool, NewTrust, Plan, describe


@dataclass
class Run:
    """What one generation knows as it goes: the stages hand on ids through it."""

    session: Session
    rng: random.Random
    plan: Plan
    progress: Callable[[str], None]
    # Times are counted back from the start of the day the run began.
    today: datetime
    counts: Counter[str] = field(default_factory=Counter)
    areas: dict[str, Area] = field(default_factory=dict)
    schools: list[NewSchool] = field(default_factory=list)
    trusts: list[NewTrust] = field(default_factory=list)
    # user ids: a school's head teacher first, then its staff
    school_people: dict[int, list[int]] = field(default_factory=dict)
    trust_leads: dict[int, list[int]] = field(default_factory=dict)
    officers: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)
    publishers: list[int] = field(default_factory=list)
    generated_offers: set[int] = field(default_factory=set)
    started: float = field(default_factory=time.perf_counter)

    def insert(self, target: type[Base] | Table, rows: Iterable[dict[str, Any]]) -> int:
        """Insert the rows (dicts with the same keys); returns how many went in.

        Core, not the ORM's bulk insert: that would set every ``version`` column back to 1,
        and nothing here needs ORM events. On PostgreSQL through COPY, three to four times
        as fast as an executemany of INSERTs; elsewhere in executemany batches.
        """
        table = target if isinstance(target, Table) else target.__table__
        if self.session.get_bind().dialect.name == "postgresql":
            return self._copy(table, iter(rows))
        batch: list[dict[str, Any]] = []
        total = 0
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self.session.execute(insert(table), batch)
                total += len(batch)
                batch = []
        if batch:
            self.session.execute(insert(table), batch)
            total += len(batch)
        return total

    def _copy(self, table: Table, rows: Iterator[dict[str, Any]]) -> int:
        first = next(rows, None)
        if first is None:
            return 0
        names = list(first)
        # COPY applies no Python-side defaults: every column that has one must be given.
        missing = [c.name for c in table.c if c.default is not None and c.name not in names]
        if missing:
            raise AssertionError(f"seed-scale gives no {missing} for {table.name}")
        connection = self.session.connection()
        dialect = connection.dialect
        # Each value as an INSERT would send it: enums as their values, JSON as JSON, times
        # in UTC.
        processors = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]
        columns = ", ".join(names)
        cursor = connection.connection.dbapi_connection.cursor()
        total = 0
        with cursor, cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for row in chain([first], rows):
                copy.write_row(
                    [
                        row[name] if process is None else process(row[name])
                        for name, process in processors
                    ]
                )
                total += 1
        return total

    def next_id(self, model: type[Base]) -> int:
        return int(self.session.scalar(select(func.max(model.id))) or 0) + 1

    def done(self, stage: str, **counts: int) -> None:
        self.counts.update(counts)
        elapsed = time.perf_counter() - self.started
        self.progress(f"  {stage}: {describe(counts)} ({elapsed:.1f} s)")


_ID_TABLES = (Trust, School, User, Contact, Service, ServiceOffer, PriceOption)
_ID_TABLES += (BuybackChoice, BuybackSubmission, SupportRequest)
_ID_TABLES += (Course, CourseSession, Booking, SupplyFund, SupplyClaim, PaymentBatch)


def move_sequences_on(run: Run) -> None:
    """On PostgreSQL, move each id sequence past the ids written here, so that the next row
    the portal adds does not reuse one. (SQLite takes the largest id plus one anyway.)"""
    if run.session.get_bind().dialect.name != "postgresql":
        return
    for model in _ID_TABLES:
        table = model.__tablename__
        run.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        )
