"""Buy-back: each school's choices, lines and submitted answers for the offers it was made."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from portal.clock import LONDON
from portal.models import (
    BuybackChoice,
    BuybackLine,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    BuybackWindowFigures,
    ChoiceStatus,
    Cohort,
    EstablishmentType,
    OfferStatus,
    Phase,
    PriceOption,
    PricingBasis,
    School,
    SchoolRoll,
    Service,
    ServiceKind,
    ServiceOffer,
    submission_answers,
)
from portal.pricing import NoPrice, PriceRule, applies_to, quote
from portal_seed.scale.bulk import Run
from portal_seed.scale.plan import BATCH, MAX_PENCE, YEARS, NewSchool


@dataclass
class _Offered:
    """A published traded offer as buy-back sees it, with its options' rules."""

    offer_id: int
    service_id: int
    service_name: str
    options: list[tuple[PriceOption, PriceRule]]
    take_up: float


def add_buyback(run: Run) -> None:
    rng = run.rng
    session = run.session
    _first_year_windows(run)
    windows = session.scalars(
        select(BuybackWindow).order_by(BuybackWindow.year, BuybackWindow.opens_at.desc())
    ).all()
    # The history written here is what the closed windows held when they closed: any figures
    # kept for them before it was written are worked out again when next asked for.
    session.execute(delete(BuybackWindowFigures))
    offers = session.scalars(
        select(ServiceOffer)
        .join(Service)
        .where(
            ServiceOffer.year.in_(YEARS),
            ServiceOffer.status == OfferStatus.PUBLISHED,
            Service.kind == ServiceKind.TRADED,
        )
        .order_by(Service.name, ServiceOffer.id)
    ).all()
    take_up = {offer.service_id: rng.uniform(0.15, 0.85) for offer in offers}
    by_year: dict[int, list[tuple[ServiceOffer, _Offered]]] = defaultdict(list)
    for offer in offers:
        rules = [(o, PriceRule.from_option(o, vat=offer.vat_applies)) for o in offer.options]
        by_year[offer.year].append(
            (
                offer,
                _Offered(
                    offer.id, offer.service_id, offer.service.name, rules, take_up[offer.service_id]
                ),
            )
        )
    available: dict[tuple[EstablishmentType, Phase, int], list[_Offered]] = {}

    def offered(school: NewSchool, year: int) -> list[_Offered]:
        # What portal.buyback.offered.offered_to lists, worked out once per type and phase.
        key = (school.kind, school.phase, year)
        if key not in available:
            model = School(establishment_type=school.kind, phase=school.phase)
            available[key] = [
                _Offered(
                    item.offer_id,
                    item.service_id,
                    item.service_name,
                    [
                        (o, r)
                        for o, r in item.options
                        if applies_to(r, is_academy=school.is_academy)
                    ],
                    item.take_up,
                )
                for offer, item in by_year[year]
                if offer.service.is_available_to(model)
            ]
            available[key] = [item for item in available[key] if item.options]
        return available[key]

    rolls = {
        (school_id, year): pupils
        for school_id, year, pupils in session.execute(
            select(SchoolRoll.school_id, SchoolRoll.year, SchoolRoll.pupils_on_roll).where(
                SchoolRoll.school_id >= run.schools[0].id
            )
        )
    }
    quotes: dict[tuple[Any, ...], Any] = {}

    def price(
        option: PriceOption, rule: PriceRule, pupils: int, phase: Phase, quantity: int
    ) -> Any:
        # Most prices do not depend on the school: work each out once.
        key: tuple[Any, ...] = (option.id, quantity)
        if rule.basis in (PricingBasis.PER_PUPIL, PricingBasis.FLAT_PLUS_PER_PUPIL):
            key += (pupils, phase)
        elif rule.basis is PricingBasis.BANDED:
            key += (pupils,)
        if key not in quotes:
            try:
                quotes[key] = quote(rule, pupils=pupils, phase=phase.value, quantity=quantity)
            except (NoPrice, ValueError):
                quotes[key] = None
        return quotes[key]

    now = run.today
    next_choice = run.next_id(BuybackChoice)
    next_submission = run.next_id(BuybackSubmission)
    income: Counter[int] = Counter()
    choices: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    submissions: list[dict[str, Any]] = []
    # Each submission's answers as rows, as the portal writes them with a submission.
    answers: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()

    def flush() -> None:
        totals["buyback_choices"] += run.insert(BuybackChoice, choices)
        totals["buyback_lines"] += run.insert(BuybackLine, lines)
        totals["buyback_submissions"] += run.insert(BuybackSubmission, submissions)
        run.insert(BuybackSubmissionAnswer, answers)
        choices.clear()
        lines.clear()
        submissions.clear()
        answers.clear()

    for school in run.schools:
        people = run.school_people[school.id]
        leads = (
            run.trust_leads.get(run.trusts[school.trust].id, []) if school.trust is not None else []
        )
        bought_before: dict[int, bool] = {}
        model = School(establishment_type=school.kind, phase=school.phase)
        for year in YEARS:
            window = next((w for w in windows if w.year == year and w.cohort.includes(model)), None)
            if window is None or window.state(now) == "upcoming":
                continue  # nobody can choose before a window opens
            is_open = window.state(now) == "open"
            submitted = rng.random() < (0.35 if is_open else 0.9)
            items = offered(school, year)
            if not submitted:
                # A draft: some of the services answered so far.
                share = rng.uniform(0.3, 1.0)
                items = [item for item in items if rng.random() < share]
            pupils = rolls[(school.id, year)]
            choice_id = next_choice + len(choices) + totals["buyback_choices"]
            end = min(window.closes_at, now)
            # Most schools answer in the last weeks before the deadline.
            moment = window.opens_at + (end - window.opens_at) * rng.betavariate(3, 1.2)
            frozen = []
            for item in sorted(items, key=lambda i: i.service_name):
                chance = item.take_up
                if item.service_id in bought_before:
                    chance = 0.9 if bought_before[item.service_id] else chance * 0.4
                buying = rng.random() < chance
                option, rule, priced, quantity = None, None, None, 1
                if buying:
                    option, rule = rng.choice(item.options)
                    if rule.basis is PricingBasis.PER_UNIT:
                        quantity = _quantity(rng, rule, pupils)
                    priced = price(option, rule, pupils, school.phase, quantity)
                    buying = priced is not None
                bought_before[item.service_id] = buying
                line = {
                    "choice_id": choice_id,
                    "service_id": item.service_id,
                    "buying": buying,
                    "option_id": option.id if buying and option else None,
                    "quantity": quantity,
                    "net_pence": priced.net_pence if buying else None,
                    "vat_pence": priced.vat_pence if buying else None,
                }
                lines.append(line)
                frozen.append(
                    {
                        "service_id": item.service_id,
                        "service": item.service_name,
                        "buying": buying,
                        "option_id": line["option_id"],
                        "option": option.name if buying and option else None,
                        "unit": option.unit if buying and option else None,
                        "quantity": quantity,
                        "net_pence": line["net_pence"] or 0,
                        "vat_pence": line["vat_pence"] or 0,
                    }
                )
                if submitted and buying:
                    income[item.offer_id] += priced.net_pence
            submitter = rng.choice(leads) if leads and rng.random() < 0.3 else people[0]
            editor = people[0] if submitted or rng.random() < 0.6 else rng.choice(people)
            purchase_order = (
                f"PO{rng.randint(100_000, 999_999)}" if submitted and rng.random() < 0.4 else None
            )
            number = 2 if submitted and rng.random() < 0.2 else 1
            choices.append(
                {
                    "id": choice_id,
                    "school_id": school.id,
                    "window_id": window.id,
                    "status": ChoiceStatus.SUBMITTED if submitted else ChoiceStatus.DRAFT,
                    "purchase_order": purchase_order,
                    "updated_at": moment,
                    "updated_by_id": submitter if submitted else editor,
                    "submitted_at": moment if submitted else None,
                    "version": number + rng.randint(0, 2) if submitted else rng.randint(1, 4),
                }
            )
            if submitted:
                for version in range(1, number + 1):
                    # A resubmission: the school changed its mind about one service.
                    kept = frozen if version == number else _one_fewer(frozen)
                    submission_id = (
                        next_submission + len(submissions) + totals["buyback_submissions"]
                    )
                    answers.extend(submission_answers(submission_id, kept))
                    submissions.append(
                        {
                            "id": submission_id,
                            "choice_id": choice_id,
                            "number": version,
                            "submission_key": f"scale-{choice_id}-{version}",
                            "submitted_at": moment - timedelta(days=number - version),
                            "submitted_by_id": submitter,
                            "purchase_order": purchase_order,
                            "lines": kept,
                            "net_pence": sum(line["net_pence"] for line in kept),
                            "vat_pence": sum(line["vat_pence"] for line in kept),
                        }
                    )
        if len(lines) >= BATCH * 4:
            flush()
    flush()
    # What each generated traded service costs to deliver: most pay their way, some do not.
    # At ten times the largest council a service can take more than the column holds.
    costs = [
        {
            "id": offer.id,
            "delivery_cost_pence": min(
                round(max(income[offer.id], 500_000) * rng.uniform(0.75, 1.3)), MAX_PENCE
            ),
        }
        for offer in offers
        if offer.id in run.generated_offers
    ]
    if costs:
        session.execute(update(ServiceOffer), costs)
    run.done("buy-back", **totals)


def _quantity(rng: random.Random, rule: PriceRule, pupils: int) -> int:
    if rule.pack_size is not None:
        return rng.randint(1, 3)
    if rule.unit in ("employee", "post"):
        return max(5, pupils // rng.randint(10, 16))  # roughly the school's staff
    return rng.choice([1, 1, 2, 3, 4, 5, 6, 8, 10, 12])


def _one_fewer(frozen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines as first submitted: one service bought that the school later dropped, or
    the other way round."""
    if not frozen:
        return frozen
    earlier = [dict(line) for line in frozen]
    changed = earlier[len(earlier) // 2]
    if changed["buying"]:
        changed.update(buying=False, option_id=None, option=None, unit=None)
        changed.update(net_pence=0, vat_pence=0)
    return earlier


def _first_year_windows(run: Run) -> None:
    """The year before the demo's: both cohorts' windows, long closed."""
    year = YEARS[0]
    if run.session.scalar(select(func.count(BuybackWindow.id)).where(BuybackWindow.year == year)):
        return

    def at(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=LONDON)

    run.session.add_all(
        [
            BuybackWindow(
                year=year,
                cohort=Cohort.MAINTAINED,
                opens_at=at(year - 1, 1, 6, 9),
                closes_at=at(year - 1, 3, 3, 17),
                created_at=at(year - 2, 12, 1, 9),
            ),
            BuybackWindow(
                year=year,
                cohort=Cohort.ACADEMIES,
                opens_at=at(year - 1, 5, 1, 9),
                closes_at=at(year - 1, 6, 30, 17),
                created_at=at(year - 2, 12, 1, 9),
            ),
        ]
    )
    run.session.flush()
