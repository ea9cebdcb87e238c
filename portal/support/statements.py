"""Pieces of SQL the support modules share: the open statuses written into statements, and
an area's CAF officers."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, literal_column, select

from portal.db import db
from portal.models import Membership, Role, SupportRequest, SupportStatus, User

OPEN_STATUSES = [s for s in SupportStatus if s.is_open]


def written(value: enum.Enum) -> ColumnElement[Any]:
    """One of the portal's own enums' values (stored as text) written into a statement rather
    than bound: for statements made once and sent by the driver (portal.db.driver_rows), and
    so that PostgreSQL plans with the value itself (the open requests' partial indexes)."""
    return literal_column(f"'{value.value}'")


# The open requests, their statuses written into the statement rather than bound, so that
# PostgreSQL can use the open requests' partial indexes (migration 0022) in every plan of it,
# a prepared statement's generic plan included.
OPEN_REQUESTS = SupportRequest.status.in_([written(s) for s in OPEN_STATUSES])


def officers_of(area: ColumnElement[int]) -> Select[tuple[User]]:
    """The active CAF officers of ``area``, in the order of their ids."""
    return (
        select(User)
        .join(Membership)
        .where(
            Membership.role == written(Role.CAF_OFFICER),
            Membership.area_id == area,
            User.is_active.is_(True),
        )
        .order_by(User.id)
    )


# An area's active CAF officers (the area bound), made once.
AREA_OFFICERS = officers_of(bindparam("area_id"))


def area_officers(area_id: int) -> Sequence[User]:
    return db.session.scalars(AREA_OFFICERS, {"area_id": area_id}).all()
