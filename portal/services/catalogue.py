"""The council's offer as schools see it: which services, and what each costs a school."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ScalarSelect, Select, case, func, select
from sqlalchemy.orm import load_only, selectinload

from portal.access import Principal, visible_offer_scope
from portal.db import db, request_memo
from portal.models import (
    OfferStatus,
    School,
    SchoolRoll,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
)
from portal.pagination import Page, paginate
from portal.services.pricing import NoPrice, PriceRule, Quote, applies_to, quote, unit_priced

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


def offer_years(who: Principal) -> list[OfferYear]:
    """Every financial year with an offer ``who`` may see, newest first: for schools the
    years with a published offer; for publishers every year with any offer, drafts too."""
    rows = db.session.execute(
        select(
            ServiceOffer.year,
            func.sum(case((ServiceOffer.status == OfferStatus.PUBLISHED, 1), else_=0)),
            func.sum(
                case(
                    (
                        (ServiceOffer.status == OfferStatus.DRAFT)
                        & (ServiceOffer.decision != TradingDecision.CEASED),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .where(visible_offer_scope(who))
        .group_by(ServiceOffer.year)
        .order_by(ServiceOffer.year.desc())
    )
    return [OfferYear(int(year), int(published), int(drafts)) for year, published, drafts in rows]


@dataclass(frozen=True)
class CatalogueFilter:
    year: int
    category_id: int | None = None
    kinds: tuple[ServiceKind, ...] = ()
    available_to: School | None = None  # only services this school can buy or use
    query: str = ""
    page: int = 1


def catalogue_query(criteria: CatalogueFilter) -> Select[tuple[Service]]:
    """Services with a published offer for the year, filtered."""
    published = select(ServiceOffer.service_id).where(
        ServiceOffer.year == criteria.year, ServiceOffer.status == OfferStatus.PUBLISHED
    )
    query = (
        select(Service)
        .where(Service.id.in_(published))
        .options(
            # A list shows a service's name, kind, category and summary, and prices its offer
            # for the year: not the long texts, nor the other years' offers and prices.
            load_only(
                Service.id,
                Service.name,
                Service.kind,
                Service.category_id,
                Service.summary,
                Service.eligible,
                Service.phases,
            ),
            selectinload(Service.offers.and_(ServiceOffer.year == criteria.year)),
        )
        .order_by(Service.name, Service.id)
    )
    if criteria.category_id:
        query = query.where(Service.category_id == criteria.category_id)
    if criteria.kinds:
        query = query.where(Service.kind.in_(criteria.kinds))
    if criteria.query:
        query = query.where(Service.name.icontains(criteria.query, autoescape=True))
    return query


def catalogue(criteria: CatalogueFilter) -> tuple[Page[Service], int]:
    """A page of the catalogue, and how many services it holds in all.

    'Available to my school' depends on eligibility rules that live in Python, so that
    filter runs over the (small: tens, not thousands) published offer before paging.
    """
    query = catalogue_query(criteria)
    school = criteria.available_to
    if school is None:
        return paginate(query, criteria.page, PAGE_SIZE), 0
    services = [s for s in db.session.scalars(query) if s.is_available_to(school)]
    start = (max(1, criteria.page) - 1) * PAGE_SIZE
    page = Page(
        items=services[start : start + PAGE_SIZE],
        number=max(1, criteria.page),
        per_page=PAGE_SIZE,
        total=len(services),
    )
    return page, len(services)


def categories() -> Sequence[ServiceCategory]:
    return db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.name)).all()


def offer_for(service: Service, year: int, *, include_drafts: bool = False) -> ServiceOffer | None:
    for offer in service.offers:
        if offer.year == year and (include_drafts or offer.status is OfferStatus.PUBLISHED):
            return offer
    return None


def pupils_for(school: School, year: int) -> int:
    """Pupils on roll as recorded for the year; the school's current figure if none was."""
    return rolls_for(school, (year,))[year]


def rolls_for(school: School, years: Sequence[int]) -> dict[int, int]:
    """Pupils on roll for each year, in one query, remembered for the rest of the request.

    A price, its last-year comparison and a buy-back page's every line all ask; rolls do not
    change while a page is drawn.
    """
    known = request_memo("pupils_on_roll")
    wanted = [year for year in years if (school.id, year) not in known]
    if wanted:
        rows = db.session.execute(
            select(SchoolRoll.year, SchoolRoll.pupils_on_roll).where(
                SchoolRoll.school_id == school.id, SchoolRoll.year.in_(wanted)
            )
        )
        _remember(known, school, dict.fromkeys(wanted) | {year: pupils for year, pupils in rows})
    return {year: known[(school.id, year)] for year in years}


def roll_column(school_id: Any, year: Any) -> ScalarSelect[int]:
    """The pupils on roll recorded for a school and year, as a column of another query: a
    page that reads its rows anyway reads the roll with them, rather than on its own.
    Give what it read to :func:`remember_rolls`."""
    return (
        select(SchoolRoll.pupils_on_roll)
        .where(SchoolRoll.school_id == school_id, SchoolRoll.year == year)
        .scalar_subquery()
    )


def remember_rolls(school: School, recorded: Mapping[int, int | None]) -> None:
    """Pupils on roll read for each year (None: none recorded, so the school's current
    figure), for :func:`rolls_for` to answer from for the rest of the request."""
    _remember(request_memo("pupils_on_roll"), school, recorded)


def _remember(known: dict[Any, int], school: School, recorded: Mapping[int, int | None]) -> None:
    for year, pupils in recorded.items():
        known[(school.id, year)] = school.pupils_on_roll if pupils is None else int(pupils)


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


def prices_for_school(
    offer: ServiceOffer | None, school: School, pupils: int | None = None
) -> list[SchoolPrice]:
    """Each option of the offer that applies to this school, priced for it. A page pricing
    many services for one school and year passes ``pupils`` once rather than per service."""
    if offer is None:
        return []
    if pupils is None:
        pupils = pupils_for(school, offer.year)
    prices = []
    for option in offer.options:
        rule = PriceRule.from_option(option, vat=offer.vat_applies)
        if not applies_to(rule, is_academy=school.is_academy):
            continue
        per, minimum = "", None
        if rule.unit:
            # A unit price is shown per unit (or pack), with any minimum charge beside it:
            # quoting one unit with the minimum applied would read as the price of one.
            per = f" per {unit_priced(rule)}"
            minimum, rule = rule.minimum_pence, replace(rule, minimum_pence=None)
        try:
            priced = quote(rule, pupils=pupils, phase=school.phase.value)
            prices.append(SchoolPrice(option.name, pupils, priced, per=per, minimum_pence=minimum))
        except NoPrice as error:
            prices.append(SchoolPrice(option.name, pupils, None, str(error)))
    return prices


def price_change(this_year: list[SchoolPrice], last_year: list[SchoolPrice]) -> dict[str, int]:
    """For each option sold in both years, the change in the net price, in pence."""
    before = {p.option_name: p.quote.net_pence for p in last_year if p.quote}
    return {
        p.option_name: p.quote.net_pence - before[p.option_name]
        for p in this_year
        if p.quote and p.option_name in before
    }


def count_published(year: int) -> int:
    return int(
        db.session.scalar(
            select(func.count(ServiceOffer.id)).where(
                ServiceOffer.year == year, ServiceOffer.status == OfferStatus.PUBLISHED
            )
        )
        or 0
    )
