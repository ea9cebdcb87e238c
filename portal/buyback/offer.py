"""The year's traded offer as a school chooses from it: which services a school may buy, each
with the price options that apply to it.

The same for every school of a kind (who may buy a service is said by the school's
eligibility groups, its phase, and whether it is an academy) and nothing personal, so a
school's task list takes it as worked out once per version of the catalogue
(:func:`year_offer`), rather than reading and deciding a hundred and fifty services on every
drawing. What a school has answered is read on its own (portal/buyback/pages.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Select, String, Text, bindparam, cast, select, type_coerce
from sqlalchemy.orm import aliased

from portal import versions
from portal.db import UTCDateTime, driver_rows
from portal.models import (
    OfferStatus,
    School,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    eligibility_of,
    open_to,
)
from portal.services.catalogue import decoded_list
from portal.services.offers import OfferPrices, OfferRef, OptionTerms, offer_prices

# A time as the driver reads it, where that is already a time with its zone (PostgreSQL's
# timestamptz, in the session's zone): SQLAlchemy's UTCDateTime would move it to UTC, a
# conversion in Python for every row of a task list's hundred and fifty. The times read so
# are compared (a publication, against the offer's prices kept) or shown in London time,
# never stored. SQLite keeps times as text: there they are read as UTCDateTime.
ZONED_TIME = DateTime(timezone=True).with_variant(UTCDateTime(), "sqlite")

# The positions of offer_columns in a row: rows are read by position, as a column by name
# costs a lookup per column per row, and a task list has a hundred and fifty rows.
OFFER, PUBLISHED, VAT, SERVICE, NAME, CATEGORY, CATEGORY_NAME, ELIGIBLE, PHASES = range(9)

# An offer's status by its stored text: a lookup, where OfferStatus(text) goes through the
# enum's machinery in Python (about ten times as long), once a row of a category's page.
STATUS = {status.value: status for status in OfferStatus}

# A service the school may buy: its row (offer_columns, and any more the statement read),
# with the price options that apply to the school.
Found = tuple[Sequence[Any], list[OptionTerms]]


def in_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def offer_columns() -> list[Any]:
    """The columns every reading of the year's offer starts with, in the order of the
    positions above: the services and their offers as they are now (a service's name,
    category and who may buy it can change while its offer is published). Their price
    options come from offer_prices, read once per publication."""
    return [
        ServiceOffer.id.label("offer_id"),
        # Its status is not read: published, as the statement asks (a conversion a row).
        type_coerce(ServiceOffer.published_at, ZONED_TIME).label("published_at"),
        ServiceOffer.vat_applies,
        Service.id.label("service_id"),
        Service.name.label("service_name"),
        Service.category_id,
        ServiceCategory.name.label("category_name"),
        # Decoded once per distinct list (decoded_list): a few across hundreds of services.
        cast(Service.eligible, Text).label("eligible"),
        cast(Service.phases, Text).label("phases"),
    ]


def offer_query(columns: Sequence[Any], year: Any) -> Select[Any]:
    """``columns`` of the traded services published for ``year`` (a value or a bindparam),
    by name."""
    return (
        select(*columns)
        .select_from(ServiceOffer)
        .join(Service, Service.id == ServiceOffer.service_id)
        .join(ServiceCategory, ServiceCategory.id == Service.category_id)
        .where(
            Service.kind == ServiceKind.TRADED,
            ServiceOffer.year == year,
            ServiceOffer.status == OfferStatus.PUBLISHED,
        )
        .order_by(Service.name, Service.id)
    )


class SchoolKind(NamedTuple):
    """What says which services a school may buy, and which of their options apply."""

    groups: frozenset[str]
    phase: str
    academy: bool


def kind_of(school: School) -> SchoolKind:
    return SchoolKind(
        frozenset(e.value for e in eligibility_of(school)), school.phase.value, school.is_academy
    )


def open_rows(
    rows: Sequence[Sequence[Any]], kind: SchoolKind, *, last_at: int | None
) -> tuple[list[Found], dict[int, OfferPrices]]:
    """The rows (offer_columns first) of the services a school of ``kind`` may buy, each with
    the options that apply to it; and every offer's prices, by offer id (``last_at``: where
    in each row last year's offer is, as its id, status and publication: its prices too)."""
    # A few distinct lists of who may buy recur across hundreds of services: each is decided
    # once.
    open_for: dict[tuple[str, str], bool] = {}
    # This year's offers are published: the statement reads no others. Each publication
    # time, read in the session's zone (ZONED_TIME), is compared in UTC, the zone of the
    # prices kept: comparing times in two zones took several times as long as in one (about
    # 0.8 against 0.13 microseconds, for each of a hundred and fifty offers).
    published = OfferStatus.PUBLISHED
    kept = []
    wanted: list[OfferRef] = []
    for row in rows:
        lists = row[ELIGIBLE], row[PHASES]
        is_open = open_for.get(lists)
        if is_open is None:
            is_open = open_for[lists] = open_to(
                kind.groups, kind.phase, decoded_list(lists[0]), decoded_list(lists[1])
            )
        if not is_open:
            continue
        kept.append(row)
        wanted.append((row[OFFER], published, in_utc(row[PUBLISHED])))
        if last_at is not None and row[last_at] is not None:
            wanted.append((row[last_at], STATUS[row[last_at + 1]], in_utc(row[last_at + 2])))
    prices = offer_prices(wanted)
    found = []
    for row in kept:
        applying = prices[row[OFFER]].applying(is_academy=kind.academy)
        if applying:
            found.append((row, applying))
    return found, prices


class LastYear(NamedTuple):
    """A service's offer last year, as schools were sold it, for its prices to compare."""

    offer_id: int
    vat_applies: bool
    options: list[OptionTerms]


class YearOffer(NamedTuple):
    """The services a school of a kind may buy in a year, by name, each with the options
    that apply to it; and by service: each one's options and itself (as StartingPoint.priced
    takes them), its options' ids, its place in the order, and its offer last year if any."""

    found: tuple[Found, ...]
    by_service: dict[int, tuple[list[OptionTerms], Found]]
    options: dict[int, frozenset[int]]
    position: dict[int, int]
    last: dict[int, LastYear]


def year_offer(school: School, year: int) -> YearOffer:
    """The services ``school`` may buy in ``year``: worked out once per version of the
    catalogue for each kind of school.

    Never stale: the version (catalogue_version, migrations 0023 and 0025) is replaced, in
    the same statement, by any change to services, their offers or the categories, whoever
    makes it, and is read (with the person, portal/versions.py) before what is kept under it
    is read; a published offer's price options do not change while it is published (a
    change withdraws it, which changes the offer). Nothing personal: the school's answers
    are not part of it."""
    kind = kind_of(school)
    key = (versions.current(versions.CATALOGUE), year, kind)
    return _offers_cache.once(key, lambda: _work_out(year, kind))


# Kinds of school (a few dozen) by a year or two: a version gone by is emptied out.
_offers_cache = versions.Cache(at_most=256)


def forget_year_offers() -> None:
    """Forget the year's offers worked out: for tests that count the queries a page runs
    when nothing has been worked out yet."""
    _offers_cache.clear()


# Where last year's offer is in the rows of _year_query: its id, status, publication, VAT.
_LAST = 9


def _work_out(year: int, kind: SchoolKind) -> YearOffer:
    rows = driver_rows(_year_query(), {"year": year, "last_year": year - 1})
    found, prices = open_rows(rows, kind, last_at=_LAST)
    last = {
        row[SERVICE]: LastYear(row[_LAST], row[_LAST + 3], prices[row[_LAST]].options)
        for row, _ in found
        if row[_LAST] is not None
    }
    found = [(tuple(row[:_LAST]), options) for row, options in found]
    return YearOffer(
        tuple(found),
        {row[SERVICE]: (options, (row, options)) for row, options in found},
        {row[SERVICE]: frozenset(option.id for option in options) for row, options in found},
        {row[SERVICE]: place for place, (row, _) in enumerate(found)},
        last,
    )


@cache
def _year_query() -> Select[Any]:
    """The year's offer, each service with its offer last year as schools were sold it:
    published, or withdrawn since."""
    before = aliased(ServiceOffer)
    columns = [
        *offer_columns(),
        before.id.label("last_id"),
        # As its stored text, made an OfferStatus only where there is an offer (open_rows).
        type_coerce(before.status, String).label("last_status"),
        type_coerce(before.published_at, ZONED_TIME).label("last_published_at"),
        before.vat_applies.label("last_vat"),
    ]
    return offer_query(columns, bindparam("year")).outerjoin(
        before,
        (before.service_id == ServiceOffer.service_id)
        & (before.year == bindparam("last_year"))
        & ((before.status == OfferStatus.PUBLISHED) | (before.status == OfferStatus.WITHDRAWN)),
    )
