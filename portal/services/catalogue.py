"""The council's offer as schools see it: which services, and what each costs a school (a
service's own page is service_page.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    Subquery,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)

from portal import versions
from portal.access import Principal, offer_scope, sees_every_offer
from portal.db import db, driver_records, driver_rows, request_memo
from portal.models import (
    OfferStatus,
    School,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
    eligibility_of,
    open_to,
)
from portal.pagination import Page, PagedQuery, page_of, paged, paginate_paged
from portal.pricing import NoPrice, Quote, quoted, unit_priced
from portal.schools.rolls import pupils_for, remember_rolls, roll_column
from portal.services.offers import OfferPrices, OfferRef, offer_prices, rule_of

PAGE_SIZE = 20


def published_years() -> list[int]:
    """Financial years that have any published offer, newest first."""
    return list(
        db.session.scalars(
            select(ServiceOffer.year)
            .where(ServiceOffer.status == OfferStatus.PUBLISHED)
            .distinct()
            .order_by(ServiceOffer.year.desc())
        )
    )


@dataclass(frozen=True)
class OfferYear:
    """A financial year with an offer ``who`` may see, and how much of it schools see."""

    year: int
    published: int  # offers schools can see
    drafts: int  # offers still to publish (not counting drafts that record a service ceasing)


# What the filters offer: the years, then the categories (CategoryName is defined below).
Choices = tuple[tuple[OfferYear, ...], tuple["CategoryName", ...]]


def catalogue_choices(who: Principal) -> Choices:
    """What the catalogue's filters offer (the page asks for both every time): every
    financial year with an offer ``who`` may see, newest first (for schools the years with a
    published offer; for publishers every year with any offer, drafts too), and every
    category by name.

    Worked out once per version of the offers and categories (catalogue_version, migration
    0023, read with the person: portal/versions.py), for each of the two views of them: the
    same for everyone, nothing personal. Never stale: a version is replaced, in the same
    statement, by any change to offers or categories, whoever makes it, and never used
    again; what is kept under one was read after the version was, so it is never older than
    the version says (tests/services/test_services.py)."""
    every_offer = sees_every_offer(who)
    key = (versions.current(versions.CATALOGUE), every_offer)
    return _choices_cache.once(key, lambda: _read_choices(every_offer))


_choices_cache = versions.Cache(at_most=16)


def forget_choices() -> None:
    """Forget the choices worked out: for tests that count the queries a page runs when
    nothing has been worked out yet."""
    _choices_cache.clear()


def _read_choices(every_offer: bool) -> Choices:
    years: list[OfferYear] = []
    names: list[CategoryName] = []
    # Sent by the driver itself (db.driver_rows): cheaper than SQLAlchemy's execution.
    for kind, key, name, published, drafts, _ in driver_rows(_choices_query(every_offer), {}):
        if kind == "year":
            years.append(OfferYear(int(key), int(published), int(drafts)))
        else:
            names.append(CategoryName(key, name))
    return tuple(years), tuple(names)


@lru_cache(maxsize=2)
def _choices_query(every_offer: bool) -> Select[Any]:
    """catalogue_choices's statement, for those who see every offer (publishers: drafts too)
    and for those who see the published ones (access.visible_offer_scope), built once."""
    years = (
        select(
            literal("year").label("kind"),
            ServiceOffer.year.label("id"),
            null().label("name"),
            func.sum(case((ServiceOffer.status == OfferStatus.PUBLISHED, 1), else_=0)).label(
                "published"
            ),
            func.sum(
                case(
                    (
                        (ServiceOffer.status == OfferStatus.DRAFT)
                        & (ServiceOffer.decision != TradingDecision.CEASED),
                        1,
                    ),
                    else_=0,
                )
            ).label("drafts"),
            (-ServiceOffer.year).label("sort"),  # newest first
        )
        .where(offer_scope(every_offer))
        .group_by(ServiceOffer.year)
    )
    names = select(
        literal("category"),
        ServiceCategory.id,
        ServiceCategory.name,
        null(),
        null(),
        literal(0),  # then by name, as the database sorts names (as categories() does)
    )
    return union_all(years, names).order_by("kind", "sort", "name")


@dataclass(frozen=True)
class CatalogueFilter:
    year: int
    category_id: int | None = None
    kinds: tuple[ServiceKind, ...] = ()
    available_to: School | None = None  # only services this school can buy or use
    query: str = ""
    page: int = 1


@dataclass(frozen=True)
class CategoryName:
    """A category of services, as a list names it."""

    id: int
    name: str


@dataclass(frozen=True)
class Listed:
    """A service as the catalogue lists it, with its published offer for the year."""

    id: int
    name: str
    kind: ServiceKind
    category: CategoryName
    summary: str
    eligible: frozenset[str]
    phases: frozenset[str]
    offer: OfferRef

    def is_available_to(self, school: School) -> bool:
        return open_to(groups_of(school), school.phase.value, self.eligible, self.phases)


def groups_of(school: School) -> frozenset[str]:
    """The eligibility groups the school belongs to (models.eligibility_of), worked out once
    a request: a page lists twenty services, each asked whether the school may use it."""
    known = request_memo("eligibility")
    if school.id not in known:
        known[school.id] = frozenset(e.value for e in eligibility_of(school))
    groups: frozenset[str] = known[school.id]
    return groups


def catalogue(criteria: CatalogueFilter, prices_for: School | None = None) -> Page[Listed]:
    """A page of the catalogue: services with a published offer for the year, filtered, as
    plain rows, with how many there are in all in the same query. ``prices_for``: the school
    the page prices for, whose pupils on roll are read with the rows.

    'Available to my school' depends on eligibility rules that live in Python, so that
    filter runs over the (small: hundreds, not thousands) published offer before paging.
    """
    school = criteria.available_to
    shape = _Listing(
        category=bool(criteria.category_id),
        kinds=criteria.kinds,
        searched=bool(criteria.query),
        priced=prices_for is not None,
    )
    values: dict[str, Any] = {
        "year": criteria.year,
        "category": criteria.category_id,
        "search": _like_escaped(criteria.query),
        "school": prices_for.id if prices_for is not None else None,
    }
    page: Page[Any]
    if school is None:
        page = paginate_paged(_catalogue_pages(shape), criteria.page, values, made_once=True)
    else:
        groups = groups_of(school)
        rows = [
            row
            for row in driver_records(_catalogue_rows(shape), values)
            if open_to(
                groups, school.phase.value, decoded_list(row.eligible), decoded_list(row.phases)
            )
        ]
        page = page_of(rows, criteria.page, PAGE_SIZE)
    if prices_for is not None and page.items:
        remember_rolls(prices_for, {criteria.year: page.items[0].pupils})
    return replace(
        page,
        items=[
            Listed(
                row.id,
                row.name,
                row.kind,
                CategoryName(row.category_id, row.category_name),
                row.summary,
                decoded_list(row.eligible),
                decoded_list(row.phases),
                (row.offer_id, row.status, row.published_at),
            )
            for row in page.items
        ],
    )


class _Listing(NamedTuple):
    """The shape of a catalogue query: which filters it has, what it reads with the rows."""

    category: bool
    kinds: tuple[ServiceKind, ...]
    searched: bool
    priced: bool  # with the school's pupils on roll


@lru_cache(maxsize=64)
def _catalogue_pages(shape: _Listing) -> PagedQuery:
    """The catalogue's page of each shape, built once, its values bound when it runs (year,
    category, search, school).

    A page is chosen (filtered, counted, sorted, cut) on the few columns that takes, and only
    its services' other columns are read: the lists of who may use a service are stored as
    JSON, and reading them as text for every service, to keep twenty, was half the query.
    """
    return paged(_chosen(shape), PAGE_SIZE, lambda page: _listed(shape, page, counted=True))


@lru_cache(maxsize=64)
def _catalogue_rows(shape: _Listing) -> Select[Any]:
    """Every row of the catalogue of each shape (to filter by what a school may use), built
    once."""
    return _listed(shape, _chosen(shape).subquery(), counted=False)


def _chosen(shape: _Listing) -> Select[Any]:
    """The services listed: their ids and their offer's, in the catalogue's order."""
    chosen = (
        select(Service.id.label("service_id"), ServiceOffer.id.label("offer_id"))
        .join(
            ServiceOffer,
            (ServiceOffer.service_id == Service.id)
            & (ServiceOffer.year == bindparam("year"))
            & (ServiceOffer.status == OfferStatus.PUBLISHED),
        )
        .order_by(Service.name, Service.id)
    )
    if shape.category:
        chosen = chosen.where(Service.category_id == bindparam("category"))
    if shape.kinds:
        chosen = chosen.where(Service.kind.in_(shape.kinds))
    if shape.searched:
        chosen = chosen.where(Service.name.icontains(bindparam("search"), escape="/"))
    return chosen


def _listed(shape: _Listing, listed: Subquery, *, counted: bool) -> Select[Any]:
    """What the catalogue shows of the services ``listed`` (with their ``total``, counted)."""
    return (
        select(
            Service.id,
            Service.name,
            Service.kind,
            Service.summary,
            # Decoded once per distinct list (decoded_list): a few across hundreds of services.
            cast(Service.eligible, Text).label("eligible"),
            cast(Service.phases, Text).label("phases"),
            Service.category_id,
            ServiceCategory.name.label("category_name"),
            ServiceOffer.id.label("offer_id"),
            ServiceOffer.status,
            ServiceOffer.published_at,
            *([listed.c.total] if counted else []),
            *(
                [roll_column(bindparam("school"), bindparam("year")).label("pupils")]
                if shape.priced
                else []
            ),
        )
        .select_from(listed)
        .join(Service, Service.id == listed.c.service_id)
        .join(ServiceOffer, ServiceOffer.id == listed.c.offer_id)
        .join(ServiceCategory, ServiceCategory.id == Service.category_id)
        .order_by(Service.name, Service.id)
    )


def _like_escaped(text: str) -> str:
    """``text`` to match literally in a LIKE pattern, whose escape character is '/'."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


@lru_cache(maxsize=1024)
def decoded_list(text: str | None) -> frozenset[str]:
    """A JSON list as stored (a service's eligibility or phases), as a set.

    Keyed on the stored text itself, so a changed list is a new key: never stale.
    """
    return frozenset((json.loads(text) if text else None) or ())


def school_prices(
    items: Sequence[Listed], school: School, year: int
) -> dict[int, list[SchoolPrice]]:
    """What each traded service listed that the school may buy costs it: the free ones and
    those not open to it show no price, so none is worked out for them."""
    priced = [
        item for item in items if item.kind is ServiceKind.TRADED and item.is_available_to(school)
    ]
    if not priced:
        return {}
    offers = offer_prices(item.offer for item in priced)
    pupils = pupils_for(school, year)
    return {item.id: prices_for_school(offers[item.offer[0]], school, pupils) for item in priced}


def categories() -> Sequence[ServiceCategory]:
    return db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.name)).all()


@dataclass(frozen=True)
class SchoolPrice:
    """What one price option would cost one school in one year."""

    option_name: str
    pupils: int
    quote: Quote | None
    problem: str | None = None
    # For unit prices, what one price buys: " per day", " per pack of 10 visits".
    per: str = ""
    minimum_pence: int | None = None


def prices_for_school(offer: OfferPrices | None, school: School, pupils: int) -> list[SchoolPrice]:
    """Each option of the offer that applies to this school, priced for it with ``pupils``
    on roll (the school's for the offer's year)."""
    if offer is None:
        return []
    prices = []
    for option in offer.applying(is_academy=school.is_academy):
        rule = rule_of(option, offer.vat_applies)
        per, minimum = "", None
        if rule.unit:
            # A unit price is shown per unit (or pack), with any minimum charge beside it:
            # quoting one unit with the minimum applied would read as the price of one.
            per = f" per {unit_priced(rule)}"
            minimum, rule = rule.minimum_pence, replace(rule, minimum_pence=None)
        try:
            priced = quoted(rule, pupils, school.phase.value)
            prices.append(SchoolPrice(option.name, pupils, priced, per=per, minimum_pence=minimum))
        except NoPrice as error:
            prices.append(SchoolPrice(option.name, pupils, None, str(error)))
    return prices


def count_published(year: int) -> int:
    return int(
        db.session.scalar(
            select(func.count(ServiceOffer.id)).where(
                ServiceOffer.year == year, ServiceOffer.status == OfferStatus.PUBLISHED
            )
        )
        or 0
    )
