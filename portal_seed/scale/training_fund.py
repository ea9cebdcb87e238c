"""Supply cover at scale: a countywide fund for the year, allocated to every open school by
the formula (adding up to its total exactly), and schools' claims on it in every state.

Claims are decided in the order they were made, each approved for no more than the fund's
rate for the cover and the school's allocation left, as the portal's own decisions are; the
paid ones go out in a batch a month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select

from portal import clock
from portal.models import (
    MAX_TRAINING_PENCE,
    ClaimStatus,
    FundAllocation,
    FundEligibility,
    FundStatus,
    PaymentBatch,
    School,
    SchoolRoll,
    SchoolStatus,
    SupplyClaim,
    SupplyFund,
    User,
    fund_course,
)
from portal_seed.allocation import fund_shares
from portal_seed.data_files import read_json
from portal_seed.scale.bulk import Run
from portal_seed.services import LAST_YEAR

_TABLES = read_json("scale_training.json")
DAILY_RATE, HALF_DAY_RATE, LUMP_SUM = 18_000, 9_500, 5_000


class Attended(NamedTuple):
    """A place attended on a course the fund covers: what a claim is for."""

    booking: dict[str, Any]
    session: dict[str, Any]
    course: dict[str, Any]


def add_fund(run: Run, courses: list[dict[str, Any]], attended: list[Attended]) -> None:
    session = run.session
    admin = session.scalar(select(User.id).where(User.email == "admin@council.example"))
    pupils = _pupils(run)
    opened = min(clock.from_london(date(LAST_YEAR, 9, 1), "09:00"), run.today - timedelta(days=30))
    fund_id = run.next_id(SupplyFund)
    total = min(MAX_TRAINING_PENCE, len(pupils) * 25_000)
    fund = {
        "id": fund_id,
        "name": f"Countywide supply cover for integrated working "
        f"{clock.financial_year_label(LAST_YEAR)}",
        "total_pence": total,
        "covers_from": date(LAST_YEAR, 4, 1),
        "covers_to": date(LAST_YEAR + 1, 3, 31),
        "claims_close_on": date(LAST_YEAR + 1, 4, 30),
        "daily_rate_pence": DAILY_RATE,
        "half_day_rate_pence": HALF_DAY_RATE,
        "eligibility": FundEligibility.ALL_SCHOOLS,
        "lump_sum_pence": LUMP_SUM,
        "roll_year": LAST_YEAR,
        "status": FundStatus.ALLOCATED,
        "created_by_id": admin,
        "created_at": opened - timedelta(days=7),
        "allocated_at": opened,
        "version": 1,
    }
    run.insert(SupplyFund, [fund])
    run.insert(fund_course, ({"fund_id": fund_id, "course_id": c["id"]} for c in courses))
    allocations = {
        school_id: {
            "fund_id": fund_id,
            "school_id": school_id,
            "pupils": share.pupils,
            "lump_sum_pence": share.lump_sum_pence,
            "exact_pupil_share_micropence": share.exact_pupil_share_micropence,
            "pupil_share_pence": share.pupil_share_pence,
            "amount_pence": share.amount_pence,
            "approved_pence": 0,
            "paid_pence": 0,
        }
        for school_id, share in fund_shares(total, LUMP_SUM, pupils).items()
    }
    claims, batches = _claims(run, fund, attended, allocations, admin)
    run.insert(FundAllocation, allocations.values())
    run.insert(PaymentBatch, batches)
    run.insert(SupplyClaim, claims)
    run.done(
        "supply cover",
        supply_funds=1,
        fund_allocations=len(allocations),
        supply_claims=len(claims),
        payment_batches=len(batches),
    )


def _pupils(run: Run) -> dict[int, int]:
    """Every open school's pupils on roll in the fund's year (its current figure if none)."""
    rolls = dict(
        run.session.execute(
            select(SchoolRoll.school_id, SchoolRoll.pupils_on_roll).where(
                SchoolRoll.year == LAST_YEAR
            )
        ).all()
    )
    return {
        school_id: rolls.get(school_id, pupils)
        for school_id, pupils in run.session.execute(
            select(School.id, School.pupils_on_roll)
            .where(School.status == SchoolStatus.OPEN)
            .order_by(School.id)
        )
    }


def _claims(
    run: Run,
    fund: dict[str, Any],
    attended: list[Attended],
    allocations: dict[int, dict[str, Any]],
    admin: int | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = run.rng
    heads = {school_id: people[0] for school_id, people in run.school_people.items()}
    eligible = []
    for place in attended:
        held = clock.today_in_london(place.session["starts_at"])
        made = max(place.session["ends_at"], fund["allocated_at"]) + timedelta(
            days=rng.randint(2, 40)
        )
        if fund["covers_from"] <= held <= fund["covers_to"] and made < run.today:
            eligible.append((made, place))
    chosen = rng.sample(eligible, min(run.plan.supply_claims, len(eligible)))
    chosen.sort(key=lambda pair: (pair[0], pair[1].booking["id"]))
    first_id = run.next_id(SupplyClaim)
    first_batch = run.next_id(PaymentBatch)
    claims: list[dict[str, Any]] = []
    batches: dict[tuple[int, int], dict[str, Any]] = {}
    for number, (made, place) in enumerate(chosen):
        booking = place.booking
        half_days = 2 if place.course["duration_minutes"] > 200 else 1
        most = DAILY_RATE * (half_days // 2) + HALF_DAY_RATE * (half_days % 2)
        cost = max(1_000, most + rng.randint(-2_500, 2_000))
        agency = rng.choice(_TABLES["agencies"])
        claim_id = first_id + number
        claim = {
            "id": claim_id,
            "fund_id": fund["id"],
            "school_id": booking["school_id"],
            "booking_id": booking["id"],
            "half_days": half_days,
            "cost_pence": cost,
            "agency_reference": f"{agency} {rng.randint(10_000, 99_999)}",
            "evidence_filename": f"invoice-{claim_id}.pdf",
            "evidence_type": "application/pdf",
            "evidence_bytes": rng.randint(30_000, 900_000),
            # Not written: the generated evidence is named, not kept.
            "evidence_path": f"training/evidence/scale/{claim_id}.pdf",
            "status": ClaimStatus.SUBMITTED,
            "approved_pence": None,
            "decision_reason": None,
            "claimed_by_id": heads.get(booking["school_id"]),
            "created_at": made,
            "decided_by_id": None,
            "decided_at": None,
            "payment_batch_id": None,
            "submission_key": None,
            "version": 1,
        }
        claims.append(claim)
        decided = made + timedelta(days=rng.randint(1, 12))
        fate = rng.random()
        if decided >= run.today or fate < 0.2:
            continue  # waiting for a decision
        allocation = allocations[booking["school_id"]]
        left = allocation["amount_pence"] - allocation["approved_pence"]
        approved = min(cost, most, left)
        claim |= {"decided_by_id": admin, "decided_at": decided, "version": 2}
        if fate < 0.28 or approved <= 0:
            reason = rng.choice(_TABLES["refusals"]) if approved > 0 else None
            claim |= {
                "status": ClaimStatus.REFUSED,
                "approved_pence": 0,
                "decision_reason": reason or "The school's allocation has been claimed in full.",
            }
            continue
        claim |= {
            "status": ClaimStatus.APPROVED if approved == cost else ClaimStatus.PART_APPROVED,
            "approved_pence": approved,
            "decision_reason": None
            if approved == cost
            else "Paid up to the fund's rate and the school's allocation left.",
        }
        allocation["approved_pence"] += approved
        batch_day = _first_of_next_month(decided)
        if batch_day + timedelta(days=5) < run.today and rng.random() < 0.8:
            batch = _batch(batches, batch_day, first_batch, fund["id"], admin)
            batch["claim_count"] += 1
            batch["total_pence"] += approved
            claim |= {"status": ClaimStatus.PAID, "payment_batch_id": batch["id"], "version": 3}
            allocation["paid_pence"] += approved
    return claims, list(batches.values())


def _first_of_next_month(moment: datetime) -> datetime:
    local = moment.astimezone(clock.LONDON)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return clock.from_london(date(year, month, 1), "10:00")


def _batch(
    batches: dict[tuple[int, int], dict[str, Any]],
    day: datetime,
    first_id: int,
    fund_id: int,
    admin: int | None,
) -> dict[str, Any]:
    key = (day.year, day.month)
    if key not in batches:
        batch_id = first_id + len(batches)
        batches[key] = {
            "id": batch_id,
            "fund_id": fund_id,
            "reference": f"SUPPLY-{day.year}-{day.month:02d}-{batch_id}",
            "claim_count": 0,
            "total_pence": 0,
            "created_by_id": admin,
            "created_at": day,
            "paid_at": day + timedelta(days=5),
            "paid_by_id": admin,
        }
    return batches[key]
