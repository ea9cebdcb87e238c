"""The traded services offered to a school for a year, each ready to be priced for it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    String,
    bindparam,
    or_,
    type_coerce,
)
from sqlalchemy.orm import aliased

from portal.buyback.offer import (
    SERVICE,
    ZONED_TIME,
    Found,
    LastYear,
    kind_of,
    offer_columns,
    offer_query,
    open_rows,
    year_offer,
)
from portal.db import driver_rows
from portal.models import (
    OfferStatus,
    PricingBasis,
    School,
    Service,
    ServiceOffer,
)
from portal.pricing import (
    NoPrice,
    quoted,
)
from portal.schools.rolls import remember_rolls, roll_column, rolls_for
from portal.services.catalogue import CategoryName
from portal.services.offers import OptionTerms, rule_of

# --- the offer a school chooses from ---------------------------------------------------------


# ServiceName, OfferTerms and Pricing are named tuples rather than frozen dataclasses: a
# task list makes one of each per service offered, a hundred and fifty a request, and a
# frozen dataclass's __init__ sets each field through object.__setattr__ (measured: about
# half of _offered's own time went in making them).


class ServiceName(NamedTuple):
    """The little of a service its buy-back line shows."""

    id: int
    name: str


class OfferTerms(NamedTuple):
    """A published (or last year's withdrawn) offer, as the buy-back page prices it."""

    id: int
    service_id: int
    year: int
    vat_applies: bool


class Pricing(NamedTuple):
    """What pricing a service for one school needs: the school, its rolls, last year's offer."""

    school: School
    pupils: dict[int, int]  # year -> pupils on roll
    last_offer: OfferTerms | None
    last_options: Sequence[OptionTerms]


@dataclass
class Offered:
    """One traded service on a school's choice page, with what it costs the school."""

    service: ServiceName
    category: CategoryName
    offer: OfferTerms
    options: list[OptionTerms]  # the price options that apply to this school
    # Priced only when asked: a page shows one category's prices, and a total needs only
    # the options chosen, of a hundred services or more.
    pricing: Pricing | None = field(default=None, repr=False, compare=False)

    @cached_property
    def quotes(self) -> dict[int, Any]:
        """Option id -> the option's Quote for the school (None if it has no price)."""
        if self.pricing is None:
            return {}
        pupils = self.pricing.pupils[self.offer.year]
        return {
            o.id: quote_for(o, self.offer, self.pricing.school, pupils, 1) for o in self.options
        }

    @cached_property
    def last_year(self) -> dict[str, int]:
        """Option name -> what it cost the school, net, in last year's offer."""
        found: dict[str, int] = {}
        if self.pricing is None or self.pricing.last_offer is None:
            return found
        before = self.pricing.last_offer
        pupils = self.pricing.pupils[before.year]
        for option in self.pricing.last_options:
            priced = quote_for(option, before, self.pricing.school, pupils, 1)
            if priced is not None:
                found[option.name] = priced.net_pence
        return found

    @property
    def sold_by_the_unit(self) -> bool:
        """Whether any option is priced per unit, so the page asks how many."""
        return any(is_per_unit(option) for option in self.options)


def offered_to(
    school: School,
    year: int,
    *,
    category_id: int | None = None,
    also: Collection[int] = (),
    last_year: bool = True,
) -> list[Offered]:
    """Every traded service published for the year that the school may buy, ready to be
    priced for it.

    ``category_id``: only that category's services, and of the others those in ``also``.
    ``last_year``: with last year's offer of each, for its price to compare.

    For the forms (saving a category, submitting), which read what they check afresh: the
    services with the school's pupils on roll, in one statement. The pages take the year's
    offer as worked out once per catalogue version (offered_items), which a form would
    read the version for first, and the pupils after.
    """
    slots, listed = _also(also)
    wanted = _Wanted(last_year, category=category_id is not None, also=slots)
    # Plain rows from the driver, as the pages read them: through SQLAlchemy's results the
    # year's hundred and fifty rows took 1.13 ms, through the driver 0.79 (measured).
    rows = driver_rows(
        _offered_query(wanted),
        {"category": category_id} | listed | _year_and_school(year, school),
    )
    return _offered(school, year, rows, last_year=last_year)


def offered_items(
    school: School, year: int, wanted: Callable[[Sequence[Any]], bool], *, last_year: bool
) -> list[Offered]:
    """The services of the year's offer the school may buy that ``wanted`` keeps (given each
    one's row: offer.offer_columns), in order, each ready to be priced for the school
    (``last_year``: with its offer last year, for its prices to compare)."""
    offered = year_offer(school, year)
    return _priced_items(
        school,
        year,
        (
            (row, options, offered.last.get(row[SERVICE]) if last_year else None)
            for row, options in offered.found
            if wanted(row)
        ),
        last_year=last_year,
    )


def _priced_items(
    school: School,
    year: int,
    found: Iterable[tuple[Sequence[Any], list[OptionTerms], LastYear | None]],
    *,
    last_year: bool,
) -> list[Offered]:
    """Each service ``found`` (its row, the options that apply, its offer last year if
    compared), ready to be priced for the school."""
    pupils = rolls_for(school, (year, year - 1) if last_year else (year,))
    plain = Pricing(school, pupils, None, ())
    categories: dict[int, CategoryName] = {}
    items = []
    for row, options, last in found:
        pricing = (
            plain
            if last is None
            else Pricing(
                school,
                pupils,
                OfferTerms(last.offer_id, row[SERVICE], year - 1, last.vat_applies),
                last.options,
            )
        )
        items.append(offered_item(row, options, year, pricing, categories))
    return items


class SavedLine(NamedTuple):
    """A saved answer, as a page reads it with the service it answers; who last changed it
    and when only where a task list lists it as changed (changes_of)."""

    service_id: int
    buying: bool | None
    option_id: int | None
    quantity: int
    changed_at: datetime | None = None
    changed_by_name: str | None = None


def offered_item(
    row: Sequence[Any],
    applying: list[OptionTerms],
    year: int,
    pricing: Pricing,
    categories: dict[int, CategoryName],
) -> Offered:
    """A row of the year's offer (offer.offer_columns) as the service offered
    (``categories``: each category's name as made so far, one per category)."""
    offer_id, _, vat, service_id, name, category_id, category_name = row[:7]
    category = categories.get(category_id)
    if category is None:
        category = categories[category_id] = CategoryName(category_id, category_name)
    return Offered(
        ServiceName(service_id, name),
        category,
        OfferTerms(offer_id, service_id, year, vat),
        applying,
        pricing,
    )


def _year_and_school(year: int, school: School) -> dict[str, int]:
    return {"year": year, "last_year": year - 1, "school": school.id}


def _offered(school: School, year: int, rows: Sequence[Any], *, last_year: bool) -> list[Offered]:
    """The services the school may buy among ``rows`` (from :func:`_offered_query`), each with
    the options that apply to it, ready to be priced."""
    found, prices = _open_rows(school, year, rows, last_year=last_year)
    return _priced_items(
        school,
        year,
        (
            (
                row,
                applying,
                # Last year's offer ends each row as its id, status, publication, VAT, and
                # last year's pupils.
                LastYear(row[-5], row[-2], prices[row[-5]].options)
                if last_year and row[-5] is not None
                else None,
            )
            for row, applying in found
        ),
        last_year=last_year,
    )


def _open_rows(
    school: School, year: int, rows: Sequence[Any], *, last_year: bool
) -> tuple[list[Found], dict[int, Any]]:
    """The rows (from :func:`_offered_query`) of the services the school may buy, each with
    the options that apply to it; and every offer's prices (``last_year``: last year's too),
    by offer id."""
    if rows:
        # The school's pupils on roll came with every row, for pricing.
        recorded = {year: rows[0][_PUPILS]} | ({year - 1: rows[0][-1]} if last_year else {})
        remember_rolls(school, recorded)
    # Last year's offer ends each row, before last year's pupils.
    return open_rows(rows, kind_of(school), last_at=-5 if last_year else None)


# The positions of _offered_query's columns after offer_columns (SERVICE, CATEGORY...).
_PUPILS = 9


class _Wanted(NamedTuple):
    """Which of the year's offered services a query reads, and what with them."""

    last_year: bool  # with last year's offer of each
    category: bool = False  # only those of one category (and any ``also``)
    # With (or only, without a category) the services listed: how many slots for them
    # (_also; none: no list).
    also: int = 0


# Services listed (``also``) are bound one to a slot, in a statement made for so many slots,
# a multiple of this: an expanding IN was spelled out by SQLAlchemy on every request (about
# 0.44 M instructions for a category's page, over a third of reading its rows), and few
# sizes of statement are made, each once.
_ALSO_SLOTS = 8


def _also(ids: Collection[int]) -> tuple[int, dict[str, int]]:
    """The services ``ids`` as _offered_query's slots take them: how many slots, and each
    slot's value (the last id repeated to fill them, which changes nothing in an IN)."""
    listed = sorted(ids)
    if not listed:
        return 0, {}
    slots = -(-len(listed) // _ALSO_SLOTS) * _ALSO_SLOTS
    listed += [listed[-1]] * (slots - len(listed))
    return slots, {f"also_{slot}": service_id for slot, service_id in enumerate(listed)}


@lru_cache(maxsize=64)
def _offered_query(wanted: _Wanted) -> Select[Any]:
    """The statement for the year's offered services, of each shape built once, its values
    bound when it runs (year, last_year, school, and category and also as wanted).

    Plain rows, not ORM objects: the services and their offers (offer_columns), with the
    school's pupils on roll.
    """
    school, this_year, before_year = bindparam("school"), bindparam("year"), bindparam("last_year")
    before = aliased(ServiceOffer)
    columns: list[Any] = [*offer_columns(), roll_column(school, this_year).label("pupils")]
    if wanted.last_year:
        columns += [
            before.id.label("last_id"),
            # As its stored text, made an OfferStatus only where there is an offer
            # (_open_rows): SQLAlchemy would convert it in Python on every row.
            type_coerce(before.status, String).label("last_status"),
            type_coerce(before.published_at, ZONED_TIME).label("last_published_at"),
            before.vat_applies.label("last_vat"),
            roll_column(school, before_year).label("last_pupils"),
        ]
    query = offer_query(columns, this_year)
    if wanted.last_year:
        # Last year's offer as schools were sold it: published, or withdrawn since.
        query = query.outerjoin(
            before,
            (before.service_id == ServiceOffer.service_id)
            & (before.year == before_year)
            # Two comparisons, not an IN: SQLAlchemy spells an IN's list out in the SQL each
            # time the statement is sent (db.driver_rows), about 0.4 M instructions a page.
            & ((before.status == OfferStatus.PUBLISHED) | (before.status == OfferStatus.WITHDRAWN)),
        )
    shown = []
    if wanted.category:
        shown.append(Service.category_id == bindparam("category"))
    if wanted.also:
        shown.append(Service.id.in_([bindparam(f"also_{slot}") for slot in range(wanted.also)]))
    if shown:
        query = query.where(or_(*shown))
    return query


def quote_for(
    option: OptionTerms, offer: OfferTerms, school: School, pupils: int, quantity: int
) -> Any:
    try:
        rule = rule_of(option, offer.vat_applies)
        return quoted(rule, pupils, school.phase.value, quantity)
    except (NoPrice, ValueError):
        return None


def is_per_unit(option: Any) -> bool:
    return option.basis is PricingBasis.PER_UNIT
