"""Services and their offers over three years, with prices that the portal's rules accept."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal.clock import LONDON
from portal.models import (
    Audience,
    OfferStatus,
    Phase,
    PriceOption,
    PricingBasis,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
)
from portal.pricing import Band, PriceRule, Tier, uplift_rule, validate
from portal_seed.data_files import read_json
from portal_seed.scale.bulk import Run
from portal_seed.scale.plan import YEARS


@dataclass(frozen=True)
class ServiceIdea:
    """A service a council offers schools; ``basis`` is how a traded one is priced: 'school',
    'pupil', 'banded', 'flat' (plus per pupil) or the unit it is sold by."""

    category: str
    name: str
    kind: ServiceKind
    summary: str
    basis: str = ""
    eligible: tuple[str, ...] = ()
    vat: bool = False


SERVICE_IDEAS = [
    ServiceIdea(
        category,
        idea["name"],
        ServiceKind(idea["kind"]),
        idea["summary"],
        idea.get("basis", ""),
        tuple(idea.get("eligible", ())),
        idea.get("vat", False),
    )
    for category, ideas in read_json("scale_service_ideas.json").items()
    for idea in ideas
]

_TABLES = read_json("scale_tables.json")
# A service offered again in a narrower form: the name's ending, eligibility and phases.
VARIANTS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (ending, tuple(eligible), tuple(phases)) for ending, eligible, phases in _TABLES["variants"]
]
# Pence per unit: what councils' price lists charge, lowest and highest.
UNIT_PRICES = {unit: (low, high) for unit, (low, high) in _TABLES["unit_prices"].items()}
BAND_LIMITS: list[list[int]] = _TABLES["band_limits"]


def plan_services(rng: random.Random, count: int) -> list[tuple[ServiceIdea, str, list[str]]]:
    """``count`` services: (idea, name, phases), two in five free and the rest traded; an idea
    comes round again in a narrower form (for primary schools, for academies...)."""
    free = [idea for idea in SERVICE_IDEAS if idea.kind is not ServiceKind.TRADED]
    traded = [idea for idea in SERVICE_IDEAS if idea.kind is ServiceKind.TRADED]
    rng.shuffle(free)
    rng.shuffle(traded)
    turns = {"free": 0, "traded": 0}
    planned = []
    for index in range(count):
        pool, key = (free, "free") if index % 5 in (1, 3) else (traded, "traded")
        while True:
            turn = turns[key]
            turns[key] += 1
            idea = pool[turn % len(pool)]
            round_ = turn // len(pool)
            ending, eligible, phases = (
                VARIANTS[round_] if round_ < len(VARIANTS) else (f" (package {round_})", (), ())
            )
            both = set(idea.eligible) & set(eligible)
            if idea.eligible and eligible and not both:
                continue  # "for academies" of a service only maintained schools may buy
            break
        narrowed = both if idea.eligible and eligible else {*idea.eligible, *eligible}
        planned.append(
            (replace(idea, eligible=tuple(sorted(narrowed))), idea.name + ending, list(phases))
        )
    return planned


def _pounds(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high) * 100


def _hundreds(pence: float) -> int:
    """To the whole pound, as price lists are; always an int (pence are never float)."""
    return int(round(pence, -2))


def price_rules(rng: random.Random, idea: ServiceIdea) -> list[tuple[str, PriceRule]]:
    """A traded service's price options in its first year, as (name, rule)."""
    basis = idea.basis
    rules: list[tuple[str, PriceRule]]
    if basis == "school":
        amount = _pounds(rng, 250, 6_000)
        rules = [("Annual service", PriceRule(PricingBasis.PER_SCHOOL, amount_pence=amount))]
        if rng.random() < 0.3:
            enhanced = PriceRule(PricingBasis.PER_SCHOOL, amount_pence=_hundreds(amount * 2.2))
            rules.append(("Enhanced service", enhanced))
    elif basis == "pupil":
        rate = rng.randint(150, 1_200)
        by_phase = {Phase.SECONDARY.value: round(rate * 1.25)} if rng.random() < 0.4 else {}
        minimum = _pounds(rng, 300, 900) if rng.random() < 0.25 else None
        rule = PriceRule(
            PricingBasis.PER_PUPIL, per_pupil_pence=rate, by_phase=by_phase, minimum_pence=minimum
        )
        rules = [("Annual service", rule)]
    elif basis == "banded":
        limits = rng.choice(BAND_LIMITS)
        price, bands, start = _pounds(rng, 300, 2_500), [], 0
        for limit in [*limits, None]:
            bands.append(Band(start, limit, price))
            start, price = (limit or 0) + 1, _hundreds(price * rng.uniform(1.3, 1.6))
        rules = [("Annual subscription", PriceRule(PricingBasis.BANDED, bands=tuple(bands)))]
    elif basis == "flat":
        rule = PriceRule(
            PricingBasis.FLAT_PLUS_PER_PUPIL,
            amount_pence=_pounds(rng, 300, 1_500),
            per_pupil_pence=rng.randint(100, 600),
        )
        rules = [("Annual service", rule)]
    else:
        low, high = UNIT_PRICES[basis]
        amount = _hundreds(rng.randint(low, high))
        tiers: tuple[Tier, ...] = ()
        pack = None
        if rng.random() < 0.35:
            tiers = (Tier(rng.choice([5, 10]), round(amount * 0.9)),)
        elif rng.random() < 0.2:
            pack = rng.choice([5, 10, 20])
            amount = _hundreds(amount * pack * 0.95)
        minimum = _pounds(rng, 100, 400) if rng.random() < 0.15 else None
        rules = [
            (
                f"{basis.capitalize()}s" if pack is None else f"Packs of {pack} {basis}s",
                PriceRule(
                    PricingBasis.PER_UNIT,
                    amount_pence=amount,
                    unit=basis,
                    tiers=tiers,
                    pack_size=pack,
                    minimum_pence=minimum,
                ),
            )
        ]
        if basis == "day" and pack is None and rng.random() < 0.4:
            half = PriceRule(
                PricingBasis.PER_UNIT, amount_pence=round(amount * 0.55), unit="half day"
            )
            rules.append(("Half days", half))
    if not idea.eligible and len(rules) == 1 and rng.random() < 0.25:
        # A separate academy price, where VAT or overheads differ.
        name, rule = rules[0]
        academies = uplift_rule(rule, Decimal(rng.choice([5, 10, 15])))
        rules = [
            ("Maintained schools", _with_audience(rule, Audience.MAINTAINED)),
            ("Academies", _with_audience(academies, Audience.ACADEMIES)),
        ]
    for name, rule in rules:
        problems = validate(rule)
        if problems:
            raise AssertionError(
                f"seed-scale made a bad price for {idea.name} ({name}): {problems}"
            )
    return rules


def _with_audience(rule: PriceRule, audience: Audience) -> PriceRule:
    return replace(rule, audience=audience)


def add_services(run: Run) -> None:
    rng = run.rng
    categories = {c.name: c.id for c in run.session.scalars(select(ServiceCategory))}
    for name in sorted({idea.category for idea in SERVICE_IDEAS} - categories.keys()):
        category = ServiceCategory(
            name=name, public_id=str(uuid.UUID(int=rng.getrandbits(128), version=4))
        )
        run.session.add(category)
        run.session.flush()
        categories[name] = category.id
    next_service, next_offer, next_option = (
        run.next_id(m) for m in (Service, ServiceOffer, PriceOption)
    )
    services: list[dict[str, Any]] = []
    offers: list[dict[str, Any]] = []
    options: list[dict[str, Any]] = []

    def published(year: int) -> datetime:
        # Councils publish the next year's offer in the autumn.
        return datetime(year - 1, 10, rng.randint(1, 31), 9, tzinfo=LONDON).astimezone(UTC)

    for idea, name, phases in plan_services(rng, run.plan.services):
        service_id = next_service + len(services)
        slug = idea.category.lower().replace(" and ", ".").replace(" ", ".")
        services.append(
            {
                "id": service_id,
                "public_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "name": name,
                "category_id": categories[idea.category],
                "kind": idea.kind,
                "summary": idea.summary,
                "included": f"{idea.summary} Delivered by the council's {idea.category.lower()} "
                "team, with a named contact for your school.",
                "standards": "We answer enquiries within two working days.",
                "statutory_duties": "A duty of the council under education law."
                if idea.kind is ServiceKind.STATUTORY
                else None,
                "provider_team": f"{idea.category} team",
                "contact_email": f"{slug}@council.example",
                "contact_phone": f"+441214960{rng.randint(700, 999)}",
                "eligible": list(idea.eligible),
                "phases": phases,
                "created_at": published(YEARS[0]),
                "updated_at": published(YEARS[-1]),
            }
        )
        rules = price_rules(rng, idea) if idea.kind is ServiceKind.TRADED else []
        for year, status, decision, year_rules in _offer_years(rng, idea, rules):
            offer_id = next_offer + len(offers)
            offers.append(
                {
                    "id": offer_id,
                    "service_id": service_id,
                    "year": year,
                    "status": status,
                    "decision": decision,
                    "vat_applies": idea.vat,
                    "delivery_cost_pence": None,
                    "published_at": published(year) if status is not OfferStatus.DRAFT else None,
                    "updated_at": published(year),
                }
            )
            if idea.kind is ServiceKind.TRADED:
                run.generated_offers.add(offer_id)
            for position, (option_name, rule) in enumerate(year_rules):
                options.append(
                    {
                        "id": next_option + len(options),
                        "offer_id": offer_id,
                        "position": position,
                        "name": option_name,
                        "basis": rule.basis,
                        "audience": rule.audience,
                        "amount_pence": rule.amount_pence,
                        "per_pupil_pence": rule.per_pupil_pence,
                        "unit": rule.unit,
                        "minimum_pence": rule.minimum_pence,
                        "rates": rule.to_rates(),
                    }
                )
    run.done(
        "services",
        services=run.insert(Service, services),
        service_offers=run.insert(ServiceOffer, offers),
        price_options=run.insert(PriceOption, options),
    )


Rules = list[tuple[str, PriceRule]]


def _offer_years(
    rng: random.Random, idea: ServiceIdea, rules: Rules
) -> list[tuple[int, OfferStatus, TradingDecision, Rules]]:
    """A service's offers over the three years: most continue with a yearly uplift; some are
    new, some cease, some are withdrawn, and some next year's are still being drafted."""
    first, middle, last = YEARS
    lifecycle = rng.random() if idea.kind is ServiceKind.TRADED else 1.0
    years: list[tuple[int, OfferStatus, TradingDecision, Rules]] = []
    P, DR, W = OfferStatus.PUBLISHED, OfferStatus.DRAFT, OfferStatus.WITHDRAWN
    start = middle if 0.06 <= lifecycle < 0.12 else last if 0.12 <= lifecycle < 0.17 else first
    current = rules
    for year in YEARS:
        if year < start:
            continue
        if year > start:
            percent = Decimal(rng.choice(["0", "2", "2.5", "3", "3.5", "4", "5"]))
            current = [(name, uplift_rule(rule, percent)) for name, rule in current]
            decision = TradingDecision.REPRICED if percent else TradingDecision.CONTINUE
        else:
            decision = TradingDecision.NEW if year > first else TradingDecision.CONTINUE
        if year == last and lifecycle < 0.06:
            years.append((year, DR, TradingDecision.CEASED, []))
        elif year == last and 0.17 <= lifecycle < 0.20:
            years.append((year, DR, decision, current))  # the publisher is still at it
        elif year == middle and 0.20 <= lifecycle < 0.22:
            years.append((year, W, decision, current))
            break
        else:
            years.append((year, P, decision, current))
    return years
