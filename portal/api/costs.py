"""An offer's prices as Open Referral cost options.

A cost option carries one amount, and a price option can hold several (a price per band of
pupils, per phase, per volume tier), so each price option becomes one cost option per
amount a school could be charged, each with the whole condition in plain English.
Amounts are net, in pounds, as ORUK's examples give them; VAT is said in the description.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from portal.api.publisher import Publisher
from portal.models import (
    Audience,
    OfferStatus,
    PricingBasis,
    Service,
    ServiceKind,
    ServiceOffer,
)
from portal.pricing import VAT_PERCENT, PriceRule, format_pence, plural, unit_priced

CURRENCY = "GBP"

FREE = {
    ServiceKind.STATUTORY: "Free: the council must provide this service to every school",
    ServiceKind.DISCRETIONARY: "Free: the council provides this service to schools at no charge",
}

FOR_AUDIENCE = {
    Audience.ALL: None,
    Audience.MAINTAINED: "for maintained schools",
    Audience.ACADEMIES: "for academies and free schools",
}


# (key, pence, words) for one amount, before the option's conditions are added.
Priced = tuple[tuple[object, ...], int, str]


@dataclass(frozen=True)
class Amount:
    """One amount of a price option: ``key`` tells it from the option's other amounts."""

    key: tuple[object, ...]
    pence: int
    description: str


def cost_options(
    service: Service, offer: ServiceOffer, publisher: Publisher
) -> list[dict[str, Any]]:
    """The offer's cost options; a free service with no prices says it is free."""
    valid = {
        "valid_from": f"{offer.year}-04-01",
        "valid_to": f"{offer.year + 1}-03-31",
        "service_id": service.public_id,
    }
    if not offer.options and service.kind in FREE:
        return [
            {
                "id": publisher.derived_id("offer", offer.id, "free"),
                "option": "Free to schools",
                "currency": CURRENCY,
                "amount": 0,
                "amount_description": FREE[service.kind],
                **valid,
            }
        ]
    found: list[dict[str, Any]] = []
    for option in offer.options:
        try:
            rule = PriceRule.from_option(option, vat=offer.vat_applies)
        except ValueError:
            # Publishing checks every rule, so this is a stored price gone bad: say what the
            # option is called rather than guess at its amount, or fail the whole feed.
            found.append(
                {"id": publisher.derived_id("price-option", option.id), "option": option.name}
                | valid
            )
            continue
        for amount in amounts(rule):
            found.append(
                {
                    "id": publisher.derived_id("price-option", option.id, *amount.key),
                    "option": option.name,
                    "currency": CURRENCY,
                    "amount": pounds(amount.pence),
                    "amount_description": amount.description,
                    **valid,
                }
            )
    return found


def pounds(pence: int) -> int | float:
    # Exact in Decimal; a whole number of pounds stays an integer (35, not 35.0), and any
    # other two-place amount survives the float that JSON needs unchanged when printed.
    value = Decimal(pence) / 100
    return int(value) if value == value.to_integral_value() else float(value)


def amounts(rule: PriceRule) -> list[Amount]:
    """Every amount the rule can charge, described as a price list would put it."""
    conditions = [
        FOR_AUDIENCE[rule.audience],
        f"minimum charge {format_pence(rule.minimum_pence)}" if rule.minimum_pence else None,
        f"plus VAT at {VAT_PERCENT}%" if rule.vat else None,
    ]
    return [
        Amount(key, pence, ", ".join(filter(None, [words, *conditions])))
        for key, pence, words in _basis_amounts(rule)
    ]


def _basis_amounts(rule: PriceRule) -> list[Priced]:
    basis = rule.basis
    if basis is PricingBasis.PER_SCHOOL:
        return [((), rule.amount_pence, f"{format_pence(rule.amount_pence)} per school per year")]
    if basis in (PricingBasis.PER_PUPIL, PricingBasis.FLAT_PLUS_PER_PUPIL):
        return _pupil_amounts(rule)
    if basis is PricingBasis.BANDED:
        return [
            (
                ("band", band.from_pupils),
                band.pence,
                f"{format_pence(band.pence)} per school per year for {band.label} pupils on roll",
            )
            for band in rule.bands
        ]
    return _unit_amounts(rule)


def _pupil_amounts(rule: PriceRule) -> list[Priced]:
    rates: list[tuple[tuple[object, ...], int, str | None]] = []
    # Rates by phase with no general rate price only those phases, as the engine does.
    if rule.per_pupil_pence or not rule.by_phase:
        others = "for schools in other phases" if rule.by_phase else None
        rates.append(((), rule.per_pupil_pence, others))
    rates += [
        (("phase", phase), rate, f"for schools in the {phase} phase")
        for phase, rate in rule.by_phase.items()
    ]
    found: list[Priced] = []
    for key, rate, who in rates:
        per_pupil = f"{format_pence(rate)} per pupil on roll"
        if rule.basis is PricingBasis.FLAT_PLUS_PER_PUPIL:
            # The fixed fee is the amount every school pays; the rest depends on its roll.
            fee = format_pence(rule.amount_pence)
            pence, words = rule.amount_pence, f"{fee} per school per year plus {per_pupil}"
        else:
            pence, words = rate, f"{per_pupil} per year"
        found.append((key, pence, " ".join(filter(None, [words, who]))))
    return found


def _unit_amounts(rule: PriceRule) -> list[Priced]:
    per = (rule.unit or "unit") if rule.pack_size is None else "pack"
    price = f"per {unit_priced(rule)}"
    found: list[Priced] = []
    # The plain amount prices orders smaller than the first tier; a tier from 1 leaves none.
    if not rule.tiers or rule.tiers[0].from_quantity > 1:
        found.append(((), rule.amount_pence, f"{format_pence(rule.amount_pence)} {price}"))
    for tier in rule.tiers:
        words = f"{format_pence(tier.pence)} {price}"
        if tier.from_quantity > 1:
            words += f" when buying {plural(tier.from_quantity, per)} or more"
        found.append((("tier", tier.from_quantity), tier.pence, words))
    return found


def latest_published(offers: list[ServiceOffer]) -> ServiceOffer | None:
    """The published offer for the latest year: the prices a school would be quoted next."""
    published = [offer for offer in offers if offer.status is OfferStatus.PUBLISHED]
    return max(published, key=lambda offer: offer.year, default=None)
