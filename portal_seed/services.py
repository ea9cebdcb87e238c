"""The demo council's offer to schools: free and traded services over two financial years.

Prices follow the shapes of councils' real price lists (see the traded services reference
material): per school, per pupil by phase, bands, flat plus per pupil, per unit with tiers
and packs, minimum charges and separate academy prices.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from portal.buyback.offered import offered_to
from portal.clock import LONDON, utcnow
from portal.db import db
from portal.models import (
    Audience,
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    OfferStatus,
    PriceOption,
    PricingBasis,
    School,
    SchoolRoll,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
    User,
)
from portal.pricing import PriceRule, uplift_rule
from portal_seed.data_files import read_json

LAST_YEAR, NEXT_YEAR = 2026, 2027

_DATA = read_json("demo_services.json")
CATEGORIES: list[str] = _DATA["categories"]


def _option_from_data(values: dict[str, Any]) -> dict[str, Any]:
    """A price option as the data file writes it, its basis and audience made enumerations."""
    made = {**values, "basis": PricingBasis(values["basis"])}
    if "audience" in values:
        made["audience"] = Audience(values["audience"])
    return made


def _service_from_data(entry: dict[str, Any]) -> dict[str, Any]:
    """A service as the data file writes it, its kind, options and next year's change made
    Python's own: ``next`` is ("uplift", percent), ("repriced", options), ("ceased",) or
    ("new",)."""
    made = {
        **entry,
        "kind": ServiceKind(entry["kind"]),
        "options": [_option_from_data(values) for values in entry["options"]],
    }
    if "next" in entry:
        change, *rest = entry["next"]
        if change == "repriced":
            rest = [[_option_from_data(values) for values in rest[0]]]
        made["next"] = (change, *rest)
    return made


# name, category, kind, summary, included, eligible, phases, vat, options (this year), and how
# next year differs (see _service_from_data).
SERVICES: list[dict[str, Any]] = [_service_from_data(entry) for entry in _DATA["services"]]

# New services whose offer for next year is still being drafted, so that the publisher's
# list of drafts shows one ready to publish and one not (it has no price yet).
DRAFTS: list[dict[str, Any]] = [_service_from_data(entry) for entry in _DATA["drafts"]]


def _make_option(position: int, values: dict[str, Any]) -> PriceOption:
    return PriceOption(
        position=position,
        name=values["name"],
        basis=values["basis"],
        audience=values.get("audience", Audience.ALL),
        amount_pence=values.get("amount_pence", 0),
        per_pupil_pence=values.get("per_pupil_pence", 0),
        unit=values.get("unit"),
        minimum_pence=values.get("minimum_pence"),
        rates=values.get("rates", {}),
    )


def _uplifted(options: list[dict[str, Any]], percent: float) -> list[PriceOption]:

    made = []
    for position, values in enumerate(options):
        original = _make_option(position, values)
        rule = uplift_rule(PriceRule.from_option(original, vat=False), Decimal(str(percent)))
        original.amount_pence = rule.amount_pence
        original.per_pupil_pence = rule.per_pupil_pence
        original.minimum_pence = rule.minimum_pence
        original.rates = rule.to_rates()
        made.append(original)
    return made


def seed_services(schools: dict[int, School]) -> int:
    """The offer for last year (published) and next year (published, with changes, and two
    new services still in draft)."""
    if db.session.scalar(select(func.count(Service.id))):
        return int(db.session.scalar(select(func.count(Service.id))) or 0)
    categories = {name: ServiceCategory(name=name) for name in CATEGORIES}
    db.session.add_all(categories.values())
    now = utcnow()
    for number, entry in enumerate(SERVICES):
        service = _service(entry, categories, number)
        change = entry.get("next", ("uplift", 0))
        vat = entry.get("vat", False)
        if change[0] != "new":
            service.offers.append(
                ServiceOffer(
                    year=LAST_YEAR,
                    status=OfferStatus.PUBLISHED,
                    decision=TradingDecision.CONTINUE,
                    vat_applies=vat,
                    published_at=now,
                    options=[_make_option(i, o) for i, o in enumerate(entry["options"])],
                )
            )
        if change[0] == "ceased":
            service.offers.append(
                ServiceOffer(
                    year=NEXT_YEAR,
                    status=OfferStatus.DRAFT,
                    decision=TradingDecision.CEASED,
                    vat_applies=vat,
                )
            )
            continue
        if change[0] == "repriced":
            options = [_make_option(i, o) for i, o in enumerate(change[1])]
            decision = TradingDecision.REPRICED
        elif change[0] == "new":
            options = [_make_option(i, o) for i, o in enumerate(entry["options"])]
            decision = TradingDecision.NEW
        else:
            options = _uplifted(entry["options"], change[1])
            decision = TradingDecision.REPRICED if change[1] else TradingDecision.CONTINUE
        service.offers.append(
            ServiceOffer(
                year=NEXT_YEAR,
                status=OfferStatus.PUBLISHED,
                decision=decision,
                vat_applies=vat,
                published_at=now,
                options=options,
            )
        )
    for number, entry in enumerate(DRAFTS, start=len(SERVICES)):
        _service(entry, categories, number).offers.append(
            ServiceOffer(
                year=NEXT_YEAR,
                status=OfferStatus.DRAFT,
                decision=TradingDecision.NEW,
                options=[_make_option(i, o) for i, o in enumerate(entry["options"])],
            )
        )
    # Pupils on roll as the census recorded them: last year a little different from now.
    for school in schools.values():
        for year, pupils in (
            (LAST_YEAR, max(0, school.pupils_on_roll - school.urn % 17 + 8)),
            (NEXT_YEAR, school.pupils_on_roll),
        ):
            db.session.add(SchoolRoll(school_id=school.id, year=year, pupils_on_roll=pupils))
    db.session.commit()
    return len(SERVICES) + len(DRAFTS)


def _service(entry: dict[str, Any], categories: dict[str, ServiceCategory], number: int) -> Service:
    service = Service(
        name=entry["name"],
        category=categories[entry["category"]],
        kind=entry["kind"],
        summary=entry["summary"],
        included=entry["included"],
        statutory_duties=entry.get("duties"),
        standards="We answer enquiries within two working days and visits are confirmed in writing.",
        provider_team=f"{entry['category']} team",
        contact_email=entry["category"].lower().replace(" and ", ".").replace(" ", ".")
        + "@council.example",
        contact_phone="+441214960" + f"{700 + number:03d}",
        eligible=entry.get("eligible", []),
        phases=entry.get("phases", []),
    )
    db.session.add(service)
    return service


def seed_buyback(schools: dict[int, School]) -> int:
    """Last year's window (closed, with returns) and this year's (open for maintained
    schools and for academies), and what each traded service costs to deliver."""

    if db.session.scalar(select(func.count(BuybackWindow.id))):
        return int(db.session.scalar(select(func.count(BuybackWindow.id))) or 0)
    london = LONDON

    def at(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=london)

    last = [
        BuybackWindow(
            year=LAST_YEAR,
            cohort=Cohort.MAINTAINED,
            opens_at=at(2026, 1, 6, 9),
            closes_at=at(2026, 3, 2, 17),
        ),
        BuybackWindow(
            year=LAST_YEAR,
            cohort=Cohort.ACADEMIES,
            opens_at=at(2026, 5, 1, 9),
            closes_at=at(2026, 6, 30, 17),
        ),
    ]
    this = [
        BuybackWindow(
            year=NEXT_YEAR,
            cohort=Cohort.MAINTAINED,
            opens_at=at(2026, 11, 2, 9),
            closes_at=at(2027, 3, 2, 17),
        ),
        BuybackWindow(
            year=NEXT_YEAR,
            cohort=Cohort.ACADEMIES,
            opens_at=at(2026, 11, 16, 9),
            closes_at=at(2027, 3, 31, 17),
        ),
    ]
    db.session.add_all(last + this)
    # What each traded service costs to deliver: most pay their way, some do not.
    for offer in db.session.scalars(
        select(ServiceOffer).join(Service).where(Service.kind == ServiceKind.TRADED)
    ):
        offer.delivery_cost_pence = 1_000_000 + (offer.service_id % 7) * 450_000
    db.session.flush()
    head = db.session.scalars(select(User).where(User.email == "head@oakfield.example")).one()
    # Last year, most maintained schools returned; each bought what suited its size.
    for index, school in enumerate(sorted(schools.values(), key=lambda s: s.urn)):
        window = last[1] if school.is_academy else last[0]
        if index % 5 == 4:
            continue  # some schools never returned
        offered = offered_to(school, LAST_YEAR)
        choice = BuybackChoice(
            school=school,
            window=window,
            status=ChoiceStatus.SUBMITTED,
            submitted_at=window.closes_at,
        )
        frozen = []
        for position, item in enumerate(offered):
            buying = (position + index) % 3 != 0
            option = item.options[0]
            quote = item.quotes.get(option.id)
            buying = buying and quote is not None
            choice.lines.append(
                BuybackLine(
                    service_id=item.service.id,
                    buying=buying,
                    option_id=option.id if buying else None,
                    quantity=1,
                    net_pence=quote.net_pence if buying else None,
                    vat_pence=quote.vat_pence if buying else None,
                )
            )
            frozen.append(
                {
                    "service_id": item.service.id,
                    "service": item.service.name,
                    "buying": buying,
                    "option_id": option.id if buying else None,
                    "option": option.name if buying else None,
                    "unit": option.unit,
                    "quantity": 1,
                    "net_pence": quote.net_pence if buying else 0,
                    "vat_pence": quote.vat_pence if buying else 0,
                }
            )
        choice.submissions.append(
            BuybackSubmission(
                number=1,
                submission_key=f"demo-{LAST_YEAR}-{school.urn}",
                submitted_at=window.closes_at,
                submitted_by=head,
                lines=frozen,
                net_pence=sum(line["net_pence"] for line in frozen),
                vat_pence=sum(line["vat_pence"] for line in frozen),
            )
        )
        db.session.add(choice)
    db.session.commit()
    return len(last + this)
