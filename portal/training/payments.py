"""Payment batches: a fund's approved claims exported together for the council's finance
system, then marked paid.

A batch takes every approved claim not yet in one, and its count and total are fixed when it
is made: the figures finance was sent. Claims join a batch by a conditional UPDATE (only
those still in none), so two batches made at once cannot share a claim.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit
from portal.clock import long_date, utcnow
from portal.db import db
from portal.models import (
    Booking,
    ClaimStatus,
    CourseSession,
    FundAllocation,
    PaymentBatch,
    SupplyClaim,
    SupplyFund,
    User,
)
from portal.pricing import pounds
from portal.spreadsheets import text_cell, to_csv
from portal.training.claims import session_day

APPROVED = (ClaimStatus.APPROVED, ClaimStatus.PART_APPROVED)

CSV_HEADER = (
    "School URN",
    "School",
    "Claim",
    "Booking",
    "Course",
    "Session date",
    "Amount (£)",
    "Agency reference",
)


@dataclass(frozen=True)
class BatchMade:
    batch: PaymentBatch | None
    # Why no batch was made, for the administrator.
    message: str = ""


def get_batch(batch_id: int) -> PaymentBatch | None:
    return db.session.get(PaymentBatch, batch_id)


def create_batch(fund: SupplyFund, actor: User) -> BatchMade:
    """A batch of the fund's approved claims that are in none yet."""
    claims = db.session.execute(
        select(SupplyClaim.id, SupplyClaim.approved_pence).where(
            SupplyClaim.fund_id == fund.id,
            SupplyClaim.status.in_(APPROVED),
            SupplyClaim.payment_batch_id.is_(None),
        )
    ).all()
    if not claims:
        return BatchMade(None, "There are no approved claims waiting to be paid.")
    made = db.session.scalar(
        select(func.count()).select_from(PaymentBatch).where(PaymentBatch.fund_id == fund.id)
    )
    batch = PaymentBatch(
        fund_id=fund.id,
        reference=f"SUPPLY-{fund.id}-{(made or 0) + 1:03d}",
        claim_count=len(claims),
        total_pence=sum(amount or 0 for _id, amount in claims),
        created_by_id=actor.id,
    )
    db.session.add(batch)
    try:
        db.session.flush()
    except IntegrityError:
        # Another batch of the fund was made at the same moment, with the same number.
        db.session.rollback()
        return BatchMade(None, "Another payment batch was being made. Try again.")
    joined = db.session.execute(
        update(SupplyClaim)
        .where(
            SupplyClaim.id.in_([claim_id for claim_id, _amount in claims]),
            SupplyClaim.status.in_(APPROVED),
            SupplyClaim.payment_batch_id.is_(None),
        )
        .values(payment_batch_id=batch.id, version=SupplyClaim.version + 1)
        .execution_options(synchronize_session=False)
    )
    if joined.rowcount != len(claims):
        db.session.rollback()
        return BatchMade(None, "Some of the claims were batched meanwhile. Try again.")
    audit.record(
        "training.payment_batch_made",
        actor=actor,
        subject=batch,
        reference=batch.reference,
        claims=batch.claim_count,
        total_pence=batch.total_pence,
    )
    db.session.commit()
    return BatchMade(batch)


def batch_claims(batch: PaymentBatch) -> list[SupplyClaim]:
    return list(
        db.session.scalars(
            select(SupplyClaim)
            .where(SupplyClaim.payment_batch_id == batch.id)
            .options(
                joinedload(SupplyClaim.school),
                joinedload(SupplyClaim.booking)
                .joinedload(Booking.session)
                .joinedload(CourseSession.course),
            )
            .order_by(SupplyClaim.id)
        )
    )


def batch_csv(batch: PaymentBatch) -> str:
    """A row per claim, for finance: text people typed made safe for a spreadsheet."""
    rows = [
        (
            claim.school.urn,
            text_cell(claim.school.name),
            claim.id,
            claim.booking_id,
            text_cell(claim.booking.session.course.title),
            session_day(claim.booking.session).isoformat(),
            pounds(claim.approved_pence or 0),
            text_cell(claim.agency_reference),
        )
        for claim in batch_claims(batch)
    ]
    return to_csv(CSV_HEADER, rows)


def csv_filename(batch: PaymentBatch) -> str:
    return f"{batch.reference}.csv"


def mark_paid(batch: PaymentBatch, actor: User) -> bool:
    """Mark the batch and its claims paid, and add them to each school's paid total; False
    if it was marked paid already."""
    marked = db.session.execute(
        update(PaymentBatch)
        .where(PaymentBatch.id == batch.id, PaymentBatch.paid_at.is_(None))
        .values(paid_at=utcnow(), paid_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:
        db.session.rollback()
        return False
    claims = batch_claims(batch)
    paid: defaultdict[int, int] = defaultdict(int)
    for claim in claims:
        paid[claim.school_id] += claim.approved_pence or 0
    db.session.execute(
        update(SupplyClaim)
        .where(SupplyClaim.payment_batch_id == batch.id)
        .values(status=ClaimStatus.PAID, version=SupplyClaim.version + 1)
        .execution_options(synchronize_session=False)
    )
    for school_id, pence in paid.items():
        db.session.execute(
            update(FundAllocation)
            .where(FundAllocation.fund_id == batch.fund_id, FundAllocation.school_id == school_id)
            .values(paid_pence=FundAllocation.paid_pence + pence)
            .execution_options(synchronize_session=False)
        )
    audit.record(
        "training.payment_batch_paid", actor=actor, subject=batch, reference=batch.reference
    )
    db.session.commit()
    db.session.refresh(batch)
    return True


def paid_on(batch: PaymentBatch) -> str:
    return long_date(batch.paid_at.date()) if batch.paid_at else ""
