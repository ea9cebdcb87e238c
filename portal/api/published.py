"""What the open feed may show, as queries: services with a published offer, and categories.

A list costs the same few queries however many services there are: one count, one page
(categories joined in), and for fully nested records one each for offers and price options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    exists,
    false,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import selectinload

from portal.db import UTCDateTime, db
from portal.models import OfferStatus, Service, ServiceCategory, ServiceOffer


@dataclass(frozen=True)
class ServiceFilter:
    search: str = ""
    category_public_id: str | None = None
    modified_after: datetime | None = None
    # A filter no service can pass: another organisation's id, a term id that is not a UUID.
    matches_nothing: bool = False


def last_changed() -> ColumnElement[datetime]:
    """When the service's public record last changed: its own details, or an offer being
    published, re-priced or withdrawn (drafts are not public, so their edits do not count)."""
    offers_changed = (
        select(func.max(ServiceOffer.updated_at))
        .where(ServiceOffer.service_id == Service.id, ServiceOffer.status != OfferStatus.DRAFT)
        .correlate(Service)
        .scalar_subquery()
    )
    # CASE rather than GREATEST, which SQLite lacks; typed so SQLite's text comes back a datetime.
    latest = case((offers_changed > Service.updated_at, offers_changed), else_=Service.updated_at)
    return type_coerce(latest, UTCDateTime())


def _is_published() -> ColumnElement[bool]:
    return exists().where(
        ServiceOffer.service_id == Service.id, ServiceOffer.status == OfferStatus.PUBLISHED
    )


def services_query(criteria: ServiceFilter, *, nested: bool) -> Select[tuple[Service, datetime]]:
    """Published services with when each last changed, by name; ``nested`` also loads every
    offer and its price options, for fully nested records."""
    changed = last_changed()
    query = (
        select(Service, changed.label("last_changed"))
        .where(_is_published())
        .order_by(Service.name, Service.id)
    )
    if nested:
        query = query.options(selectinload(Service.offers).selectinload(ServiceOffer.options))
    if criteria.matches_nothing:
        query = query.where(false())
    if criteria.search.strip():
        words = criteria.search.strip()
        query = query.where(
            or_(
                Service.name.icontains(words, autoescape=True),
                Service.summary.icontains(words, autoescape=True),
                Service.included.icontains(words, autoescape=True),
            )
        )
    if criteria.category_public_id is not None:
        query = query.where(
            Service.category_id.in_(
                select(ServiceCategory.id).where(
                    ServiceCategory.public_id == criteria.category_public_id
                )
            )
        )
    if criteria.modified_after is not None:
        query = query.where(changed >= criteria.modified_after)
    return query


def find_service(public_id: str) -> tuple[Service, datetime] | None:
    query = services_query(ServiceFilter(), nested=True).where(Service.public_id == public_id)
    row = db.session.execute(query).one_or_none()
    return None if row is None else (row[0], row[1])


def categories_query(search: str = "") -> Select[tuple[ServiceCategory]]:
    query = select(ServiceCategory).order_by(ServiceCategory.name, ServiceCategory.id)
    if search.strip():
        query = query.where(ServiceCategory.name.icontains(search.strip(), autoescape=True))
    return query


def find_category(public_id: str) -> ServiceCategory | None:
    return db.session.scalar(select(ServiceCategory).where(ServiceCategory.public_id == public_id))


def fetch_page(query: Select[Any], number: int, per_page: int) -> tuple[Sequence[Any], int]:
    """The rows of page ``number`` and the total. A page past the end is simply empty, and
    is not asked of the database at all (a huge OFFSET can overflow PostgreSQL's integers)."""
    total = int(
        db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    if (number - 1) * per_page >= total:
        return [], total
    rows = db.session.execute(query.limit(per_page).offset((number - 1) * per_page)).all()
    return rows, total
