"""What every model module shares: how an enumeration is stored.

The declarative ``Base`` and the ``UTCDateTime`` column type live in ``portal.db``, beside
the engine and the session, and are imported from there.
"""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def stored_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    # Stored as the value's text, not a native enum type, so that adding a value is a plain
    # data change on PostgreSQL and SQLite alike.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=60,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
