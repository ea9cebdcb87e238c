"""Supply-cover funds: setting one up, changing it while it is a draft, and the list and page
the council administrators see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.db import db
from portal.models import (
    ClaimStatus,
    Course,
    CourseStatus,
    FundAllocation,
    FundEligibility,
    FundStatus,
    PaymentBatch,
    SupplyClaim,
    SupplyFund,
    User,
)


class FundChanged(Exception):
    """The fund was changed (or confirmed) by someone else meanwhile, or is no longer a draft."""


@dataclass(frozen=True)
class FundDetails:
    """What the set-up form gives."""

    name: str
    total_pence: int
    course_ids: tuple[int, ...]
    covers_from: date
    covers_to: date
    claims_close_on: date
    daily_rate_pence: int
    half_day_rate_pence: int
    eligibility: FundEligibility
    lump_sum_pence: int
    roll_year: int


def course_choices() -> list[tuple[int, str]]:
    """The courses a fund can cover: every course not withdrawn, by title."""
    rows = db.session.execute(
        select(Course.id, Course.title)
        .where(Course.status != CourseStatus.WITHDRAWN)
        .order_by(Course.title, Course.id)
    ).all()
    return [(course_id, title) for course_id, title in rows]


def _courses(ids: tuple[int, ...]) -> list[Course]:
    if not ids:
        return []
    return list(db.session.scalars(select(Course).where(Course.id.in_(ids)).order_by(Course.title)))


def _apply(fund: SupplyFund, details: FundDetails) -> None:
    fund.name = details.name
    fund.total_pence = details.total_pence
    fund.covers_from = details.covers_from
    fund.covers_to = details.covers_to
    fund.claims_close_on = details.claims_close_on
    fund.daily_rate_pence = details.daily_rate_pence
    fund.half_day_rate_pence = details.half_day_rate_pence
    fund.eligibility = details.eligibility
    fund.lump_sum_pence = details.lump_sum_pence
    fund.roll_year = details.roll_year
    fund.courses = _courses(details.course_ids)


def create_fund(details: FundDetails, actor: User) -> SupplyFund:
    fund = SupplyFund(created_by_id=actor.id, status=FundStatus.DRAFT)
    _apply(fund, details)
    db.session.add(fund)
    db.session.flush()
    audit.record("training.fund_created", actor=actor, subject=fund, name=fund.name)
    db.session.commit()
    return fund


def update_fund(fund: SupplyFund, version: int, details: FundDetails, actor: User) -> None:
    """Change a draft fund, as the administrator saw it (``version``).

    Raises FundChanged if it is no longer a draft or was changed meanwhile.
    """
    if fund.status is not FundStatus.DRAFT or fund.version != version:
        raise FundChanged
    _apply(fund, details)
    audit.record("training.fund_changed", actor=actor, subject=fund, name=fund.name)
    try:
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise FundChanged from error


@dataclass(frozen=True)
class FundRow:
    fund: SupplyFund
    schools: int
    allocated_pence: int
    approved_pence: int
    paid_pence: int
    waiting: int

    @property
    def remaining_pence(self) -> int:
        return self.allocated_pence - self.approved_pence


def fund_rows(fund_id: int | None = None) -> list[FundRow]:
    """Every fund (or the one), newest first, with its allocations' figures and the claims
    waiting for a decision."""
    totals = (
        select(
            FundAllocation.fund_id,
            func.count().label("schools"),
            func.coalesce(func.sum(FundAllocation.amount_pence), 0).label("allocated"),
            func.coalesce(func.sum(FundAllocation.approved_pence), 0).label("approved"),
            func.coalesce(func.sum(FundAllocation.paid_pence), 0).label("paid"),
        )
        .group_by(FundAllocation.fund_id)
        .subquery()
    )
    waiting = (
        select(SupplyClaim.fund_id, func.count().label("waiting"))
        .where(SupplyClaim.status == ClaimStatus.SUBMITTED)
        .group_by(SupplyClaim.fund_id)
        .subquery()
    )
    query = (
        select(
            SupplyFund,
            totals.c.schools,
            totals.c.allocated,
            totals.c.approved,
            totals.c.paid,
            waiting.c.waiting,
        )
        .outerjoin(totals, totals.c.fund_id == SupplyFund.id)
        .outerjoin(waiting, waiting.c.fund_id == SupplyFund.id)
        .order_by(SupplyFund.created_at.desc(), SupplyFund.id.desc())
    )
    if fund_id is not None:
        query = query.where(SupplyFund.id == fund_id)
    rows = db.session.execute(query).all()
    return [
        FundRow(
            fund=fund,
            schools=schools or 0,
            allocated_pence=allocated or 0,
            approved_pence=approved or 0,
            paid_pence=paid or 0,
            waiting=count or 0,
        )
        for fund, schools, allocated, approved, paid, count in rows
    ]


def fund_row(fund: SupplyFund) -> FundRow:
    return fund_rows(fund.id)[0]


def batches_of(fund: SupplyFund) -> list[PaymentBatch]:
    return list(
        db.session.scalars(
            select(PaymentBatch)
            .where(PaymentBatch.fund_id == fund.id)
            .order_by(PaymentBatch.created_at.desc(), PaymentBatch.id.desc())
        )
    )


def unbatched(fund: SupplyFund) -> tuple[int, int]:
    """Approved claims not yet in a payment batch: how many, and their total."""
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(SupplyClaim.approved_pence), 0)).where(
            SupplyClaim.fund_id == fund.id,
            SupplyClaim.status.in_((ClaimStatus.APPROVED, ClaimStatus.PART_APPROVED)),
            SupplyClaim.payment_batch_id.is_(None),
        )
    ).one()
    return int(count), int(total)
