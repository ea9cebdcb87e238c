"""The council's decisions on supply-cover claims: the queue, a claim's page, and approving,
part-approving or refusing.

An approval never takes a school's approved total over its allocation, however many
administrators approve at once: the allocation's ``approved_pence`` is raised by one
conditional UPDATE that matches no row if the amount would not fit, checked by its row
count (on PostgreSQL the second of two UPDATEs of one row waits for the first and then
re-reads the row, so the condition sees the first approval).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from portal import audit
from portal.clock import utcnow
from portal.db import db
from portal.models import (
    Booking,
    ClaimStatus,
    CourseSession,
    FundAllocation,
    SupplyClaim,
    SupplyFund,
    User,
)
from portal.pricing import format_pence
from portal.training import claim_emails


def rate_cap_pence(fund: SupplyFund, half_days: int) -> int:
    """The most the fund's rates pay for ``half_days`` of cover: whole days at the daily
    rate, an odd half-day at the half-day rate."""
    days, half = divmod(half_days, 2)
    return days * fund.daily_rate_pence + half * fund.half_day_rate_pence


def days_text(half_days: int) -> str:
    """``3`` as "1.5 days", ``1`` as "half a day"."""
    if half_days == 1:
        return "half a day"
    days, half = divmod(half_days, 2)
    return f"{days}{'.5' if half else ''} day{'' if half_days == 2 else 's'}"


def queue(fund: SupplyFund, status: ClaimStatus | None) -> list[SupplyClaim]:
    """The fund's claims (those with ``status``, or all), oldest first: the order they wait."""
    query = (
        select(SupplyClaim)
        .where(SupplyClaim.fund_id == fund.id)
        .options(
            joinedload(SupplyClaim.school),
            joinedload(SupplyClaim.booking)
            .joinedload(Booking.session)
            .joinedload(CourseSession.course),
        )
        .order_by(SupplyClaim.created_at, SupplyClaim.id)
    )
    if status is not None:
        query = query.where(SupplyClaim.status == status)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class ClaimPage:
    claim: SupplyClaim
    allocation: FundAllocation | None
    rate_cap_pence: int

    @property
    def most_approvable_pence(self) -> int:
        """The claimed cost, capped by the rates (the allocation is checked when approved)."""
        return min(self.claim.cost_pence, self.rate_cap_pence)


@dataclass(frozen=True)
class Waiting:
    """A fund with claims waiting for a decision, and how many."""

    fund_id: int
    fund_name: str
    count: int


def waiting_by_fund() -> list[Waiting]:
    """Every fund's claims submitted and not yet decided, counted in one statement, the fund
    with the oldest waiting claim first."""
    rows = db.session.execute(
        select(SupplyFund.id, SupplyFund.name, func.count(SupplyClaim.id))
        .join(SupplyClaim, SupplyClaim.fund_id == SupplyFund.id)
        .where(SupplyClaim.status == ClaimStatus.SUBMITTED)
        .group_by(SupplyFund.id, SupplyFund.name)
        .order_by(func.min(SupplyClaim.id))
    ).all()
    return [Waiting(fund_id, name, int(count)) for fund_id, name, count in rows]


def claim_page(claim: SupplyClaim) -> ClaimPage:
    allocation = db.session.scalars(
        select(FundAllocation).where(
            FundAllocation.fund_id == claim.fund_id, FundAllocation.school_id == claim.school_id
        )
    ).one_or_none()
    return ClaimPage(claim, allocation, rate_cap_pence(claim.fund, claim.half_days))


class Verdict(enum.StrEnum):
    APPROVE = "approve"
    PART_APPROVE = "part_approve"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    # For a part-approval: the amount approved.
    amount_pence: int | None
    reason: str


@dataclass(frozen=True)
class Decided:
    """What happened: the claim decided, or errors beside the fields (the claim unchanged)."""

    claim: SupplyClaim
    errors: dict[str, str]
    # Decided by someone else meanwhile: nothing was changed.
    already: bool = False


def _amount(page: ClaimPage, decision: Decision) -> tuple[int, dict[str, str]]:
    claim = page.claim
    if decision.verdict is Verdict.REFUSE:
        if not decision.reason:
            return 0, {"reason": "Enter why the claim is refused"}
        return 0, {}
    if decision.verdict is Verdict.APPROVE:
        return page.most_approvable_pence, {}
    amount = decision.amount_pence
    errors = {}
    if amount is None:
        errors["amount"] = "Enter the amount approved"
    elif amount >= claim.cost_pence:
        errors["amount"] = (
            f"A part approval must be less than the {format_pence(claim.cost_pence)} claimed"
        )
    elif amount > page.rate_cap_pence:
        errors["amount"] = (
            f"The fund's rates allow at most {format_pence(page.rate_cap_pence)} for "
            f"{days_text(claim.half_days)}"
        )
    elif amount == 0:
        errors["amount"] = "Enter an amount more than £0.00, or refuse the claim"
    if not decision.reason:
        errors["reason"] = "Enter why only part of the claim is approved"
    return amount or 0, errors


def decide(claim: SupplyClaim, decision: Decision, actor: User) -> Decided:
    """Approve, part-approve or refuse a claim waiting for a decision."""
    page = claim_page(claim)
    amount, errors = _amount(page, decision)
    if errors:
        return Decided(claim, errors)
    if decision.verdict is Verdict.REFUSE:
        status = ClaimStatus.REFUSED
    elif amount < claim.cost_pence:
        # Approving a claim above the rates approves the rates' amount: part of it.
        status = ClaimStatus.PART_APPROVED
    else:
        status = ClaimStatus.APPROVED
    reason = decision.reason or (
        f"Capped at the fund's rates for {days_text(claim.half_days)}"
        if status is ClaimStatus.PART_APPROVED
        else None
    )
    claim_id, fund_id, school_id = claim.id, claim.fund_id, claim.school_id
    # The claim changes only if it still waits: a second decision (another administrator,
    # the form sent twice) matches no row.
    changed = db.session.execute(
        update(SupplyClaim)
        .where(SupplyClaim.id == claim_id, SupplyClaim.status == ClaimStatus.SUBMITTED)
        .values(
            status=status,
            approved_pence=None if status is ClaimStatus.REFUSED else amount,
            decision_reason=reason,
            decided_by_id=actor.id,
            decided_at=utcnow(),
            version=SupplyClaim.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(claim)
        return Decided(claim, {}, already=True)
    if amount and not _raise_approved(fund_id, school_id, amount):
        db.session.rollback()
        db.session.refresh(claim)
        remaining = claim_page(claim).allocation
        left = remaining.remaining_pence if remaining is not None else 0
        return Decided(
            claim,
            {
                "verdict": f"{format_pence(amount)} is more than the school has left of its "
                f"allocation: {format_pence(left)}. Part-approve at most that, or refuse the claim"
            },
        )
    db.session.refresh(claim)
    audit.record(
        "training.claim_decided",
        actor=actor,
        subject=claim,
        status=status.value,
        approved_pence=claim.approved_pence,
    )
    claim_emails.claim_decided(claim)
    db.session.commit()
    return Decided(claim, {})


def _raise_approved(fund_id: int, school_id: int, amount: int) -> bool:
    """Add ``amount`` to the school's approved total if it fits in the allocation."""
    raised = db.session.execute(
        update(FundAllocation)
        .where(
            FundAllocation.fund_id == fund_id,
            FundAllocation.school_id == school_id,
            FundAllocation.approved_pence + amount <= FundAllocation.amount_pence,
        )
        .values(approved_pence=FundAllocation.approved_pence + amount)
        .execution_options(synchronize_session=False)
    )
    return raised.rowcount == 1
