"""Versions of what many people share: numbers the database replaces, with one never used
before, in the statement of any change to what they cover (triggers), whoever makes it.

- the contacts directory (contacts, the areas they serve, the areas' names; migration 0021);
- the catalogue (services, their offers and the categories; migrations 0023 and 0025): its
  choices, and the year's offer a kind of school may buy (portal/buyback/offer.py).

What is worked out from such data once is kept under the version it was worked out at, and
a request that reads the version now is given what the data holds now: never stale.

A signed-in page reads them with the person (portal/auth/service.py), in the statement every
signed-in request sends anyway, so that the contacts and the catalogue need no round trip of
their own to learn them. Only on a page (GET or HEAD): a form's answer that changes contacts
or offers and then draws a page in the same request must see its own change, so it reads the
version afresh, after it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from flask import g
from sqlalchemy import ScalarSelect, Select, Table, select

from portal.db import driver_rows, reading_request
from portal.models import catalogue_version, contact_directory

T = TypeVar("T")

DIRECTORY = "directory"
CATALOGUE = "catalogue"

_TABLES: dict[str, Table] = {DIRECTORY: contact_directory, CATALOGUE: catalogue_version}
# In this order as columns of the person's statement.
NAMES: tuple[str, ...] = tuple(_TABLES)
_READ_ALONE: dict[str, Select[Any]] = {
    name: select(table.c.version) for name, table in _TABLES.items()
}


def version_columns() -> list[ScalarSelect[Any]]:
    """Each version as a column of another statement (the person's), in NAMES's order."""
    return [select(_TABLES[name].c.version).scalar_subquery() for name in NAMES]


def remember(values: Sequence[Any]) -> None:
    """The versions as read with the person (in NAMES's order), for the rest of the request:
    kept as read, since most pages never ask (current decides whether they may be used)."""
    g.shared_versions = values


def current(name: str) -> int:
    """The version ``name`` (DIRECTORY, CATALOGUE) now: on a page, as read with the person;
    otherwise read by itself (sent by the driver: cheaper than SQLAlchemy's execution)."""
    if reading_request():
        known = g.get("shared_versions")
        if known is not None:
            return int(known[NAMES.index(name)] or 0)
    rows = driver_rows(_READ_ALONE[name], {})
    return int(rows[0][0] or 0) if rows else 0


class Cache:
    """What is worked out from shared data, kept under keys that hold everything it was
    worked out from: for data that changes, the version it was worked out at (never stale:
    see above). Only a few keys are in use at once, so it holds few entries; should it
    reach ``at_most`` (versions gone by), it is emptied and fills again."""

    def __init__(self, at_most: int) -> None:
        self.at_most = at_most
        self._entries: dict[Hashable, Any] = {}

    def once(self, key: Hashable, work: Callable[[], T]) -> T:
        """What ``work`` gives, worked out the first time ``key`` is asked for."""
        if key in self._entries:
            found: T = self._entries[key]
            return found
        found = work()
        self.put(key, found)
        return found

    def get(self, key: Hashable) -> Any:
        return self._entries.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        if key not in self._entries and len(self._entries) >= self.at_most:
            self._entries.clear()
        self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()

    def values(self) -> list[Any]:
        """Everything kept (for a test that looks at what is held)."""
        return list(self._entries.values())
