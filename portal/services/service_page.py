"""A service's own page: what it says, its offers year by year, and how a school's prices
changed since last year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select

from portal.access import Principal, sees_every_offer
from portal.db import db, driver_records
from portal.models import (
    OfferStatus,
    School,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    available_to,
)
from portal.schools.rolls import remember_rolls, roll_column, rolls_for
from portal.services.catalogue import SchoolPrice, prices_for_school
from portal.services.offers import OfferPrices, OfferRef, offer_prices


@dataclass(frozen=True)
class YearsOffer:
    """A service's offer for one year, as its page reads it (its prices: offers.offer_prices)."""

    id: int
    year: int
    status: OfferStatus
    published_at: datetime | None

    @property
    def ref(self) -> OfferRef:
        return (self.id, self.status, self.published_at)


class ShownService(NamedTuple):
    """A service as its page shows it: what it says, its category's name, who may buy it."""

    id: int
    name: str
    category_name: str
    kind: ServiceKind
    summary: str
    included: str
    standards: str | None
    statutory_duties: str | None
    provider_team: str
    contact_email: str
    contact_phone: str | None
    eligible: list[str]
    phases: list[str]

    def is_available_to(self, school: School) -> bool:
        return available_to(school, self.eligible, self.phases)


def service_and_offers(
    service_id: int, school: School | None = None
) -> tuple[ShownService | None, list[YearsOffer]]:
    """The service (all its page shows, and its category's name) and its offers year by
    year, in one query; with ``school``, its pupils on roll for each offer's year and the
    year before, for the prices the page shows. Plain values sent and read by the driver
    (db.driver_records): as ORM objects, loading the service and its category and letting
    go of them as the request ended cost a fifth of the page."""
    params: dict[str, Any] = {"service_id": service_id}
    if school is not None:
        params["school"] = school.id
    rows = driver_records(_service_query(school is not None), params)
    if not rows:
        return None, []
    offers = [
        YearsOffer(row.offer_id, row.year, row.status, row.published_at)
        for row in rows
        if row.offer_id is not None
    ]
    if school is not None:
        for row in rows:
            if row.offer_id is not None:
                remember_rolls(school, {row.year: row.pupils, row.year - 1: row.last_pupils})
    return ShownService._make(rows[0][: len(ShownService._fields)]), offers


@lru_cache(maxsize=2)
def _service_query(priced: bool) -> Select[Any]:
    """service_and_offers's statement, with the school's rolls (``priced``) or without, built
    once: building it and its key for SQLAlchemy's statement cache cost a third as much as
    running it. Its first columns are ShownService's, in order."""
    columns: list[Any] = [
        Service.id,
        Service.name,
        ServiceCategory.name.label("category_name"),
        Service.kind,
        Service.summary,
        Service.included,
        Service.standards,
        Service.statutory_duties,
        Service.provider_team,
        Service.contact_email,
        Service.contact_phone,
        Service.eligible,
        Service.phases,
        ServiceOffer.id.label("offer_id"),
        ServiceOffer.year,
        ServiceOffer.status,
        ServiceOffer.published_at,
    ]
    if priced:
        columns += [
            roll_column(bindparam("school"), ServiceOffer.year).label("pupils"),
            roll_column(bindparam("school"), ServiceOffer.year - 1).label("last_pupils"),
        ]
    return (
        select(*columns)
        .join(ServiceCategory, ServiceCategory.id == Service.category_id)
        .outerjoin(ServiceOffer, ServiceOffer.service_id == Service.id)
        .where(Service.id == bindparam("service_id"))
        .order_by(ServiceOffer.year)
    )


def offer_in(
    offers: Sequence[YearsOffer], year: int, *, include_drafts: bool = False
) -> YearsOffer | None:
    """The year's offer among ``offers``: the published one, or with ``include_drafts`` any."""
    return next(
        (
            offer
            for offer in offers
            if offer.year == year and (include_drafts or offer.status is OfferStatus.PUBLISHED)
        ),
        None,
    )


def get_service(service_id: int) -> Service | None:
    return db.session.get(Service, service_id)


def offer_for(service: Service, year: int, *, include_drafts: bool = False) -> ServiceOffer | None:
    for offer in service.offers:
        if offer.year == year and (include_drafts or offer.status is OfferStatus.PUBLISHED):
            return offer
    return None


def price_change(this_year: list[SchoolPrice], last_year: list[SchoolPrice]) -> dict[str, int]:
    """For each option sold in both years, the change in the net price, in pence."""
    before = {p.option_name: p.quote.net_pence for p in last_year if p.quote}
    return {
        p.option_name: p.quote.net_pence - before[p.option_name]
        for p in this_year
        if p.quote and p.option_name in before
    }


@dataclass(frozen=True)
class ServicePage:
    """What a service's page shows: the service, the year shown and the years to choose
    from, that year's offer with its prices, and (for a school) what each option costs it and
    how that changed since last year."""

    service: ShownService
    year: int | None
    years: list[int]
    offer: OfferPrices | None
    preview: bool
    prices: list[SchoolPrice]
    changes: dict[str, int]


def service_page(
    who: Principal, service_id: int, school: School | None, *, year: int | None, preview: bool
) -> ServicePage | None:
    """The page of the service ``service_id`` for ``who``, priced for ``school`` (if any), in
    ``year`` if it has an offer then (else its latest published); a draft shown if ``who``
    sees every offer and asked to ``preview`` it. None if ``who`` may not see the service:
    there is none, or it has no offer they may see."""
    every_offer = sees_every_offer(who)
    service, offers = service_and_offers(service_id, school)
    published_years = [o.year for o in offers if o.status is OfferStatus.PUBLISHED]
    if service is None or not (published_years or every_offer):
        return None
    years = sorted({o.year for o in offers} if every_offer else set(published_years), reverse=True)
    if year not in years:
        year = max(published_years) if published_years else (years[0] if years else None)
    preview = every_offer and preview
    shown = offer_in(offers, year, include_drafts=preview) if year else None
    before = offer_in(offers, year - 1) if year else None
    # Their price options: a published offer's as read once for its publication.
    options = offer_prices(o.ref for o in (shown, before) if o is not None)
    offer = options[shown.id] if shown else None
    last_offer = options[before.id] if before else None
    prices: list[SchoolPrice] = []
    last_prices: list[SchoolPrice] = []
    if school and year:
        pupils = rolls_for(school, (year, year - 1))
        prices = prices_for_school(offer, school, pupils[year])
        last_prices = prices_for_school(last_offer, school, pupils[year - 1])
    return ServicePage(
        service, year, years, offer, preview, prices, price_change(prices, last_prices)
    )
