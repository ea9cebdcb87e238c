"""What an offer's price options say, read once for every request and person while the offer
stays published.

A published offer cannot change: publishing refuses to change its price options, or whether
VAT applies, until it is withdrawn, and checks that with the offer's row locked, so that a
publication cannot slip in between the check and the change (portal/services/publishing.py).
Publishing it again gives it a new publication time. So a published offer's options are kept
here keyed on the offer's id and its publication time, and shared between requests and people:
changed prices come with a new publication, which is a new key, seen at once. (Prices changed
in the database by hand, not through the portal, are seen once the offer is published again.)
Nothing kept here is about a school or a person: what a school pays is worked out per request
from these options, with the school's facts (phase, type, pupils on roll) as they are then;
the options' price rules and quotes are remembered keyed on every value they are made from
(rule_of, pricing.quoted).

What the page says about the service (its name, category, who may use it) can change while
its offer is published: pages read it afresh. So does a draft or withdrawn offer's options,
which change without a new publication time: they are read whenever they are asked for, and
never kept.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Text, cast, select

from portal.clock import financial_year_label
from portal.db import db
from portal.models import (
    Audience,
    OfferStatus,
    PriceOption,
    PricingBasis,
    ServiceOffer,
)
from portal.pricing import PriceRule, applies_to

# Published offers kept per process: a council's offer for a few years is a few hundred.
KEPT_OFFERS = 4096
_EXTENSION = "portal.offers"


@dataclass(frozen=True)
class OptionTerms:
    """A price option as read from the database: what pricing and the pages need of it."""

    id: int
    offer_id: int
    name: str
    basis: PricingBasis
    audience: Audience
    amount_pence: int
    per_pupil_pence: int
    unit: str | None
    minimum_pence: int | None
    rates: dict[str, Any] = field(hash=False, compare=False)
    # The rates as text, so that two options are equal only if their rates are too.
    rates_key: str = ""

    @classmethod
    def of(cls, row: Any) -> OptionTerms:
        """From a row whose last column is the rates as the database's JSON text."""
        *terms, rates = row
        return cls(*terms, rates=_decoded(rates), rates_key=rates or "")


@dataclass(frozen=True)
class OfferPrices:
    """An offer's price options, in their order, as read together with its status."""

    id: int
    year: int
    status: OfferStatus
    published_at: datetime | None
    vat_applies: bool
    options: tuple[OptionTerms, ...]

    @property
    def year_label(self) -> str:
        return financial_year_label(self.year)

    def applying(self, *, is_academy: bool) -> list[OptionTerms]:
        """The options an academy (or a maintained school) may buy at."""
        return list(self._for_academies if is_academy else self._for_maintained)

    # Worked out once per offer read (a published one: once per publication).
    @cached_property
    def _for_academies(self) -> tuple[OptionTerms, ...]:
        return tuple(o for o in self.options if applies_to(o.audience, is_academy=True))

    @cached_property
    def _for_maintained(self) -> tuple[OptionTerms, ...]:
        return tuple(o for o in self.options if applies_to(o.audience, is_academy=False))


# An option's columns, in OptionTerms's order, its rates last.
OPTION_COLUMNS = (
    PriceOption.id,
    PriceOption.offer_id,
    PriceOption.name,
    PriceOption.basis,
    PriceOption.audience,
    PriceOption.amount_pence,
    PriceOption.per_pupil_pence,
    PriceOption.unit,
    PriceOption.minimum_pence,
    # As text, decoded once per distinct text (_decoded): the same few tables of rates recur
    # across hundreds of options.
    cast(PriceOption.rates, Text).label("rates"),
)


class _CachedOffers:
    """The published offers' prices one app has read, by offer id, each as of one
    publication: found only for that publication time.

    Keyed on the id alone, its publication time compared when found: hashing a datetime
    with a time zone works out its UTC offset (a new datetime each time), and a task list
    looks up a hundred and fifty offers a request. A new publication of an offer replaces
    the one kept."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.offers: dict[int, OfferPrices] = {}

    def get(self, offer_id: int, published_at: datetime) -> OfferPrices | None:
        found = self.offers.get(offer_id)
        return found if found is not None and found.published_at == published_at else None

    def keep(self, offer: OfferPrices) -> None:
        if offer.status is not OfferStatus.PUBLISHED or offer.published_at is None:
            return
        with self.lock:
            if offer.id not in self.offers and len(self.offers) >= KEPT_OFFERS:
                # More offers than a council has in a few years: start again.
                self.offers.clear()
            self.offers[offer.id] = offer


def forget(app: Flask) -> None:
    """Forget every offer kept: for tests, which roll back what they published (so that an
    id and a time may come back with other prices) and count the queries a page runs when
    nothing has been read yet."""
    app.extensions[_EXTENSION] = _CachedOffers()


def _kept() -> _CachedOffers:
    kept: _CachedOffers | None = current_app.extensions.get(_EXTENSION)
    if kept is None:
        kept = current_app.extensions.setdefault(_EXTENSION, _CachedOffers())
    return kept


# An offer as a page has just read it: (id, status, publication time).
OfferRef = tuple[int, OfferStatus, datetime | None]


def offer_prices(offers: Iterable[OfferRef]) -> dict[int, OfferPrices]:
    """Each offer's prices by id: a published offer's as kept, the rest read in one query.

    An offer read here is kept only as this same query found it: published, at the
    publication time read with its options, so what is kept is always what that publication
    says, even if the offer was withdrawn and changed since the caller read it.
    """
    kept = _kept()
    found: dict[int, OfferPrices] = {}
    missing = set()
    for offer_id, status, published_at in offers:
        hit = (
            kept.get(offer_id, published_at)
            if status is OfferStatus.PUBLISHED and published_at is not None
            else None
        )
        if hit is None:
            missing.add(offer_id)
        else:
            found[offer_id] = hit
    if missing:
        for offer in _read(missing):
            kept.keep(offer)
            found[offer.id] = offer
    return found


def _read(offer_ids: set[int]) -> list[OfferPrices]:
    rows = db.session.execute(
        select(
            ServiceOffer.id.label("the_offer"),
            ServiceOffer.year,
            ServiceOffer.status,
            ServiceOffer.published_at,
            ServiceOffer.vat_applies,
            *OPTION_COLUMNS,
        )
        .select_from(ServiceOffer)
        # Every offer has its row, options or none (a free service has none).
        .outerjoin(PriceOption, PriceOption.offer_id == ServiceOffer.id)
        .where(ServiceOffer.id.in_(offer_ids))
        .order_by(ServiceOffer.id, PriceOption.position, PriceOption.id)
    )
    offers: dict[int, Any] = {}
    options: dict[int, list[OptionTerms]] = {}
    for row in rows:
        offers.setdefault(row.the_offer, row)
        terms = options.setdefault(row.the_offer, [])
        if row.id is not None:
            terms.append(OptionTerms.of(row[5:]))
    return [
        OfferPrices(
            offer_id,
            row.year,
            row.status,
            row.published_at,
            row.vat_applies,
            tuple(options[offer_id]),
        )
        for offer_id, row in offers.items()
    ]


@lru_cache(maxsize=4096)
def _decoded(text: str | None) -> dict[str, Any]:
    # Shared between the options with the same text: read, never changed. Keyed on the
    # stored text itself, so a changed option is a new key: never stale.
    return (json.loads(text) if text else None) or {}


@lru_cache(maxsize=4096)
def rule_of(option: OptionTerms, vat: bool) -> PriceRule:
    """The option's price rule. Keyed on every field of the option (its rates as text), so a
    changed option is a new key: worked out once per version of an option."""
    return PriceRule.from_option(option, vat=vat)
